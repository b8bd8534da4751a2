"""``python -m monitor``: the ``driftline`` command, for child processes of ``driftline up``."""

from __future__ import annotations

from monitor.cli import main

if __name__ == "__main__":
    main()
