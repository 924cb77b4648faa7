"""The types users see: mypy --strict on a user's module accepts every kind of keys the
docs describe and refuses what Verifier would refuse at start-up (lines marked ``# E:``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "tests" / "typing").glob("*.py"))


@pytest.mark.timeout(180)
@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_mypy_agrees_with_the_docs(case: Path, tmp_path: Path) -> None:
    expected = {
        number
        for number, line in enumerate(case.read_text().splitlines(), start=1)
        if "# E:" in line
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path),
            str(case),
        ],
        env={**os.environ, "MYPYPATH": str(ROOT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=170,
    )
    reported = {int(n) for n in re.findall(rf"{re.escape(case.name)}:(\d+): error", done.stdout)}
    assert reported == expected, done.stdout
