"""auto-rollback: roll back EC2 Auto Scaling instance refreshes when their alarms fire.

The package is laid out by role, in the order an event travels through it:
``events`` (parse) -> ``service`` (one invocation; ``hub`` first in organization
mode) -> ``gateway`` (read AWS; ``answers`` turns its answers into ``facts``) ->
``decision`` (pure) -> ``actions`` (change AWS, exactly once; ``records`` keeps the
idempotency records) -> ``notification`` (tell people). ``vocabulary`` names what the
function shares with the stack; the README's layout lists every module.
"""

__version__ = "0.1.0"
