"""The reliability checks: asserted by tests/reliability, counted by ``make reliability``."""
