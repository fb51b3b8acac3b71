"""The result record: what the function answers, logs and publishes for one group.

A :class:`Draft` gathers what is known of the group while the facts are read; the
decision turns it into a :class:`Result`, once (:meth:`Draft.decided`). Outcomes,
severities and reasons are named in :mod:`auto_rollback.vocabulary`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from auto_rollback.vocabulary import Outcome, Severity


@dataclass(frozen=True)
class Draft:
    """Everything a result says about one group except what was decided: no outcome, no reason yet."""

    trigger: dict[str, Any]
    auto_scaling_group_name: str | None = None
    instance_refresh_id: str | None = None
    refresh_status: str | None = None
    dry_run: bool = False
    severity: Severity = Severity.INFO
    summary: str = ""  # one sentence for people; the reason is for machines
    details: dict[str, Any] = field(default_factory=dict)
    #: Hub mode: the member account of the group (None: the function's own account).
    account: str | None = None

    def decided(self, outcome: Outcome, reason: str, **changes: Any) -> Result:
        """The result, built when the decision is made: ``changes`` are what the decision says besides."""
        # The draft's own fields, even when ``self`` is a Result: deciding again replaces what was decided.
        known = {item.name: getattr(self, item.name) for item in fields(Draft)}
        return Result(outcome=outcome, reason=reason, **(known | changes))


@dataclass(frozen=True, kw_only=True)
class Result(Draft):
    """The decision for one group, as returned to the caller and published to SNS: a draft, decided."""

    outcome: Outcome
    reason: str

    def with_outcome(self, outcome: Outcome, reason: str, **changes: Any) -> Result:
        """What an action made of the result decided on (started, cancelled, failed, ...)."""
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
