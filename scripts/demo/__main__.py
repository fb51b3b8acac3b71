"""``python -m scripts.demo`` (``make demo``, ``make invoke``)."""

import sys

from scripts.demo.cli import main

if __name__ == "__main__":
    sys.exit(main())
