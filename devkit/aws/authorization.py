"""IAM authorization of assumed-role sessions, for the services a member role is used for.

moto authorizes every request, so a member role that lacks a permission the
function needs (hub and spoke versions apart, a role edited by hand) would pass
every test. :class:`AuthorizingApp` sits in front of moto's WSGI app (installed by
``aws_server``) and, for a request signed with an access key moto's STS issued
for an assumed role, to Auto Scaling, CloudWatch or the Resource Groups Tagging
API, asks the role's policies first:

* The action is ``<IAM prefix>:<Operation>`` (``autoscaling``, ``cloudwatch``,
  ``tag``). The operation comes from ``X-Amz-Target`` (JSON protocols) or the
  ``Action`` field (query protocol).
* The resource: for an Auto Scaling call that changes a group (not ``Describe*``,
  with ``AutoScalingGroupName``), the group's ARN, with the condition keys
  ``autoscaling:ResourceTag/<key>`` and ``aws:ResourceTag/<key>`` from the
  group's tags in the role's account and region (moto's Auto Scaling backend); a
  group that does not exist is ``...:autoScalingGroup:*:autoScalingGroupName/<name>``
  with no tags. CloudWatch ``ListTagsForResource`` is on its ``ResourceARN``.
  Everything else is on ``*``, as IAM has no resource for those reads.
* Global keys: ``aws:PrincipalArn`` (the role), ``aws:PrincipalAccount``,
  ``aws:PrincipalOrgID`` (the emulated organization), ``aws:ResourceAccount``,
  ``aws:ResourceOrgID``, ``aws:RequestedRegion``.
* The role's identity policies must allow (an explicit Deny wins), its
  permissions boundary too when it has one, and the session policy given to
  ``AssumeRole`` too when there was one. A role deleted since the session began
  allows nothing, nor does one deleted and re-created with the same name: on AWS a
  session belongs to the role's unique id (RoleId ``AROA...``, which a re-created
  role does not get back), as :func:`devkit.aws.sts_api.current` tells.
* Fail closed: a statement that applies to the request and that the evaluator
  does not understand (an operator other than ``StringEquals``, ``StringLike``,
  ``ArnEquals``, ``ArnLike``; a condition key this module does not provide;
  ``NotAction``, ``NotResource``...) refuses, and so does a request whose
  operation cannot be read.

A refusal is the service's own ``AccessDenied``, in the protocol the request
used, as botocore parses it: Auto Scaling (query) ``AccessDenied`` 403,
CloudWatch (JSON, query-compatible) ``AccessDenied`` 403, Tagging (JSON 1.1)
``AccessDeniedException`` 400, with AWS's message "User: <session ARN> is not
authorized to perform: <action> on resource: <arn> because no identity-based
policy allows the <action> action".

An expired session (past the ``Expiration`` STS gave it; :func:`devkit.aws.sts_api.expire`
moves it) is refused before any policy is read, as AWS authenticates before it
authorizes: ``ExpiredToken`` 403 "The security token included in the request is
expired" from Auto Scaling, CloudWatch and STS (query protocol: an AssumeRole made
with an expired session), ``ExpiredTokenException`` 400 from the Tagging API (JSON).

Requests with any other key (moto's default credentials, keys of IAM users) and
requests to every other service are passed to moto untouched (STS's AssumeRole
decides itself whether a live session may assume, in devkit.aws.sts_api).
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from moto.autoscaling.models import autoscaling_backends
from moto.core.utils import utcnow
from moto.iam.exceptions import NotFoundException
from moto.iam.models import get_account_id_from, iam_backends
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition

from devkit.aws import organization, sts_api
from devkit.aws.rate_model import Environ, StartResponse, WsgiApp
from devkit.aws.wire_errors import error_document
from devkit.template import policy

#: SigV4 signing name -> (IAM action prefix, wire_errors service key).
SERVICES: dict[str, tuple[str, str]] = {
    "autoscaling": ("autoscaling", "autoscaling"),
    "monitoring": ("cloudwatch", "cloudwatch"),
    "tagging": ("tag", "tagging"),
}
#: The refusal each service answers with (code, HTTP status), keyed as wire_errors keys services.
ACCESS_DENIED: dict[str, tuple[str, int]] = {
    "autoscaling": ("AccessDenied", 403),
    "cloudwatch": ("AccessDenied", 403),
    "tagging": ("AccessDeniedException", 400),
}
#: What each service answers a call signed by an expired session with (code, HTTP status).
EXPIRED_TOKEN: dict[str, tuple[str, int]] = {
    "autoscaling": ("ExpiredToken", 403),
    "cloudwatch": ("ExpiredToken", 403),
    "tagging": ("ExpiredTokenException", 400),
    "sts": ("ExpiredToken", 403),
}
EXPIRED_MESSAGE = "The security token included in the request is expired"
#: CloudWatch's query protocol, for a client that speaks it (botocore's model still lists it).
_CLOUDWATCH_XML_NAMESPACE = "http://monitoring.amazonaws.com/doc/2010-08-01/"
_STS_XML_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
#: The condition operators devkit.template.policy evaluates.
UNDERSTOOD_OPERATORS = frozenset({"StringEquals", "StringLike", "ArnEquals", "ArnLike"})
_RESOURCE_TAG_PREFIXES = ("aws:resourcetag/", "autoscaling:resourcetag/")


class _NotUnderstood(Exception):
    """A policy or request this module does not evaluate: the answer is a refusal."""


@dataclass(frozen=True)
class Session:
    """An assumed-role session, as moto's STS issued it."""

    account: str
    partition: str
    role_arn: str
    #: arn:aws:sts::<account>:assumed-role/<role>/<session>, as AWS prints the caller.
    arn: str
    #: The inline session policy given to AssumeRole, if any.
    session_policy: str | None
    access_key: str = ""
    #: When STS's credentials stop working (naive UTC, as moto stamps it); None if moto kept no session.
    expiration: datetime | None = None

    @property
    def expired(self) -> bool:
        return self.expiration is not None and self.expiration <= utcnow()


def session_of(access_key: str, region: str) -> Session | None:
    """The assumed-role session ``access_key`` belongs to, or None for any other key."""
    # As moto routes the request (and as sts_api finds AssumeRole's caller): by the account holding the key.
    account, partition = get_account_id_from(access_key), get_partition(region)
    key = iam_backends[account][partition].access_keys.get(access_key)
    role_arn = getattr(key, "role_arn", None) if key is not None else None
    if not role_arn:
        return None
    session = sts_backends[account][partition].get_assumed_role_from_access_key(access_key)
    if session is None:
        return Session(account, partition, role_arn, role_arn, None, access_key)
    return Session(account, partition, role_arn, session.arn, session.policy, access_key, session.expiration)


@dataclass(frozen=True)
class Request:
    """What IAM evaluates for one request."""

    action: str
    resource: str
    #: Condition keys, lower-cased (IAM compares key names case-insensitively).
    context: dict[str, str]
    #: Lower-cased key prefixes the request vouches for even when absent (a group's tags).
    known_prefixes: tuple[str, ...] = ()


class _Context(dict[str, str]):
    """The request's condition keys: an absent key it vouches for is None, any other key fails closed."""

    def __init__(self, values: Mapping[str, str], known_prefixes: Iterable[str]) -> None:
        super().__init__(values)
        self._prefixes = tuple(known_prefixes)

    def get(self, key: str, default: Any = None) -> Any:
        lowered = key.lower()
        if lowered in self:
            return self[lowered]
        if lowered.startswith(self._prefixes):
            return default
        raise _NotUnderstood(f"condition key {key}")


def _check_understood(statements: Iterable[policy.Statement], action: str, resource: str) -> None:
    # policy.Statement reads a missing key as "condition false" before it looks at the operator, which for a
    # negated operator (StringNotEquals...) would drop a Deny that AWS applies: refuse those operators first.
    for statement in statements:
        if statement.matches_action(action) and statement.matches_resource(resource):
            unknown = set(statement.conditions) - UNDERSTOOD_OPERATORS
            if unknown:
                raise _NotUnderstood(f"condition operator {sorted(unknown)[0]}")


def _parsed(document: str) -> list[policy.Statement]:
    raw = json.loads(document)["Statement"]
    return [policy.Statement.from_json(item) for item in (raw if isinstance(raw, list) else [raw])]


def refusal_reason(session: Session, request: Request) -> str | None:
    """Why IAM refuses ``request`` to ``session`` (the tail of AWS's message), or None when it allows it."""
    no_identity = f"because no identity-based policy allows the {request.action} action"
    context = _Context(request.context, request.known_prefixes)
    layers: list[tuple[list[policy.Statement], str]] = []
    try:
        if not sts_api.current(session.access_key, session.role_arn, session.partition):
            return (
                no_identity  # the role was deleted (and maybe re-created, a new principal): its sessions keep nothing
            )
        found = organization.role_policies(session.role_arn)
        if found is None:
            return no_identity
        identity, boundary = found
        layers.append((identity, "identity-based policy"))
        if boundary is not None:
            layers.append((boundary, "permissions boundary"))
        if session.session_policy:
            layers.append((_parsed(session.session_policy), "session policy"))
        for statements, kind in layers:
            _check_understood(statements, request.action, request.resource)
            verdict = policy.decision(statements, request.action, request.resource, context)
            if verdict == policy.EXPLICIT_DENY:
                article = "an" if kind.startswith("identity") else "a"
                return f"with an explicit deny in {article} {kind}"
            if verdict != policy.ALLOWED:
                return f"because no {kind} allows the {request.action} action"
    except (_NotUnderstood, NotImplementedError, NotFoundException, ValueError, KeyError, TypeError):
        # Fail closed: AWS may well refuse what this evaluator cannot read (or a managed policy gone).
        return no_identity
    return None


# --------------------------------------------------------------------------- reading requests


def _global_context(session: Session, region: str) -> dict[str, str]:
    caller = organization.Caller(session.account, session.role_arn)
    context = {**caller.context(), "aws:resourceaccount": session.account, "aws:requestedregion": region}
    resource_org = organization.organization_of(session.account)
    if resource_org is not None:
        context["aws:resourceorgid"] = resource_org
    return context


def _group_resource(session: Session, region: str, group_name: str) -> tuple[str, dict[str, str]]:
    """The group's ARN and its tags as condition keys, read in the session's account and region."""
    group = autoscaling_backends[session.account][region].autoscaling_groups.get(group_name)
    if group is None:
        arn = f"arn:{session.partition}:autoscaling:{region}:{session.account}:autoScalingGroup:*:"
        return f"{arn}autoScalingGroupName/{group_name}", {}
    tags: dict[str, str] = {}
    for tag in group.tags:
        for prefix in _RESOURCE_TAG_PREFIXES:
            tags[f"{prefix}{str(tag['Key']).lower()}"] = str(tag.get("Value", ""))
    return str(group.arn), tags


def authorization_request(
    session: Session, signing_name: str, region: str, operation: str, params: Mapping[str, Any]
) -> Request:
    """The action, resource and condition keys IAM weighs for ``operation`` of the service ``signing_name``."""
    prefix, _ = SERVICES[signing_name]
    action = f"{prefix}:{operation}"
    context = _global_context(session, region)
    group_name = params.get("AutoScalingGroupName")
    if prefix == "autoscaling" and isinstance(group_name, str) and not operation.startswith("Describe"):
        arn, tags = _group_resource(session, region, group_name)
        return Request(action, arn, {**context, **tags}, _RESOURCE_TAG_PREFIXES)
    resource_arn = params.get("ResourceARN")
    if prefix == "cloudwatch" and operation == "ListTagsForResource" and isinstance(resource_arn, str):
        # The alarm's own tags would be aws:ResourceTag keys on AWS: not provided here, so they fail closed.
        return Request(action, resource_arn, context)
    # A read on "*" carries no resource tags on AWS either: such a key is simply absent.
    return Request(action, "*", context, _RESOURCE_TAG_PREFIXES)


@dataclass(frozen=True)
class _Wire:
    signing_name: str
    region: str
    #: "json" or "query".
    protocol: str
    operation: str | None
    params: dict[str, Any]


def _credential_scope(environ: Environ) -> list[str]:
    authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
    credential = authorization.partition("Credential=")[2].partition(",")[0]
    if not credential:
        credential = (parse_qs(str(environ.get("QUERY_STRING", ""))).get("X-Amz-Credential") or [""])[0]
    return credential.strip().split("/")


def _read_body(environ: Environ) -> bytes:
    """The request body, put back for moto."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body: bytes = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _read(environ: Environ, signing_name: str, region: str) -> _Wire:
    """The operation and parameters of a signed request to a service this module guards."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    body = _read_body(environ)
    if target:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        operation = target.rpartition(".")[2] or None
        return _Wire(signing_name, region, "json", operation, params if isinstance(params, dict) else {})
    fields = parse_qs(environ.get("QUERY_STRING", ""))
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        fields.update(parse_qs(body.decode(errors="replace")))
    flat = {key: values[0] for key, values in fields.items() if values}
    operation = flat.get("Action") or None
    protocol = "query" if operation or signing_name == "autoscaling" else "json"
    return _Wire(signing_name, region, protocol, operation, flat)


def _xml_error(namespace: str, code: str, status: int, message: str) -> tuple[int, dict[str, str], bytes]:
    request_id = str(uuid.uuid4())
    body = (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    return status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body


def _error(wire: _Wire, code: str, status: int, message: str) -> tuple[int, dict[str, str], bytes]:
    service = SERVICES[wire.signing_name][1]
    if service == "cloudwatch" and wire.protocol == "query":
        return _xml_error(_CLOUDWATCH_XML_NAMESPACE, code, status, message)
    shown = escape(message) if service == "autoscaling" else message
    return error_document(service, code, status, shown)


def _denied(wire: _Wire, message: str) -> tuple[int, dict[str, str], bytes]:
    code, status = ACCESS_DENIED[SERVICES[wire.signing_name][1]]
    return _error(wire, code, status, message)


def refusal(environ: Environ) -> tuple[int, dict[str, str], bytes] | None:
    """The ExpiredToken or AccessDenied answer for a request AWS would refuse, or None to hand it to moto."""
    scope = _credential_scope(environ)
    if len(scope) != 5 or scope[4] != "aws4_request" or (scope[3] not in SERVICES and scope[3] != "sts"):
        return None
    session = session_of(scope[0], scope[2])
    if session is None:
        return None  # moto's default credentials, an IAM user's key: left to moto
    if scope[3] == "sts":
        if session.expired:
            return _xml_error(_STS_XML_NAMESPACE, *EXPIRED_TOKEN["sts"], EXPIRED_MESSAGE)
        return None
    wire = _read(environ, signing_name=scope[3], region=scope[2])
    if session.expired:
        return _error(wire, *EXPIRED_TOKEN[SERVICES[wire.signing_name][1]], EXPIRED_MESSAGE)
    return _authorized(session, wire)


def _authorized(session: Session, wire: _Wire) -> tuple[int, dict[str, str], bytes] | None:
    """AccessDenied where the session's policies refuse the request, else None."""
    prefix = SERVICES[wire.signing_name][0]
    if wire.operation is None:
        action = f"{prefix}:*"
        return _denied(wire, f"User: {session.arn} is not authorized to perform: {action} on resource: *")
    request = authorization_request(session, wire.signing_name, wire.region, wire.operation, wire.params)
    reason = refusal_reason(session, request)
    if reason is None:
        return None
    message = (
        f"User: {session.arn} is not authorized to perform: {request.action} on resource: {request.resource} {reason}"
    )
    return _denied(wire, message)


class AuthorizingApp:
    """WSGI middleware: answers AccessDenied where IAM would, else hands the request to moto."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        denied = refusal(environ)
        if denied is None:
            return self._app(environ, start_response)
        status, headers, body = denied
        headers["Content-Length"] = str(len(body))
        start_response(f"{status} {HTTPStatus(status).phrase}", list(headers.items()))
        return [body]
