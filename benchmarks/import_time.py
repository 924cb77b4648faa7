"""What ``import jwt_middleware`` costs, against python-jose in the same run.

    python benchmarks/import_time.py [--runs N]

Each figure is the median of N fresh interpreters, read from ``python -X importtime``
(the cumulative microseconds of the top-level import). Bytecode is compiled first, into
a private cache (``PYTHONPYCACHEPREFIX``), for every module alike: an installed wheel
has its bytecode, while a source checkout run with ``PYTHONDONTWRITEBYTECODE`` would
otherwise compile this package on every run and not python-jose.

``import jose`` alone loads none of python-jose's code (its ``__init__`` imports
nothing), so the package is measured against ``import jose.jwt``, which loads what any
use of python-jose loads (its JWS, JWK and cryptography backends).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

IMPORTS = ("jose", "jose.jwt", "jwt_middleware")
TARGET_RATIO = 1.5  # the package may add at most 50% to python-jose's own import


def _cumulative_us(module: str, env: dict[str, str]) -> int:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in reversed(done.stderr.splitlines()):
        _, cumulative, name = (part.strip() for part in line.split("|"))
        if name == module:
            return int(cumulative)
    raise RuntimeError(f"no import time reported for {module}")


def measure(runs: int = 15) -> dict[str, float]:
    """Median import time in milliseconds of each of IMPORTS, interleaved run by run."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for module in IMPORTS:  # compile once, outside the timed runs
            _cumulative_us(module, env)
        times: dict[str, list[int]] = {module: [] for module in IMPORTS}
        for _ in range(runs):
            for module in IMPORTS:
                times[module].append(_cumulative_us(module, env))
    return {module: statistics.median(values) / 1000 for module, values in times.items()}


def rows(medians: dict[str, float]) -> list[list[str]]:
    jose = medians["jose.jwt"]
    return [
        [f"import {module}", f"{ms:.1f} ms", f"{ms / jose:.2f}x" if module != "jose" else ""]
        for module, ms in medians.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    medians = measure(parser.parse_args().runs)
    for row in rows(medians):
        print("  ".join(row))
    ratio = medians["jwt_middleware"] / medians["jose.jwt"]
    print(f"jwt_middleware adds {100 * (ratio - 1):.0f}% to import jose.jwt (target: at most 50%)")


if __name__ == "__main__":
    main()
