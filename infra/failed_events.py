"""The failed-events queue: where an event the function's rules or the function could not handle ends up.

In hub mode, an event a spoke could not forward to the hub never reaches it: it waits in
that member account's own queue (infra/spoke.py, docs/DEPLOY.md section 11).
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_sqs as sqs
from constructs import Construct


class FailedEvents(Construct):
    """An encrypted, SSL-only SQS queue that keeps undeliverable events 14 days.

    Two producers share it so that an operator has a single queue per deployment to
    watch and replay from: EventBridge (its targets' dead-letter queue, for events it could
    not hand to Lambda) and Lambda (the asynchronous on-failure destination, for
    events the function failed on after its retries). Their messages differ in
    shape: EventBridge sends the original event with ``ERROR_CODE`` message
    attributes, Lambda wraps it in ``requestContext`` / ``requestPayload``.
    """

    #: SQS's maximum retention: the longest window to notice and replay.
    RETENTION = Duration.days(14)

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.queue = sqs.Queue(
            self,
            "Queue",
            retention_period=self.RETENTION,
            # SQS-managed keys rather than a customer key: EventBridge and Lambda
            # can then write to the queue with no key policy to keep in step.
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        Validations.of(self.queue).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-SQS3",
                reason="This queue is itself the dead-letter queue of the EventBridge targets and the "
                "on-failure destination of the function; a dead-letter queue for it would only "
                "move the same messages one step further away from the alarm that watches it.",
            )
        )
