"""An API project: no database, no sessions; the caller is whoever the token names."""

from __future__ import annotations

import os

from jwt_middleware import Rule

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-set-DJANGO_SECRET_KEY-in-production")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "orders.urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "jwt_middleware.django.JWTAuthenticationMiddleware",
]
JWT_MIDDLEWARE = {
    "VERIFIER": "orders.auth.verifier",
    "RULES": [Rule("/health", public=True)],
    "REALM": "django-example",
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["jwt_middleware.django.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
