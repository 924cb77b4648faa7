"""A small Django project for the tests: plain views, DRF views, the admin, behind
jwt_middleware.django. Its key comes from DJANGO_JWT_SECRET (made here when unset), so a
server started from it and the test that mints tokens agree."""

from __future__ import annotations

import os
import secrets

ISSUER, AUDIENCE = "https://auth.example/", "orders-api"
os.environ.setdefault("DJANGO_JWT_SECRET", secrets.token_hex(32))


def setup() -> None:
    """Configure Django in this process with the project's settings (once)."""
    import django
    from django.conf import settings

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_project.settings")
    if not settings.configured or not django.apps.apps.ready:
        django.setup()
