"""The synthesized template and its IAM policy, for the tests, the demo and ``make reliability``.

Synthesized (``synth``, ``hub``; cached: ``cache``), read (``resources``, ``policy``) and deployed
on the embedded AWS (``deploy``, ``deploy_hub``), with its rules in front of the function (``dispatch``).
"""
