"""``python -m jwt_middleware``: the same command line as ``jwt-middleware``."""

from __future__ import annotations

from .cli import run

if __name__ == "__main__":
    run()
