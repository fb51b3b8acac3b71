"""What the demo shows: the timeline, the email and chat text operators receive, the summary."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from devkit.scenarios.harness import Published

SETUP = "setup"
CLOCK_WIDTH = len("00:00.000")
SCENE_WIDTH = 16


# --------------------------------------------------------------------------- timeline


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:06.3f}"


@dataclass
class Timeline:
    """Narration with the time since the demo started; kept for --json, printed otherwise."""

    echo: bool
    started: float = field(default_factory=time.monotonic)
    scene: str = SETUP
    entries: list[dict[str, Any]] = field(default_factory=list)

    def say(self, text: str, *more: str) -> None:
        at = time.monotonic() - self.started
        self.entries.append({"at": round(at, 3), "scene": self.scene, "text": text, "more": list(more)})
        if self.echo:
            indent = " " * (CLOCK_WIDTH + SCENE_WIDTH + 5)
            lines = [f"{_clock(at)}  {self.scene:<{SCENE_WIDTH}} {text}", *(indent + line for line in more)]
            print("\n".join(lines), flush=True)  # flushed: through a pipe, the timeline still runs live

    def of(self, scene: str) -> list[dict[str, Any]]:
        return [entry for entry in self.entries if entry["scene"] == scene]


# --------------------------------------------------------------------------- what operators receive


def chat_text(message: dict[str, Any]) -> list[str]:
    """How a chat channel shows the custom notification, by the function's own renderer."""
    from auto_rollback.chat import render_text

    return render_text(message).rstrip("\n").splitlines()


def decision(result: dict[str, Any]) -> str:
    return f"{result['outcome']} ({result['reason']})"


def email_text(message: Published) -> list[str]:
    """The email subscribers get: the function's own text, rebuilt from the JSON body it sent."""
    from auto_rollback.notification import build_notification
    from auto_rollback.outcomes import Result

    body = message.body
    sent_at = datetime.fromisoformat(body["time"])
    notification = build_notification(
        Result.from_dict(body), account=body["account"], region=body["region"], now=sent_at
    )
    return [f"Subject: {message.subject}", "", *notification.email.rstrip("\n").splitlines()]


# --------------------------------------------------------------------------- expected against observed


@dataclass(frozen=True)
class Observation:
    """What a scenario is judged on."""

    #: The decision on the event that matters in the scenario, or the tally of a storm.
    decision: str
    #: RollbackInstanceRefresh and CancelInstanceRefresh calls that AWS accepted.
    rollbacks: int
    cancels: int
    #: The outcomes published to the topic, sorted.
    notified: tuple[str, ...]

    def text(self) -> str:
        sns = tally(self.notified) or "nothing"
        return f"{self.decision}; rollbacks {self.rollbacks}, cancels {self.cancels}; SNS {sns}"


def tally(values: Sequence[str], *, ones: bool = False) -> str:
    """``NOTIFIED x2, ROLLBACK_STARTED``: each value once, with its count (``x1`` too if ``ones``)."""
    counts = sorted(Counter(values).items())
    return ", ".join(f"{value} x{count}" if count > 1 or ones else value for value, count in counts)


def print_summary(reports: Sequence[dict[str, Any]], elapsed: float) -> None:
    print()
    print(f"{'scenario':<{SCENE_WIDTH}} {'result':<7} expected / observed")
    print(f"{'-' * SCENE_WIDTH} {'-' * 7} {'-' * 70}")
    for report in reports:
        expected = Observation(**report["expected"]).text()
        observed = Observation(**report["observed"]).text() if report["observed"] else f"error: {report['error']}"
        if report["ok"]:
            print(f"{report['name']:<{SCENE_WIDTH}} {'ok':<7} {expected}")
        else:
            print(f"{report['name']:<{SCENE_WIDTH}} {'DIFFERS':<7} expected: {expected}")
            print(f"{'':<{SCENE_WIDTH}} {'':<7} observed: {observed}")
    passed = sum(report["ok"] for report in reports)
    verdict = "as expected" if passed == len(reports) else "NOT as expected"
    print(f"\n{passed}/{len(reports)} scenarios behaved {verdict} ({elapsed:.1f} s)")
