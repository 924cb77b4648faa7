"""Settings of the test project: the admin and sessions beside the JWT middleware."""

from __future__ import annotations

from jwt_middleware import Rule

SECRET_KEY = "tests-only-not-a-secret-0123456789abcdef0123456789"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.django_project.urls"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "jwt_middleware.django.JWTAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
JWT_MIDDLEWARE = {
    "VERIFIER": "tests.django_project.auth.verifier",
    "RULES": [
        Rule("/admin/", public=True),  # the admin keeps its own session login
        Rule("/session/", public=True),
        Rule("/health", public=True),
        Rule("/api/reports/", claims={"tenant": "t1"}),
    ],
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["jwt_middleware.django.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"
