"""The reliability checks run against the session's emulator; each check resets it and deploys afresh."""
