"""Operator tools for a deployed stack (docs/RUNBOOK.md): one thin command per job."""
