"""jwt_middleware.django under Django's own WSGI and ASGI handlers: a stateless
request.user, CSRF for bearer and cookie tokens, the admin beside it, and DRF."""

from __future__ import annotations

from typing import Any

import pytest

from .django_project import setup

setup()

from django.conf import settings  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.test import AsyncClient, Client, override_settings  # noqa: E402

from jwt_middleware import Cookie  # noqa: E402
from jwt_middleware.django import JWTAuthenticationMiddleware, JWTUser  # noqa: E402

from .django_project import auth  # noqa: E402

ISSUER = auth.issuer()


def token(**options: Any) -> str:
    return ISSUER.issue("alice", **options)


def headers(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


class Both:
    """The same request through Django's WSGI handler (Client) and its ASGI handler
    (AsyncClient), both with their real middleware chain."""

    def __init__(self, kind: str, **client_options: Any) -> None:
        self.kind = kind
        self.sync = Client(**client_options)
        self.asynchronous = AsyncClient(**client_options)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        if self.kind == "wsgi":
            return getattr(self.sync, method.lower())(path, **kwargs)
        import asyncio

        return asyncio.run(getattr(self.asynchronous, method.lower())(path, **kwargs))


@pytest.fixture(params=["wsgi", "asgi"])
def client(request: pytest.FixtureRequest) -> Both:
    return Both(request.param)


def test_request_user_is_the_token_subject_with_no_database(client: Both) -> None:
    reply = client.request("GET", "/api/me", headers=headers(token(scopes=["read"])))
    assert reply.status_code == 200
    body = reply.json()
    assert body["user"] == "alice" and body["authenticated"] is True
    assert body["user_class"] == "JWTUser" and body["scopes"] == ["read"]
    assert body["claims"]["iss"] == "https://auth.example/"
    assert "sessionid" not in reply.cookies  # no session made per API call


def test_roles_beside_scopes(client: Both) -> None:
    reply = client.request("GET", "/api/me", headers=headers(token(claims={"roles": ["auditor"]})))
    body = reply.json()
    assert body["roles"] == body["user_roles"] == ["auditor"]


def test_the_protected_resource_metadata(client: Both) -> None:
    from jwt_middleware import ProtectedResource

    options = {
        **settings.JWT_MIDDLEWARE,
        "RESOURCE": ProtectedResource(
            "https://api.example/api", authorization_servers=["https://auth.example/"]
        ),
    }
    with override_settings(JWT_MIDDLEWARE=options):
        fresh = Both(client.kind)  # middleware is built per client handler
        reply = fresh.request("GET", "/.well-known/oauth-protected-resource/api")
        assert reply.status_code == 200
        assert reply.json()["resource"] == "https://api.example/api"
        assert reply["Cache-Control"] == "public, max-age=3600"
        refused = fresh.request("GET", "/api/me")
        assert refused.status_code == 401
        assert (
            'resource_metadata="https://api.example/.well-known/oauth-protected-resource/api"'
            in (refused["WWW-Authenticate"])
        )


def test_async_views_see_the_same(client: Both) -> None:
    reply = client.request("GET", "/api/async-me", headers=headers(token()))
    assert reply.json()["user"] == "alice"


@pytest.mark.parametrize(
    ("request_headers", "status", "error"),
    [
        ({}, 401, "missing_token"),
        ({"Authorization": "Bearer not.a.token"}, 401, "invalid_token"),
        ({"Authorization": "Bearer"}, 400, "invalid_request"),
    ],
)
def test_refusals_are_rfc_6750(
    client: Both, request_headers: dict[str, str], status: int, error: str
) -> None:
    reply = client.request("GET", "/api/me", headers=request_headers)
    assert reply.status_code == status and reply.json()["error"] == error
    assert reply["WWW-Authenticate"].startswith("Bearer realm=")
    assert reply["Cache-Control"] == "no-store"


def test_a_token_in_the_query_string_is_refused(client: Both) -> None:
    assert client.request("GET", f"/api/me?access_token={token()}").status_code == 400


def test_claim_rules(client: Both) -> None:
    assert (
        client.request(
            "GET", "/api/reports/q3", headers=headers(token(claims={"tenant": "t1"}))
        ).status_code
        == 200
    )
    refused = client.request(
        "GET", "/api/reports/q3", headers=headers(token(claims={"tenant": "t2"}))
    )
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"


def test_bearer_posts_need_no_django_csrf_token(client: Both) -> None:
    strict = Both(client.kind, enforce_csrf_checks=True)
    reply = strict.request("POST", "/api/orders", headers=headers(token()))
    assert reply.status_code == 201 and reply.json() == {"by": "alice"}


def test_session_views_keep_django_csrf(client: Both) -> None:
    strict = Both(client.kind, enforce_csrf_checks=True)
    reply = strict.request("POST", "/session/form")  # public to the JWT layer
    assert reply.status_code == 403  # Django's own CSRF failure
    assert b"CSRF" in reply.content


def test_cookie_tokens_keep_this_librarys_csrf_rules() -> None:
    options = {
        "VERIFIER": "tests.django_project.auth.verifier",
        "SOURCES": [Cookie("access_token")],
    }
    with override_settings(JWT_MIDDLEWARE=options):
        client = Client(enforce_csrf_checks=True)
        client.cookies["access_token"] = token()
        refused = client.post("/api/orders", headers={"Origin": "https://evil.example"})
        assert refused.status_code == 403 and refused.json()["error"] == "csrf_failed"
        same_origin = client.post("/api/orders", headers={"Sec-Fetch-Site": "same-origin"})
        assert same_origin.status_code == 403  # and Django's session CSRF still applies
        assert client.get("/api/me").json()["user"] == "alice"


def test_the_admin_and_public_paths_keep_djangos_user(client: Both) -> None:
    login = client.request("GET", "/admin/login/")
    assert login.status_code == 200 and b"csrfmiddlewaretoken" in login.content
    health = client.request("GET", "/health")
    assert health.json() == {"status": "ok", "django_user": True}


def test_streaming_responses_pass_through(client: Both) -> None:
    reply = client.request("GET", "/api/countdown", headers=headers(token()))
    body = b"".join(reply.streaming_content) if client.kind == "wsgi" else None
    if body is not None:
        assert body == b"3\n2\n1\nliftoff, alice\n"
    assert reply.status_code == 200


class TestDRF:
    def test_jwt_authentication(self, client: Both) -> None:
        reply = client.request("GET", "/drf/me", headers=headers(token()))
        assert reply.status_code == 200 and reply.json() == {"user": "alice", "sub": "alice"}

    def test_no_token_is_a_401_with_the_challenge(self, client: Both) -> None:
        reply = client.request("GET", "/drf/public")
        assert reply.status_code == 401  # the middleware, before DRF
        assert reply["WWW-Authenticate"].startswith("Bearer realm=")

    def test_has_scopes(self, client: Both) -> None:
        refused = client.request("POST", "/drf/orders", headers=headers(token(scopes=["read"])))
        assert refused.status_code == 403
        challenge = refused["WWW-Authenticate"]
        assert 'error="insufficient_scope"' in challenge and 'scope="orders:write"' in challenge
        ok = client.request("POST", "/drf/orders", headers=headers(token(scopes=["orders:write"])))
        assert ok.status_code == 201 and ok.json() == {"by": "alice"}


WITHOUT_THE_MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]


class TestDRFWithoutTheMiddleware:
    """Adopted as djangorestframework-simplejwt is: only the authentication class."""

    @pytest.fixture(autouse=True)
    def _only_drf(self) -> Any:
        with override_settings(MIDDLEWARE=WITHOUT_THE_MIDDLEWARE):
            yield

    def test_verifies_on_its_own(self) -> None:
        reply = Client().get("/drf/me", headers=headers(token()))
        assert reply.status_code == 200 and reply.json()["user"] == "alice"

    def test_no_token_is_drfs_401_with_our_challenge(self) -> None:
        reply = Client().get("/drf/me")
        assert reply.status_code == 401
        assert reply["WWW-Authenticate"] == 'Bearer realm="api"'

    def test_a_bad_token_names_the_error(self) -> None:
        reply = Client().get("/drf/me", headers=headers("not.a.token"))
        assert reply.status_code == 401
        assert 'error="invalid_token"' in reply["WWW-Authenticate"]

    def test_has_scopes(self) -> None:
        reply = Client().post("/drf/orders", headers=headers(token(scopes=["read"])))
        assert reply.status_code == 403
        assert 'scope="orders:write"' in reply["WWW-Authenticate"]

    def test_public_drf_views_stay_public(self) -> None:
        assert Client().get("/drf/public").json() == {"authenticated": False}


def test_the_user_is_stateless() -> None:
    user = JWTUser({"sub": "alice"}, ("read",))
    assert user.pk == "alice" and str(user) == "alice" and not user.has_perm("x")
    with pytest.raises(NotImplementedError):
        user.save()


@pytest.mark.parametrize(
    "config",
    [
        None,
        {},
        {"VERIFIER": "tests.django_project.auth.nope"},
        {"VERIFIER": "tests.django_project.auth.verifier", "NOPE": 1},
        {"VERIFIER": "tests.django_project.auth.verifier", "rules": []},
        {"VERIFIER": "tests.django_project.auth.verifier", "REALM": 'bad"realm'},
    ],
)
def test_bad_settings_fail_at_start_up(config: dict[str, Any] | None) -> None:
    with override_settings(JWT_MIDDLEWARE=config), pytest.raises(ImproperlyConfigured):
        JWTAuthenticationMiddleware(lambda request: None)
