"""The project's keys, from the environment as in the other examples (see _demo.py)."""

from __future__ import annotations

from _demo import configure

from jwt_middleware import Verifier

demo = configure()


def verifier() -> Verifier:
    """Named in settings.JWT_MIDDLEWARE["VERIFIER"]."""
    return demo.verifier
