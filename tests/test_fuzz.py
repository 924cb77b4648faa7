"""Runs the atheris harness (fuzz/fuzz_tokens.py) for a short, fixed number of
iterations, seeded with real tokens, so every test run fuzzes a little."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a system test: `pytest -m 'not slow'` skips it

HARNESS = Path(__file__).resolve().parent.parent / "fuzz" / "fuzz_tokens.py"
RUNS = 20_000


@pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None,
    reason="atheris is not installed (pip install atheris)",
)
def test_fuzz_harness(tmp_path: Path, make_token: object) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, token in enumerate([make_token(), make_token("ES256"), "a.b.c", ""]):  # type: ignore[operator]
        (corpus / f"seed{i}").write_bytes(bytes([i % 4]) + token.encode())
    result = subprocess.run(
        [
            sys.executable,
            str(HARNESS),
            str(corpus),
            f"-runs={RUNS}",
            "-seed=1",
            "-max_len=1024",
            "-print_final_stats=1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Done {RUNS} runs" in result.stderr or "stat::number_of_executed_units" in result.stderr
