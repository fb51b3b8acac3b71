"""The embedded AWS: moto's HTTP server, made as strict as AWS for every call the function makes, and faults.

* ``aws_server``: starts moto on loopback, installs every emulation below, points boto3 at it;
* ``refresh_api``: the instance-refresh API moto lacks (``refresh_state``, ``refresh_operations``,
  ``refresh_templates``, ``refresh_errors``), and its control API for tests;
* ``cloudwatch_api``: alarms as strict as CloudWatch (``cloudwatch_alarms``, ``cloudwatch_describe``,
  ``cloudwatch_log_alarms``, ``cloudwatch_protocol``, ``cloudwatch_clock``);
* ``mute_rules``: alarm mute rules (``mute_schedules``: their at/cron schedules, durations, time zones);
* ``groups_api``, ``tags_api``: DescribeAutoScalingGroups, DescribeTags and GetResources limits;
* ``sns_api``, ``sns_subscriptions``: Publish and subscriptions that wait for confirmation;
* ``events_rules``: EventBridge rule delivery (a DISABLED rule delivers nothing);
* ``organization``, ``sts_api``, ``authorization``, ``iam_simulate``: accounts, AssumeRole, IAM;
* ``rate_model``: account-wide throttling and latency, enforced by the server;
* ``faults``: network and AWS faults injected into the function's own clients;
* ``model_limits``, ``wire_errors``, ``patch``: botocore's limits, each protocol's errors, installing handlers.
"""
