"""SNS subscriptions that wait for confirmation, as on AWS.

moto 5.2.5 treats every subscription as confirmed: ListSubscriptionsByTopic gives an
email subscription its ARN the moment it is created. On AWS (botocore's model,
Subscribe) an HTTP/S or email endpoint must confirm first, and until then
ListSubscriptionsByTopic shows ``PendingConfirmation`` in place of its ARN, and
nothing is delivered to it. The smoke test (scripts/ops/smoke.py) tells pending
subscriptions from confirmed ones, so :func:`install` serves ListSubscriptionsByTopic
that way: a subscription with protocol ``email``, ``email-json``, ``http`` or
``https`` is pending until :func:`confirm` marks it confirmed, which stands for its
recipient following the link of AWS's confirmation message (the token is mailed,
not returned to the caller, so a test cannot call ConfirmSubscription as AWS
requires). Pages stay moto's, 100 subscriptions each, as AWS documents.

Deliberate simplifications: cross-account SQS and Lambda subscriptions (also
pending on AWS) are served confirmed, as moto does; Subscribe, ListSubscriptions and
GetSubscriptionAttributes still answer as moto does.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.sns.models import Subscription, sns_backends
from moto.sns.responses import SNSResponse

from devkit.aws.patch import install_handlers

#: Protocols whose endpoint confirms a subscription before it receives anything (Subscribe's documentation).
CONFIRMED_BY_ENDPOINT = frozenset({"email", "email-json", "http", "https"})
PENDING = "PendingConfirmation"


class SubscriptionNotFoundError(Exception):
    """:func:`confirm` found no subscription of that endpoint on that topic."""


def is_pending(subscription: Subscription) -> bool:
    return subscription.protocol in CONFIRMED_BY_ENDPOINT and not subscription.confirmed


def _listed(subscription: Subscription) -> dict[str, str]:
    return {
        "SubscriptionArn": PENDING if is_pending(subscription) else subscription.arn,
        "Owner": subscription.owner,
        "Protocol": subscription.protocol,
        "Endpoint": subscription.endpoint,
        "TopicArn": subscription.topic.arn,
    }


def list_subscriptions_by_topic(self: SNSResponse) -> ActionResult:
    subscriptions, next_token = self.backend.list_subscriptions_by_topic(
        self._get_param("TopicArn"), next_token=self._get_param("NextToken")
    )
    result: dict[str, Any] = {"Subscriptions": [_listed(item) for item in subscriptions], "NextToken": next_token}
    return ActionResult(result)


def confirm(topic_arn: str, endpoint: str) -> None:
    """The endpoint's owner confirmed its subscription to the topic."""
    account, region = topic_arn.split(":")[4], topic_arn.split(":")[3]
    backend = sns_backends[account][region]
    found = [
        item for item in backend.subscriptions.values() if item.topic.arn == topic_arn and item.endpoint == endpoint
    ]
    if not found:
        raise SubscriptionNotFoundError(f"no subscription of {endpoint!r} to {topic_arn}")
    for item in found:
        item.confirmed = True


def install() -> bool:
    """Serve ListSubscriptionsByTopic with pending confirmations (idempotent); True when this call did."""
    return install_handlers(
        SNSResponse, "_pending_subscriptions_emulation", {"list_subscriptions_by_topic": list_subscriptions_by_topic}
    )
