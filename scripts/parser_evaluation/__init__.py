"""Powertools' parser models against the hand-written ``auto_rollback.events``, measured (issue 13).

``python -m scripts.parser_evaluation`` prints the figures the choice rests on; the
function keeps ``events.py`` while they favour it.
"""

import infra  # noqa: F401  (puts the function's package on the path)
