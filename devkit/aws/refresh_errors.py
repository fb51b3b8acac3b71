"""The errors the instance-refresh emulation answers, in the autoscaling query protocol.

This module's name must not start with ``moto``: moto derives the service whose
error model describes an exception from the exception's module name
(``moto.<service>...``), and fails on a module such as ``moto_refresh``.
"""

from __future__ import annotations

import uuid
from typing import Any
from xml.sax.saxutils import escape

from moto.core.exceptions import ServiceException
from moto.core.utils import get_service_model
from werkzeug.exceptions import HTTPException

#: HTTP status and fault side of the AWS errors that the autoscaling model does not
#: declare (common errors); any other unknown code is served as 400 Sender.
COMMON_ERRORS: dict[str, tuple[int, str]] = {
    "Throttling": (400, "Sender"),
    "ThrottlingException": (400, "Sender"),
    "RequestLimitExceeded": (400, "Sender"),
    "ValidationError": (400, "Sender"),
    "InternalFailure": (500, "Receiver"),
    "ServiceUnavailable": (503, "Receiver"),
}

_XML_NAMESPACE = "http://autoscaling.amazonaws.com/doc/2011-01-01/"


class InstanceRefreshError(ServiceException):
    """An error the autoscaling model declares; moto takes its HTTP status from the model.

    It must be a ``ServiceException`` (not moto's deprecated ``RESTError``) for moto
    to find the error shape, hence ``ResourceContention`` → HTTP 500.
    """


class _UnmodelledError(HTTPException):
    """A common AWS error (e.g. ``Throttling``) absent from the autoscaling model.

    Served as a hand-made query-protocol error document, because moto's serialiser
    would warn about the unknown shape and could only answer 400.
    """

    def __init__(self, error_code: str, message: str) -> None:
        status, fault = COMMON_ERRORS.get(error_code, (400, "Sender"))
        super().__init__()
        self.code = status
        self.error_code = error_code
        self.description = (
            f'<ErrorResponse xmlns="{_XML_NAMESPACE}"><Error><Type>{fault}</Type>'
            f"<Code>{escape(error_code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        )

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [("Content-Type", "text/xml"), ("X-Amzn-ErrorType", self.error_code)]


def _modelled_error_codes() -> frozenset[str]:
    # ErrorShape, whose error_code botocore does not declare on the Shape it types error_shapes with.
    return frozenset(getattr(shape, "error_code") for shape in get_service_model("autoscaling").error_shapes)  # noqa: B009


def make_error(error_code: str, message: str) -> Exception:
    """The exception that moto serves as the AWS error ``error_code``."""
    if error_code in _modelled_error_codes() or error_code == "ValidationError":
        return InstanceRefreshError(error_code, message)
    return _UnmodelledError(error_code, message)


def error_code_of(error: Exception) -> str:
    if isinstance(error, _UnmodelledError):
        return error.error_code
    return str(getattr(error, "code", type(error).__name__))


def not_found(group_name: str) -> InstanceRefreshError:
    return InstanceRefreshError(
        "ActiveInstanceRefreshNotFound",
        f"No in progress or pending Instance Refresh found for Auto Scaling group {group_name}",
    )


def irreversible(reason: str) -> InstanceRefreshError:
    return InstanceRefreshError("IrreversibleInstanceRefresh", f"The instance refresh cannot be rolled back: {reason}")
