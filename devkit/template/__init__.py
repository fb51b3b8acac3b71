"""The synthesized template and its IAM policy, for the tests, the demo and ``make reliability``."""
