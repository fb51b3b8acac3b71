"""The embedded AWS and what runs on it: shared by the tests, ``make demo``, ``make bench`` and ``make reliability``.

* :mod:`devkit.aws`: the embedded AWS (moto's server as strict as AWS, and faults);
* :mod:`devkit.scenarios`: events, fleets and alarms, and the harness that deploys and invokes the function;
* :mod:`devkit.reliability`: the reliability checks behind docs/RELIABILITY.md;
* :mod:`devkit.template`: the synthesized template, its IAM policy, and its rules deployed on the embedded AWS.

Neither the function (``lambda/``) nor the stack (``infra/``) imports it, and it
imports nothing from ``tests/``.
"""
