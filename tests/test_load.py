"""The load-and-faults run of benchmarks/loadtest.py, kept short: real servers, a JWKS
server that turns slow then fails, Redis stopped and restarted, hostile tokens."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a system test: `pytest -m 'not slow'` skips it

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "loadtest.py"


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
@pytest.mark.timeout(180)
def test_load_with_faults() -> None:
    spec = importlib.util.spec_from_file_location("loadtest", SCRIPT)
    assert spec is not None and spec.loader is not None
    loadtest = importlib.util.module_from_spec(spec)
    sys.modules["loadtest"] = loadtest  # dataclasses look their module up while defined
    spec.loader.exec_module(loadtest)
    report = loadtest.run(seconds=8, clients=8)
    print(report.render())
    assert report.problems() == []
    for kinds in report.statuses.values():
        assert kinds["forged"][200] == 0 and kinds["forged"][401] > 0
        assert kinds["malformed"][200] == 0
    # the outage was seen: valid tokens refused with 503 while Redis was down
    assert any(outage[503] for outage in report.during_redis_outage.values())
