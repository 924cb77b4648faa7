"""The benchmarks keep working: a seconds-long smoke run of every section, uvicorn load
run included (its figures mean nothing; `make bench` gives the real ones)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = (
    "Per verification",
    "Added per request by the middleware",
    "Against the peers",
    "Scale",
    "Verified-token cache at its cap",
    "Under real servers",
    "Framework integrations",
    "DPoP: per request",
    "DPoP replay check alone",
    "Import time",
)


@pytest.mark.timeout(180)
def test_every_benchmark_section_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--docs", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for section in SECTIONS:
        assert section in result.stdout, f"missing: {section}"
    assert "flask-jwt-extended" in result.stdout and "HS256 cached" in result.stdout
    # --docs: the report as printed, and a chart of it, for docs/performance.md.
    assert (tmp_path / "results.txt").read_text().strip() in result.stdout
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")
