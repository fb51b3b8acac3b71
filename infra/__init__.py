"""The CDK app that deploys auto-rollback: one stack per account and region.

The stack is split into one construct per capability (notifications, idempotency
store, function, triggers, monitoring, console test events) so each can be read,
tested and changed on its own.
"""
