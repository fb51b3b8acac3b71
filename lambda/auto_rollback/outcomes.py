"""The vocabulary the function answers in: outcomes, severities and the result record."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """What an invocation did for one group. The README documents each value."""

    ROLLBACK_STARTED = "ROLLBACK_STARTED"
    CANCELLED = "CANCELLED"
    ROLLBACK_UNSUPPORTED = "ROLLBACK_UNSUPPORTED"
    DRY_RUN = "DRY_RUN"
    SKIPPED = "SKIPPED"
    DEDUPLICATED = "DEDUPLICATED"
    NOTIFIED = "NOTIFIED"
    FAILED = "FAILED"


#: Outcomes that changed something (or would have, in dry run): they are published at least once.
PUBLISHED_OUTCOMES = frozenset(
    {
        Outcome.ROLLBACK_STARTED,
        Outcome.CANCELLED,
        Outcome.ROLLBACK_UNSUPPORTED,
        Outcome.DRY_RUN,
        Outcome.NOTIFIED,
        Outcome.FAILED,
    }
)


class Severity(StrEnum):
    """Lets subscribers filter notifications (SNS message attribute ``severity``)."""

    HIGH = "high"
    MEDIUM = "medium"
    INFO = "info"


@dataclass(frozen=True)
class Result:
    """The decision for one group, as returned to the caller and published to SNS."""

    outcome: Outcome
    reason: str
    trigger: dict[str, Any]
    auto_scaling_group_name: str | None = None
    instance_refresh_id: str | None = None
    refresh_status: str | None = None
    dry_run: bool = False
    severity: Severity = Severity.INFO
    summary: str = ""  # one sentence for people; ``reason`` is for machines
    details: dict[str, Any] = field(default_factory=dict)
    #: Hub mode: the member account of the group (None: the function's own account).
    account: str | None = None

    def with_outcome(self, outcome: Outcome, reason: str, **changes: Any) -> Result:
        return replace(self, outcome=outcome, reason=reason, **changes)

    def to_dict(self) -> dict[str, Any]:
        """camelCase, JSON-serialisable, the shape the README documents."""
        raw = asdict(self)
        return {
            "outcome": self.outcome.value,
            "reason": self.reason,
            "autoScalingGroupName": self.auto_scaling_group_name,
            "instanceRefreshId": self.instance_refresh_id,
            "refreshStatus": self.refresh_status,
            "dryRun": self.dry_run,
            "severity": self.severity.value,
            "summary": self.summary,
            "trigger": raw["trigger"],
            **({"details": raw["details"]} if self.details else {}),
            **({"account": self.account} if self.account else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        """Rebuild a result stored by the idempotency layer."""
        return cls(
            outcome=Outcome(data["outcome"]),
            reason=data["reason"],
            trigger=data["trigger"],
            auto_scaling_group_name=data.get("autoScalingGroupName"),
            instance_refresh_id=data.get("instanceRefreshId"),
            refresh_status=data.get("refreshStatus"),
            dry_run=bool(data.get("dryRun", False)),
            severity=Severity(data.get("severity", Severity.INFO.value)),
            summary=str(data.get("summary", "")),
            details=dict(data.get("details") or {}),
            account=data.get("account") or None,
        )
