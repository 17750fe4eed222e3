"""The layers' contract holds: arrows point down, from the command line to the errors.

``lint-imports`` reads the contract from pyproject.toml: ``cli``, then the servers, then
``invocation`` and ``launch``, then ``app``, ``screens``, ``widgets``, ``services``,
``security`` and ``data``, ``config``, ``errors``. A widget that imported a screen, the app
that imported the command line, or a server that imported ``cli`` would break it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contract_is_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout
