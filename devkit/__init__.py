"""What the tests, ``make demo``, ``make bench`` and ``make reliability`` share; never deployed.

* :mod:`devkit.aws`: the embedded AWS (moto's server, made as strict as AWS for every
  call the function makes) and the faults networks and AWS produce;
* :mod:`devkit.scenarios`: realistic events, fleets and alarms, and a harness that
  deploys and invokes the real function on the embedded AWS;
* :mod:`devkit.reliability`: the reliability checks behind docs/RELIABILITY.md;
* :mod:`devkit.template`: the synthesized CloudFormation template and its IAM policy, read.

Neither the function (``lambda/``) nor the stack (``infra/``) imports it, and it
imports nothing from ``tests/``.
"""
