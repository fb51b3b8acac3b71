"""Hypothesis strategies for what may reach the function: realistic events, broken one field at a time.

Most generated events start from a real sample (alarm, refresh, manual invoke)
and then have fields removed, retyped or replaced by hostile text, so that the
fuzz spends its time near the shapes the parser has to tell apart; the rest are
arbitrary JSON.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from devkit.reliability.bad_input import MISSING, with_field
from devkit.reliability.lab import GROUP
from devkit.scenarios.events import alarm_event, manual_event, refresh_event

_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="ascii"), max_size=20),
    st.sampled_from(["", " ", "\n", "ALARM", "OK", GROUP, "web-prod\nx", "\x00", "\udcff", "x" * 2000, "🚨"]),
)
_JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _TEXT)
_JSON = st.recursive(
    _JSON_LEAF,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_TEXT, children, max_size=3),
    max_leaves=8,
)

_ALARM_PATHS = (
    "id",
    "source",
    "detail-type",
    "region",
    "account",
    "time",
    "resources",
    "detail",
    "detail.alarmName",
    "detail.state",
    "detail.state.value",
    "detail.state.reason",
    "detail.state.timestamp",
    "detail.configuration",
    "detail.alarmTags",
    "detail.alarmTags.auto-rollback:group",
)
_REFRESH_PATHS = (
    "id",
    "source",
    "detail-type",
    "region",
    "account",
    "detail",
    "detail.AutoScalingGroupName",
    "detail.InstanceRefreshId",
    "detail.CheckpointPercentage",
)
_MANUAL_PATHS = ("action", "autoScalingGroupName", "reason", "dryRun", "dryrun", "extra")


@st.composite
def _mutated(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["alarm", "refresh", "manual"]))
    if kind == "alarm":
        event = alarm_event("web-prod-5xx", tags={"auto-rollback:group": GROUP})
        paths: tuple[str, ...] = _ALARM_PATHS
    elif kind == "refresh":
        event = refresh_event("checkpoint-reached", GROUP, "c613620e-07e2-4ed2-a9e2-ef8258911ade")
        paths = _REFRESH_PATHS
    else:
        event = manual_event("rollback", GROUP, dry_run=True)
        paths = _MANUAL_PATHS
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(paths))
        value = draw(st.one_of(st.just(MISSING), _JSON))
        event = with_field(event, path, value)
    return event


def events() -> st.SearchStrategy[Any]:
    """Mostly sample events with one to three fields broken; sometimes arbitrary JSON."""
    return st.one_of(_mutated(), _mutated(), _mutated(), _JSON)
