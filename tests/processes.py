"""Running ``driftline`` commands as real processes in tests, with a clean environment.

The test process's own ``DRIFTLINE_*`` variables (a test database URL, say) must not leak
into the processes a test starts: each gets exactly the settings the test gives it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["DRIFTLINE", "clean_environment", "run_driftline", "start_driftline", "stop_process"]

DRIFTLINE = Path(sys.executable).with_name("driftline")
"""The ``driftline`` command of the environment the tests run in."""


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without ``DRIFTLINE_*`` variables, plus ``settings``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLINE_")}
    environment.update(settings)
    return environment


def start_driftline(
    *args: str, cwd: Path, log: Path, environment: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Start ``driftline *args`` in ``cwd``, stdout and stderr into the file ``log``."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [str(DRIFTLINE), *args],
            cwd=cwd,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def run_driftline(
    *args: str, cwd: Path, environment: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run ``driftline *args`` to its end; its output is captured as text."""
    return subprocess.run(
        [str(DRIFTLINE), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def stop_process(process: subprocess.Popen[bytes], *, timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL if it is still running after ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
