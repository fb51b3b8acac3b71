"""``make demo``: watch auto-rollback catch a bad instance refresh, on an embedded AWS.

No AWS account is involved. The demo

1. starts moto's server, with the project's instance-refresh emulation, on loopback;
2. synthesizes the CDK stack (cached by a hash of its sources) and creates from the
   template what the emulator can run (:mod:`devkit.template.deploy`): the outcome
   topic, read through an SQS subscription as an operator's inbox; the idempotency
   table; and both EventBridge rules with their exact patterns. moto cannot run a
   Lambda target, so each rule targets a queue and the dispatcher
   (:mod:`devkit.template.dispatch`) hands ``auto_rollback.handler.lambda_handler``
   every event the queue receives, as Lambda's EventBridge trigger would: an event
   reaches the function only if a synthesized pattern matched it;
3. provisions launch templates (a good and a bad release), opted-in, dry-run and
   disabled groups, and alarms linked by tag, by name prefix and as a composite;
4. plays the scenarios, narrating what AWS did, what the function decided and why,
   and what operators received; then prints expected against observed and exits 1
   on any difference. The organization part (hub mode) follows, on its own emulator.

``--invoke FILE`` sends one event file through the same setup instead (``make invoke``).
Run ``python -m scripts.demo --help`` for the options.

Modules, by job: :mod:`.cli` (the command line), :mod:`.stack` (the template deployed
on the emulator, a session), :mod:`.fleet` and :mod:`.world` (the fleet, and the
narrated moves of AWS, operators and the function), :mod:`.scenarios`, :mod:`.invoke`
(``--invoke``), :mod:`.report` (timeline, email and chat text, summary) and
:mod:`.organization` (the hub-mode part).
"""

# First, as every entry point does: it puts lambda/ on sys.path (``lambda`` is a keyword,
# so the function's package is imported from its directory).
import infra  # noqa: F401
