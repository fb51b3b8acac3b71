"""Command-line tools run by the Makefile (``python -m scripts.<name>``)."""
