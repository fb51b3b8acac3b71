"""auto-rollback: roll back EC2 Auto Scaling instance refreshes when their alarms fire.

The package is laid out by role, in the order an event travels through it:
``events`` (parse) -> ``facts`` (read AWS) -> ``decision`` (pure) -> ``actions``
(change AWS, exactly once) -> ``notification`` (tell people), with ``settings``,
``aws`` (clients and retries), ``observability`` and ``outcomes`` beside them.
``handler`` wires them together.
"""

__version__ = "0.1.0"
