"""Test support: the AWS emulator (moto's server plus the project's instance-refresh emulation)."""
