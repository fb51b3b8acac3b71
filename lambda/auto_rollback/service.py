"""One invocation, start to finish: gather the facts a trigger needs, decide, act, notify.

The order of AWS calls matters: for an alarm, nothing that can wait (lifecycle
look-ups, notification formatting, metrics) runs before RollbackInstanceRefresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from itertools import chain
from typing import TYPE_CHECKING, Any

from auto_rollback import concurrency, inventory, results
from auto_rollback import decision as rules
from auto_rollback.actions import ActionFailedError, ExactlyOnceActions
from auto_rollback.decision import Decision, FiringAlarms, Verdict
from auto_rollback.events import (
    AlarmTrigger,
    InvalidEventError,
    InventoryTrigger,
    ManualTrigger,
    RefreshTrigger,
    Trigger,
)
from auto_rollback.facts import AlarmFacts, GroupTags, MuteFacts, RefreshFacts
from auto_rollback.gateway import AwsGateway
from auto_rollback.members import MemberAccessError, member_refusal
from auto_rollback.observability import count, logger
from auto_rollback.outcomes import Draft, Result
from auto_rollback.settings import Settings
from auto_rollback.vocabulary import (
    ACCOUNT_NOT_SERVED,
    ALARM_GROUP_TAG,
    CANCELLED_STATUSES,
    CROSS_ACCOUNT_LINK_REFUSED,
    EVALUATE_WOULD_ROLL_BACK,
    NO_ACTIVE_REFRESH,
    NO_ALARM_IN_ALARM,
    NO_LINKED_GROUP,
    NOT_ALARM_STATE,
    REFRESH_CANCELLING,
    ROLLBACK_IN_PROGRESS,
    ROLLING_BACK_STATUSES,
    UNREADABLE_ALARM_ACCOUNT_METRIC,
    GroupMode,
    ManualAction,
    Outcome,
    RefreshEventType,
    Severity,
    split_group_link,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

#: Time kept back from the retry budget so a FAILED outcome can still be published.
PUBLISH_RESERVE_SECONDS = 5.0

#: Refresh states that a rollback or a fallback cancel (ours or anyone's) leads to.
_ALREADY_ACTED_REASONS = frozenset({ROLLBACK_IN_PROGRESS, REFRESH_CANCELLING})
#: ... and the states they end in: a redelivery may come after the rollback or cancel finished.
_ALREADY_ACTED_STATUSES = ROLLING_BACK_STATUSES | CANCELLED_STATUSES
_ALARM_CHECK_EVENTS = frozenset({RefreshEventType.CHECKPOINT_REACHED, RefreshEventType.STARTED_BAKING})


class GroupsFailedError(Exception):
    """Some of an alarm's groups could not be handled after every group was tried.

    ``results`` is every decision made, the FAILED ones included, so the handler can
    log and count them all: the groups acted on must reach the decision history even
    though the invocation fails (its retry answers DEDUPLICATED for them). ``first``
    is the first failure, which the handler raises so Lambda retries the event.
    """

    def __init__(self, results: list[Result], first: Exception) -> None:
        super().__init__(str(first))
        self.results = results
        self.first = first


class RollbackService:
    """Decides and acts for one trigger; returns one result per affected group."""

    def __init__(
        self,
        settings: Settings,
        gateway: AwsGateway,
        actions: ExactlyOnceActions,
        *,
        account: str | None = None,
        peers: Callable[[str], RollbackService] | None = None,
        forget_peer: Callable[[str], None] = lambda account: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.actions = actions
        #: Hub mode: the member account this service reads and acts in (None: the function's own).
        self.account = account
        #: Hub mode: the service of another member account, for alarms that link groups across accounts.
        self._peers = peers
        #: Hub mode: drop another account's session (its role refused it), so the next event assumes it afresh.
        self._forget_peer = forget_peer
        self._context: LambdaContext | None = None
        self._clock = clock  # only to tell whether an event's mute window has ended

    def handle(self, trigger: Trigger, context: LambdaContext) -> list[Result]:
        self._check_scope(trigger, context)
        self._bind(context)

        def remaining() -> float:
            return context.get_remaining_time_in_millis() / 1000 - PUBLISH_RESERVE_SECONDS

        if isinstance(trigger, AlarmTrigger):
            return self._on_alarm(trigger, remaining)
        if isinstance(trigger, RefreshTrigger):
            return [self._on_refresh_event(trigger, remaining)]
        return [self._on_manual(trigger, remaining)]

    def _bind(self, context: LambdaContext) -> None:
        """Start of an invocation (Lambda runs one at a time per container): this one's time limit, a fresh rate."""
        self._context = context
        self.actions.bind(context)
        self.gateway.forget_past_throttling()

    def inventory(self, trigger: InventoryTrigger, context: LambdaContext) -> dict[str, Any]:
        """The fleet inventory (read-only): logged once, never published (see :mod:`auto_rollback.inventory`)."""
        self.gateway.forget_past_throttling()

        def remaining() -> float:
            return context.get_remaining_time_in_millis() / 1000

        answer = inventory.take_inventory(
            self.gateway, trigger.cursor, remaining=remaining, dry_run_setting=self.settings.dry_run
        )
        logger.info("Inventory", extra={"inventory": answer})
        return answer

    # --- alarms ---------------------------------------------------------------------------------------------

    def _on_alarm(self, trigger: AlarmTrigger, remaining: Callable[[], float]) -> list[Result]:
        base = Draft(trigger.describe(), dry_run=self.settings.dry_run, account=self.account)
        if not rules.alarm_state_acts(trigger.state, self.settings.insufficient_data_action):
            return [base.decided(Outcome.SKIPPED, NOT_ALARM_STATE, summary=f"The alarm is {trigger.state}.")]
        if trigger.mute is not None and trigger.mute.problem:
            logger.warning("The event's muteDetail is not as AWS documents it", extra={"problem": trigger.mute.problem})
        silenced = rules.why_alarm_silenced(
            mute=trigger.mute,
            actions_suppressed_by=trigger.actions_suppressed_by,
            now=self._clock(),
            muted_alarm_action=self.settings.muted_alarm_action,
        )
        if silenced is not None:
            # Decided before any AWS call, and only logged: the mute or suppression is the
            # operator's "do not act and do not page now", and it says nothing about which
            # groups the alarm watches. The next checkpoint or bake check looks again.
            return [results.silenced_alarm(base, silenced, trigger)]
        if rules.mute_window_ended(trigger.mute, self._clock(), self.settings.muted_alarm_action):
            late = self._after_mute_window(base, trigger)
            if late is not None:
                return [late]
        groups, refreshes, names, tagged = self._linked_groups_and_refreshes(trigger)
        if not names:
            return [base.decided(Outcome.SKIPPED, NO_LINKED_GROUP, summary="No group is linked to this alarm.")]
        summary = f"Alarm '{trigger.alarm_name}' went to {trigger.state} at {trigger.state_changed_at.isoformat()}."
        if trigger.mute is not None and trigger.mute.mutes_at(self._clock()):
            summary += f" It is muted by rule '{trigger.mute.rule_name}', and MUTED_ALARM_ACTION=rollback acts anyway."
            base = replace(base, details={"mutedBy": trigger.mute.describe()})
        answers: list[Result] = []
        failures: list[Exception] = []
        for name in names:
            group = groups.get(name, GroupTags(name=name))
            if not self._links_other_account(name) and rules.group_tag_near_miss(tagged, group):
                answers.append(
                    results.near_miss_group_tag(replace(base, auto_scaling_group_name=name), trigger, tagged)
                )
                continue
            # One group's failure must not keep the others' bad refreshes running: each is
            # decided and acted on, and the first failure is raised afterwards so Lambda
            # retries the event (the groups already handled then answer from their records).
            try:
                if self._links_other_account(name):
                    answers.append(self._on_linked_group_elsewhere(base, trigger, name, summary, remaining))
                    continue
                answers.append(
                    self._roll_back_if_needed(
                        replace(base, auto_scaling_group_name=name, summary=summary),
                        group,
                        refreshes[name].result() if group.mode is not GroupMode.DISABLED else None,
                        signal_at=trigger.state_changed_at,
                        remaining=remaining,
                    )
                )
            except Exception as error:
                logger.exception("Could not handle one of the alarm's groups", extra={"group": name})
                failures.append(error)
        if failures:
            failed = [failure.result for failure in failures if isinstance(failure, ActionFailedError)]
            raise GroupsFailedError(answers + failed, failures[0])
        return answers

    def _linked_groups_and_refreshes(
        self, trigger: AlarmTrigger
    ) -> tuple[dict[str, GroupTags], dict[str, Future[RefreshFacts | None]], list[str], str]:
        """The groups the alarm watches, their tags, reads of their newest refreshes, and the alarm's group tag.

        Two rounds of reads at most, each asking for this alarm's groups only, so the
        calls do not grow with the account. Round one runs at once: the groups linked
        by prefix, and either the alarm's own tags or, when the event's tags already
        name the group, that group's tags and refresh. Round two reads what round one
        found and has not read yet. A refresh that could not be read is kept in its
        future, so that one group's failure does not keep the others from being handled.
        """
        event_tags = trigger.alarm_tags
        by_prefix = concurrency.start(lambda: self.gateway.groups_linked_by_prefix(trigger.alarm_name))
        groups: dict[str, GroupTags] = {}
        refresh_reads: dict[str, Future[RefreshFacts | None]] = {}
        settled = event_tags is not None and rules.tags_settle_link(event_tags)
        if settled and event_tags is not None and self._links_other_account(event_tags[ALARM_GROUP_TAG]):
            # Hub mode, a monitoring account's alarm naming another account's group: the event says so,
            # and that group is read (and acted on) in its own account, by its own account's service.
            concurrency.settle(by_prefix)
            alarm_tags: Mapping[str, str] = event_tags
        elif settled and event_tags is not None:
            named = self._local_name(event_tags[ALARM_GROUP_TAG])
            named_tags = concurrency.start(lambda: self.gateway.group_tags(named))
            refresh_reads[named] = concurrency.start(lambda: self.gateway.latest_refresh(named))
            concurrency.wait_all(refresh_reads[named])
            concurrency.settle(by_prefix, named_tags)
            groups[named] = named_tags.result()
            alarm_tags = event_tags
        else:
            own_tags = concurrency.start(lambda: self.gateway.alarm_tags(trigger.alarm_arn))
            concurrency.settle(by_prefix, own_tags)
            alarm_tags = own_tags.result()
        names = [
            self._local_name(name) for name in rules.linked_groups(trigger.alarm_name, alarm_tags, by_prefix.result())
        ]
        unread = [name for name in names if name not in groups and not self._links_other_account(name)]
        if unread:
            unread_tags = concurrency.start(lambda: self.gateway.groups(unread))
            for name in unread:
                refresh_reads[name] = concurrency.start(partial(self.gateway.latest_refresh, name))
            concurrency.wait_all(*(refresh_reads[name] for name in unread))
            concurrency.settle(unread_tags)
            groups |= unread_tags.result()
        local = {name: refresh_reads[name] for name in names if name in refresh_reads}
        return groups, local, names, rules.group_named_by(alarm_tags)

    def _after_mute_window(self, base: Draft, trigger: AlarmTrigger) -> Result | None:
        """Re-read a late muted event's alarm (two calls, on this path only); None if it acts as usual."""
        current_state = self.gateway.alarm_state(trigger.alarm_name)
        current_mute = self.gateway.active_mute(trigger.alarm_name) if current_state == trigger.state else None
        held = rules.why_held_after_mute_window(trigger.state, current_state, current_mute)
        if held is None:
            return None
        if current_mute is not None:
            return results.silenced_alarm(base, held, replace(trigger, mute=current_mute))
        assert trigger.mute is not None and trigger.mute.window_end is not None  # mute_window_ended
        now = f"now {current_state}" if current_state else "deleted since"
        summary = (
            f"Alarm '{trigger.alarm_name}' went to {trigger.state} while muted; the mute window ended at "
            f"{trigger.mute.window_end.isoformat()}, and the alarm is {now}: not acted on, as CloudWatch would not."
        )
        return base.decided(held.outcome, held.reason, summary=summary, details={"mutedBy": trigger.mute.describe()})

    def _roll_back_if_needed(
        self,
        base: Draft,
        group: GroupTags,
        refresh: RefreshFacts | None,
        *,
        signal_at: datetime | None,
        remaining: Callable[[], float],
        dry_run_requested: bool = False,
    ) -> Result:
        if group.mode is GroupMode.DISABLED:
            return self._not_enabled(group, base, remaining)
        decision = rules.decide_rollback(
            group=group,
            refresh=refresh,
            signal_at=signal_at,
            dry_run_setting=self.settings.dry_run,
            dry_run_requested=dry_run_requested,
        )
        return self._apply(decision, results.with_refresh(base, refresh), remaining)

    # --- instance-refresh events ----------------------------------------------------------------------------

    def _on_refresh_event(self, trigger: RefreshTrigger, remaining: Callable[[], float]) -> Result:
        group = self.gateway.group_tags(trigger.auto_scaling_group_name)
        base = Draft(
            trigger.describe(),
            auto_scaling_group_name=group.name,
            instance_refresh_id=trigger.instance_refresh_id,
            dry_run=self.settings.dry_run or group.mode is GroupMode.DRY_RUN,
            account=self.account,
        )
        if group.mode is GroupMode.DISABLED:
            decision = rules.decide_lifecycle(group, trigger.event_type)
            if decision.verdict is Verdict.NOTIFY:
                base = replace(base, severity=Severity.MEDIUM, details={"autoRollbackTag": group.unrecognised_mode})
            return self._not_enabled(group, base, remaining, decision, event=trigger.event_type.detail_type)
        refresh = self.gateway.latest_refresh(group.name, trigger.instance_refresh_id)
        base = results.with_refresh(base, refresh)
        if trigger.event_type in _ALARM_CHECK_EVENTS:
            return self._check_alarms_now(base, group, refresh, remaining)
        decision = rules.decide_lifecycle(group, trigger.event_type)
        warnings: list[str] = []
        if trigger.event_type is RefreshEventType.STARTED:
            linked = self.gateway.count_alarms_with_prefix(group.alarm_prefix) if group.alarm_prefix else 0
            warnings = rules.started_warnings(refresh, linked, alarm_prefix=group.alarm_prefix)
        news = replace(
            base,
            severity=rules.lifecycle_severity(trigger.event_type, warnings),
            summary=f"Instance refresh {trigger.event_type.value.lower()}."
            + "".join(f" Warning: {w}." for w in warnings),
            details={"warnings": warnings} if warnings else {},
        )
        return self._apply(decision, news, remaining, event=trigger.event_type.detail_type)

    def _check_alarms_now(
        self, base: Draft, group: GroupTags, refresh: RefreshFacts | None, remaining: Callable[[], float]
    ) -> Result:
        """An alarm already in ALARM sends no new event, so checkpoints and baking look for one."""
        unread: list[str] = []
        decision, firing = self._firing_alarm_decision(
            group, refresh, dry_run_setting=self.settings.dry_run, unread=unread
        )
        return self._apply(decision, results.with_unread(results.with_firing(base, firing), unread), remaining)

    def _firing_alarm_decision(
        self, group: GroupTags, refresh: RefreshFacts | None, *, dry_run_setting: bool, unread: list[str]
    ) -> tuple[Decision, FiringAlarms]:
        """The decision a linked alarm in ALARM since the refresh started leads to, and the alarms seen.

        ``unread`` learns the monitoring accounts whose alarms could not be read (hub mode).
        """
        not_active = rules.why_refresh_cannot_roll_back(refresh)
        if not_active is not None or refresh is None:
            return not_active or Decision(Verdict.SKIP, NO_ACTIVE_REFRESH), FiringAlarms(None)
        # A linked alarm whose mute cannot be read fails the invocation (Lambda retries it):
        # acting could break an operator's mute, and skipping could leave a bad refresh running.
        by_prefix = (
            self.gateway.alarms_in_alarm_by_prefix(group.alarm_prefix, refresh.start_time) if group.alarm_prefix else ()
        )
        mute_readers: dict[str, tuple[str, AwsGateway]] = {}
        # Hub mode: the account-qualified link names this account's group as well as the bare name does.
        aliases = [f"{self.account}/{group.name}"] if self.settings.hub_mode and self.account else []
        by_tag = chain(
            self.gateway.alarms_in_alarm_by_tag(group.name, refresh.start_time, aliases=aliases),
            self._monitoring_alarms(group.name, refresh.start_time, mute_readers, unread),
        )
        firing = rules.first_acting_alarm(
            rules.linked_firing_alarms(by_prefix, by_tag),
            lambda name: self._mute_of(name, group.name, mute_readers),
            self.settings.muted_alarm_action,
        )
        if firing.acting is None:
            if firing.silenced:
                return Decision(Verdict.SKIP, firing.silenced[0].reason), firing
            return Decision(Verdict.SKIP, NO_ALARM_IN_ALARM), firing
        decision = rules.decide_rollback(
            group=group, refresh=refresh, signal_at=firing.acting.state_changed_at, dry_run_setting=dry_run_setting
        )
        return decision, firing

    # --- manual invokes -------------------------------------------------------------------------------------

    def _on_manual(self, trigger: ManualTrigger, remaining: Callable[[], float]) -> Result:
        group = self.gateway.group_tags(trigger.auto_scaling_group_name)
        base = Draft(
            trigger.describe(),
            auto_scaling_group_name=group.name,
            dry_run=self.settings.dry_run or trigger.dry_run or trigger.action is ManualAction.EVALUATE,
            summary=f"Operator request: {trigger.reason}",
            account=self.account,
        )
        if trigger.action is ManualAction.ROLLBACK:
            refresh = self.gateway.latest_refresh(group.name) if group.mode is not GroupMode.DISABLED else None
            return self._roll_back_if_needed(
                base, group, refresh, signal_at=None, remaining=remaining, dry_run_requested=trigger.dry_run
            )
        return self._evaluate(base, group)

    def _evaluate(self, base: Draft, group: GroupTags) -> Result:
        """What an alarm event would get now, without changing or publishing anything."""
        if group.mode is GroupMode.DISABLED:
            return results.as_result(
                rules.decide_not_enabled(group), replace(base, summary=rules.not_enabled_summary(group))
            )
        refresh = self.gateway.latest_refresh(group.name)
        unread: list[str] = []
        decision, firing = self._firing_alarm_decision(group, refresh, dry_run_setting=True, unread=unread)
        seen = results.with_unread(results.with_firing(results.with_refresh(base, refresh), firing), unread)
        alarm = firing.acting
        if alarm is not None and decision.verdict is Verdict.DRY_RUN:
            decision = Decision(Verdict.DRY_RUN, EVALUATE_WOULD_ROLL_BACK)
            seen = replace(seen, summary=f"Would roll back now: alarm '{alarm.name}' is in ALARM. Nothing was changed.")
        return results.as_result(decision, seen)

    # --- acting on a decision -------------------------------------------------------------------------------

    def _not_enabled(
        self,
        group: GroupTags,
        base: Draft,
        remaining: Callable[[], float],
        decision: Decision | None = None,
        *,
        event: str = "",
    ) -> Result:
        """Leave a group that is not opted in alone, saying so plainly when its opt-in value is a near miss."""
        if group.meant_mode:
            logger.warning(
                "The group's auto-rollback tag is not exactly a known value: the group is not protected",
                extra={"group": group.name, "autoRollbackTag": group.unrecognised_mode},
            )
            base = replace(base, summary=rules.not_enabled_summary(group))
        return self._apply(decision or rules.decide_not_enabled(group), base, remaining, event=event)

    def _apply(self, decision: Decision, base: Draft, remaining: Callable[[], float], *, event: str = "") -> Result:
        """The result of ``decision``, built here once; then the action, or the publication, it calls for."""
        result = results.as_result(decision, base)
        if decision.verdict is Verdict.ROLLBACK:
            try:
                return self.actions.roll_back(result, remaining)
            except ActionFailedError as failure:
                self._publish_failure(failure.result)
                raise
        if decision.reason in _ALREADY_ACTED_REASONS or (
            decision.verdict is Verdict.SKIP
            and decision.reason == NO_ACTIVE_REFRESH
            and base.refresh_status in _ALREADY_ACTED_STATUSES
        ):
            # We may have acted and failed to publish, or died before storing what we did.
            replayed = self.actions.replay(result, remaining)
            if replayed is not None:
                return replayed
        if decision.verdict in {Verdict.DRY_RUN, Verdict.NOTIFY}:
            self.actions.publish_once(result, remaining, event=event)
        return result

    def _publish_failure(self, failed: Result) -> None:
        results.publish_failure(self.actions.notifier, failed)

    # --- hub mode: alarms of one account, groups of another ---------------------------------------------------

    def _links_other_account(self, link: str) -> bool:
        """True for an ``<account>/<group>`` link to another member account (hub mode only)."""
        if not self.settings.hub_mode:
            return False
        account, _ = split_group_link(link)
        return account is not None and account != self.account

    def _local_name(self, link: str) -> str:
        """A link to a group of this service's own account, without the account in front."""
        if not self.settings.hub_mode:
            return link
        account, group = split_group_link(link)
        return group if account == self.account else link

    def _peer(self, account: str, base: Draft) -> RollbackService:
        """Another member account's service; a role that refuses is a FAILED outcome, published."""
        assert self._peers is not None and self._context is not None  # hub mode, inside handle()
        try:
            peer = self._peers(account)
        except MemberAccessError as error:
            raise self._peer_failed(account, base, error) from error
        peer._bind(self._context)  # its records expire with this invocation's time limit
        return peer

    def _peer_failed(self, account: str, base: Draft, error: BaseException) -> ActionFailedError:
        """Another account's role refused the hub: blamed on that account, published, its session dropped."""
        self._forget_peer(account)
        failed = results.member_failed(replace(base, account=account), error)
        self._publish_failure(failed)
        return ActionFailedError(failed)

    def _on_linked_group_elsewhere(
        self, base: Draft, trigger: AlarmTrigger, link: str, summary: str, remaining: Callable[[], float]
    ) -> Result:
        """An alarm of this account tagged with ``<account>/<group>``: decided and acted on in that account."""
        account, name = split_group_link(link)
        assert account is not None  # _links_other_account
        base = replace(base, auto_scaling_group_name=name, account=account, summary=summary)
        if self.account not in self.settings.alarm_accounts:
            # Otherwise any member could roll back another member's refreshes by tagging an alarm.
            logger.warning(
                "An alarm links a group of another account, from an account not in ALARM_ACCOUNTS",
                extra={"link": link, "alarmAccount": self.account},
            )
            return base.decided(
                Outcome.SKIPPED,
                CROSS_ACCOUNT_LINK_REFUSED,
                severity=Severity.MEDIUM,
                summary=f"Alarm '{trigger.alarm_name}' of account {self.account} links group '{name}' of account "
                f"{account}, but only the accounts in ALARM_ACCOUNTS may link other accounts' groups: not acted on.",
            )
        if self.settings.member_accounts and account not in self.settings.member_accounts:
            return base.decided(
                Outcome.SKIPPED,
                ACCOUNT_NOT_SERVED,
                summary=f"Alarm '{trigger.alarm_name}' links a group of account {account}, which is not in "
                "MEMBER_ACCOUNTS: not acted on.",
            )
        peer = self._peer(account, base)
        try:
            group = peer.gateway.group_tags(name)
            refresh = peer.gateway.latest_refresh(name) if group.mode is not GroupMode.DISABLED else None
            return peer._roll_back_if_needed(
                base, group, refresh, signal_at=trigger.state_changed_at, remaining=remaining
            )
        except ActionFailedError:
            raise  # a FAILED already published (by the action, or for the refusal)
        except Exception as error:
            if member_refusal(error) is None:
                raise
            raise self._peer_failed(account, base, error) from error

    def _monitoring_alarms(
        self,
        group_name: str,
        changed_since: datetime | None,
        mute_readers: dict[str, tuple[str, AwsGateway]],
        unread: list[str],
    ) -> Iterator[AlarmFacts]:
        """Alarms of the monitoring accounts (ALARM_ACCOUNTS) tagged ``<this account>/<group>``, in ALARM.

        Lazy, like the other tagged alarms: read only when no alarm linked by prefix
        acts. ``mute_readers`` learns which account's gateway reads each one's mute.
        A monitoring account whose role refuses (at AssumeRole or on a call) is passed
        over loudly: logged, counted, named in ``unread`` (the result's details), its
        session dropped. Failing instead would fail every checkpoint of every account
        for one account's fault; that account's own alarm events still fail, published.
        """
        if not self.settings.hub_mode or self.account is None:
            return
        link = f"{self.account}/{group_name}"
        for account in sorted(self.settings.alarm_accounts - {self.account}):
            assert self._peers is not None and self._context is not None  # hub mode, inside handle()
            try:
                peer = self._peers(account)
                peer._bind(self._context)
                alarms = list(peer.gateway.alarms_in_alarm_by_tag(link, changed_since))
            except Exception as error:
                if member_refusal(error) is None:
                    raise
                logger.warning(
                    "A monitoring account's alarms could not be read; they are not considered",
                    extra={"alarmAccount": account, "error": str(error), "group": group_name},
                )
                count(UNREADABLE_ALARM_ACCOUNT_METRIC)
                self._forget_peer(account)
                unread.append(account)
                continue
            for alarm in alarms:
                mute_readers[alarm.name] = (account, peer.gateway)
                yield alarm

    def _mute_of(self, name: str, group_name: str, mute_readers: dict[str, tuple[str, AwsGateway]]) -> MuteFacts | None:
        """The alarm's active mute, read in the alarm's own account (a monitoring account's, for its alarms)."""
        reader = mute_readers.get(name)
        if reader is None:
            return self.gateway.active_mute(name)
        account, gateway = reader
        try:
            return gateway.active_mute(name)
        except Exception as error:
            if member_refusal(error) is None:
                raise
            base = Draft({"type": "checkpoint"}, auto_scaling_group_name=group_name)
            raise self._peer_failed(account, base, error) from error

    def _check_scope(self, trigger: Trigger, context: LambdaContext) -> None:
        """Events from another region or account cannot be acted on by this function's credentials."""
        if isinstance(trigger, ManualTrigger):
            own = self.account or _account_of(context)
            if trigger.account and own and trigger.account != own:
                raise InvalidEventError("account", f"this function serves account {own} only")
            return
        if trigger.region != self.settings.region:
            raise InvalidEventError(
                "region", f"event is for {trigger.region!r}, this function serves {self.settings.region!r}"
            )
        account = self.account or _account_of(context)
        if account and trigger.account != account:
            raise InvalidEventError("account", "event is for another account than this function's")


def _account_of(context: LambdaContext) -> str:
    arn = getattr(context, "invoked_function_arn", "") or ""
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""
