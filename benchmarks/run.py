"""Every benchmark of the performance issue, side by side in one process, as a table of
medians and ratios. Ratios are what to read: the machines are shared and noisy.

    make bench            (or: python benchmarks/run.py [--quick] [--no-server] [--docs])

Sections: verification against the floor and the peers' decode; what the middleware
adds per request, first sight and cached; the peers' middlewares on the same app; scale
(distinct tokens, keys in a set); the cache's memory at its cap; and requests per
second of a Starlette app under uvicorn with and without the middleware; DPoP requests
against their floor, and the replay check in memory and Redis; and what
``import jwt_middleware`` costs against python-jose. ``--docs`` also writes the tables
and a chart of them into the documentation (docs/benchmarks/).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import jwt as pyjwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwk as jose_jwk
from jose import jwt as jose_jwt

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _timing
import import_time
import peers
from _net import free_port, wait_for
from _timing import (
    added,
    arounds_ns,
    column,
    median_ns,
    per_round,
    rounds_ns,
)
from floor import floor_verify, signature_check

from jwt_middleware import KeySet, ProtectedResource, Rule, StaticKey, TokenIssuer, Verifier
from jwt_middleware.asgi import JWTMiddleware as ASGIMiddleware
from jwt_middleware.wsgi import JWTMiddleware as WSGIMiddleware

SECRET = b"benchmark secret of thirty-two+ bytes"
AUDIENCE, ISSUER = "api://orders", "https://idp.example/"
CLAIMS = {
    "iss": ISSUER,
    "sub": "user-1234567890",
    "aud": AUDIENCE,
    "scope": "orders:read orders:write profile",
    "name": "Benchmark User",
    "jti": "3f8e2c1a-9b7d-4e6f-8a5c-1d2e3f4a5b6c",
}


def us(ns: float) -> str:
    return f"{ns / 1000:.1f} µs"


PRINTED: list[str] = []  # every line of the report, for --docs
TABLES: dict[str, tuple[list[str], list[list[str]]]] = {}  # by the title's first words


def say(line: str = "") -> None:
    print(line)
    PRINTED.append(line)


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    TABLES[title.split(" (")[0].split(":")[0]] = (header, rows)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    say()
    say(title)
    for row in [header, ["-" * w for w in widths], *rows]:
        say(
            "  "
            + "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


class Keys:
    def __init__(self) -> None:
        self.private = {
            "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ES256": ec.generate_private_key(ec.SECP256R1()),
        }

    def signing(self, alg: str) -> Any:
        if alg == "HS256":
            return SECRET
        return (
            self.private[alg]
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode()
        )

    def public_pem(self, alg: str) -> bytes:
        if alg == "HS256":
            return SECRET
        return (
            self.private[alg]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def floor_key(self, alg: str) -> Any:
        return SECRET if alg == "HS256" else self.private[alg].public_key()

    def token(self, alg: str, **extra: Any) -> str:
        now = int(time.time())
        claims = {**CLAIMS, "iat": now, "exp": now + 3600, **extra}
        return jose_jwt.encode(claims, self.signing(alg), algorithm=alg)

    def verifier(self, alg: str, **options: Any) -> Verifier:
        return Verifier(
            StaticKey(self.public_pem(alg), alg), audience=AUDIENCE, issuer=ISSUER, **options
        )


def verification(keys: Keys) -> None:
    rows = [verification_row(keys, alg) for alg in ("HS256", "RS256", "ES256")]
    table(
        "Per verification (medians, all of a row timed in the same rounds; ours = "
        "Verifier.verify, first sight = cache off)",
        [
            "alg",
            "floor",
            "ours",
            "ours/floor",
            "ours cached",
            "python-jose key",
            "python-jose str",
            "PyJWT",
        ],
        rows,
    )


def verification_row(keys: Keys, alg: str) -> list[str]:
    token = keys.token(alg)
    check = signature_check(alg, keys.floor_key(alg))
    first, cached = keys.verifier(alg, cache_size=0), keys.verifier(alg)
    prebuilt = jose_jwk.construct(keys.public_pem(alg), alg)
    text = keys.public_pem(alg) if alg == "HS256" else keys.public_pem(alg).decode()
    public = keys.public_pem(alg)
    measured = rounds_ns(
        [
            lambda: floor_verify(token, check, AUDIENCE),
            lambda: first.verify(token),
            lambda: cached.verify(token),
            lambda: jose_jwt.decode(token, prebuilt, algorithms=[alg], audience=AUDIENCE),
            lambda: jose_jwt.decode(token, text, algorithms=[alg], audience=AUDIENCE),
            lambda: pyjwt.decode(token, public, algorithms=[alg], audience=AUDIENCE),
        ]
    )
    return [
        alg,
        *(us(column(measured, i)) for i in range(2)),
        f"{per_round(measured, lambda r: r[1] / r[0]):.2f}x",
        *(us(column(measured, i)) for i in range(2, 6)),
    ]


# The middleware table's columns, in the order every round times them.
BARE, FLOOR, FIRST, NEW_OFF, NEW_ON, CACHED = range(6)


def middleware_overhead(keys: Keys) -> None:
    """What the middleware adds to a trivial app: first sight with the cache off (the
    floor's own token), a new token on every request without and with the cache (as
    deployed: the miss, the full path and the store, over cold data), and a token seen
    before. Each adapter's cases, the bare app and the floor are timed in the same
    rounds and every ratio is taken within a round, so a noisy neighbour moves the
    figures but hardly the ratios."""
    fresh = _fresh_tokens(_timing.ROUNDS * _timing.BATCH + 2)
    rows = []
    for alg in ("HS256", "RS256", "ES256"):
        token = keys.token(alg)
        check = signature_check(alg, keys.floor_key(alg))

        def cases(alg: str = alg, token: str = token) -> list[tuple[Verifier, list[str]]]:
            """New verifiers (and caches) for each adapter."""
            found = [(keys.verifier(alg, cache_size=0), [token])]
            if alg == "HS256":
                found += [
                    (keys.verifier(alg, cache_size=0), fresh),
                    (keys.verifier(alg), fresh),
                    (keys.verifier(alg), [token]),
                ]
            return found

        measured = [_wsgi_rounds(cases(), token, check), _asgi_rounds(cases(), token, check)]
        target = 1.5 if alg == "HS256" else 1.2
        names = {
            FIRST: f"{alg} first sight",
            NEW_OFF: f"{alg} new tokens, cache off",
            NEW_ON: f"{alg} new tokens, cache on",
            CACHED: f"{alg} cached",
        }
        for case in range(FIRST, len(measured[0][0])):
            w, a = (
                per_round(t, lambda r, c=case: (r[c] - r[BARE]) / r[FLOOR])  # type: ignore[misc]
                for t in measured
            )
            if case == FIRST:
                note = f"≤ {target}x floor: {'yes' if max(w, a) <= target else 'no'}"
            elif case == CACHED:
                w_share, a_share = (
                    per_round(t, lambda r: (r[CACHED] - r[BARE]) / (r[FIRST] - r[BARE]))
                    for t in measured
                )
                met = "yes" if max(w_share, a_share) <= 0.10 else "no"
                note = f"{w_share:.2f} / {a_share:.2f} of first sight (≤ 0.10: {met})"
            else:
                note = "a new token per request (no target)"
            rows.append(
                [
                    names[case],
                    us(added(measured[0], case)),
                    us(added(measured[1], case)),
                    f"{w:.2f}x",
                    f"{a:.2f}x",
                    note,
                ]
            )
        rows.append([f"{alg} floor", us(column(measured[0], FLOOR)), "", "", "", ""])
    table(
        "Added per request by the middleware (trivial app called directly, no server; "
        "floor timed in the same rounds)",
        ["", "WSGI", "ASGI", "WSGI/floor", "ASGI/floor", "target (WSGI / ASGI)"],
        rows,
    )


def _fresh_tokens(count: int) -> list[str]:
    issuer = TokenIssuer(
        StaticKey(SECRET, "HS256"), issuer=ISSUER, audience=AUDIENCE, access_ttl=3600
    )
    return [
        issuer.issue(f"user-{i}", scopes=["orders:read"], claims={"name": "Benchmark User"})
        for i in range(count)
    ]


def _ok_wsgi(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def _start_response(status: str, headers: Any, exc_info: Any = None) -> None:
    return None


def _wsgi_rounds(
    cases: list[tuple[Verifier, list[str]]], token: str, check: Any
) -> list[list[float]]:
    """Rounds of: the bare app, the floor, then each (verifier, tokens) case through the
    WSGI middleware; requests take the case's tokens in turn (so with as many tokens as
    requests, every one is new to the middleware)."""
    bare_environ = peers.wsgi_environ(token)
    calls = [
        lambda: _ok_wsgi(dict(bare_environ), _start_response),
        lambda: floor_verify(token, check, AUDIENCE),
    ]
    for verifier, tokens in cases:
        protected = WSGIMiddleware(_ok_wsgi, verifier=verifier)
        turn = itertools.cycle([peers.wsgi_environ(t) for t in tokens])
        calls.append(
            lambda p=protected, t=turn: p(dict(next(t)), _start_response)  # type: ignore[misc]
        )
    return rounds_ns(calls)


def _asgi_rounds(
    cases: list[tuple[Verifier, list[str]]], token: str, check: Any
) -> list[list[float]]:
    """:func:`_wsgi_rounds` through the ASGI middleware."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        return None

    bare_scope = peers.asgi_scope(token)
    calls = [
        lambda: app(dict(bare_scope), receive, send),
        lambda: floor_verify(token, check, AUDIENCE),
    ]
    for verifier, tokens in cases:
        protected = ASGIMiddleware(app, verifier=verifier)
        turn = itertools.cycle([peers.asgi_scope(t) for t in tokens])
        calls.append(
            lambda p=protected, t=turn: p(dict(next(t)), receive, send)  # type: ignore[misc]
        )
    return arounds_ns(calls)


_APP_BATCH = 500  # whole framework apps per round: fewer than the micro-benchmarks


def against_peers(keys: Keys) -> None:
    token = keys.token("HS256")
    environ, scope = peers.wsgi_environ(token), peers.asgi_scope(token)

    def apps(build: Any) -> dict[str, Any]:
        found = build(SECRET, AUDIENCE, ISSUER, keys.verifier("HS256", cache_size=0))
        found["ours cached"] = build(SECRET, AUDIENCE, ISSUER, keys.verifier("HS256"))["ours"]
        return found

    flask, starlette = apps(peers.flask_apps), apps(peers.starlette_apps)
    rows = [
        peer_row(
            "Flask",
            flask,
            rounds_ns(
                [lambda a=app: peers.call_wsgi(a, environ) for app in flask.values()],
                batch=_APP_BATCH,
            ),
            "flask-jwt-extended",
            "target ≥ 10x",
        ),
        peer_row(
            "Starlette",
            starlette,
            arounds_ns(
                [lambda a=app: peers.call_asgi(a, scope) for app in starlette.values()],
                batch=_APP_BATCH,
            ),
            "AuthenticationMiddleware+python-jose",
            "target > 1x",
        ),
    ]
    table(
        "Against the peers: the same app and HS256 token, overhead over the bare app "
        "(floor = the floor's work as a middleware in the same app; all timed in the "
        "same rounds, ratios per round)",
        [
            "app",
            "bare app",
            "floor",
            "ours",
            "ours cached",
            "peer",
            "peer overhead",
            "peer/ours",
            "peer/ours cached",
            "peer/floor",
        ],
        rows,
    )


def peer_row(
    label: str, apps: dict[str, Any], measured: list[list[float]], peer: str, target: str
) -> list[str]:
    """One app, bare and with each protection: ``measured`` has a column per app."""
    index = {name: i for i, name in enumerate(apps)}
    bare, peer_at = index["bare"], index[peer]

    def peer_over(name: str) -> float:
        at = index[name]
        return per_round(measured, lambda r: (r[peer_at] - r[bare]) / (r[at] - r[bare]))

    return [
        label,
        us(column(measured, bare)),
        us(added(measured, index["floor"], bare)),
        us(added(measured, index["ours"], bare)),
        us(added(measured, index["ours cached"], bare)),
        peer,
        us(added(measured, peer_at, bare)),
        f"{peer_over('ours'):.1f}x ({target})",
        f"{peer_over('ours cached'):.1f}x",
        f"{peer_over('floor'):.1f}x",
    ]


def integrations(keys: Keys) -> None:
    """FastAPI and DRF: what each way of authenticating adds to the same route, and the
    idiom's overhead over ours (targets: 3x on first sight, 10x cached)."""
    import frameworks

    token = keys.token("HS256")
    first, cached = keys.verifier("HS256", cache_size=0), keys.verifier("HS256")
    fastapi = frameworks.fastapi_apps(SECRET, AUDIENCE, ISSUER, first, cached)
    scope = peers.asgi_scope(token)
    measured = arounds_ns(
        [lambda a=app: peers.call_asgi(a, scope) for app in fastapi.values()], batch=_APP_BATCH
    )
    rows = _integration_rows("FastAPI", fastapi, measured, "HTTPBearer + PyJWT")
    views, factory = frameworks.drf_views(SECRET, AUDIENCE, ISSUER, first, cached)
    header = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def call(view: Any) -> None:
        response = view(factory.get("/orders", **header))
        if response.status_code != 200:
            raise AssertionError(response.status_code)

    measured = rounds_ns([lambda v=view: call(v) for view in views.values()], batch=_APP_BATCH)
    rows += _integration_rows("DRF", views, measured, "simplejwt (stateless)")
    table(
        "Framework integrations: overhead over the bare route, HS256, same token, in-process "
        "(all of a framework timed in the same rounds; idiom/ours per round)",
        ["framework", "bare route", "way", "overhead", "idiom/ours", "target"],
        rows,
    )


def _integration_rows(
    framework: str, apps: dict[str, Any], measured: list[list[float]], idiom: str
) -> list[list[str]]:
    index = {name: i for i, name in enumerate(apps)}
    bare, idiom_at = index["bare"], index[idiom]
    rows = []
    for name, at in index.items():
        if name == "bare":
            continue
        ratio = per_round(measured, lambda r, a=at: (r[idiom_at] - r[bare]) / (r[a] - r[bare]))
        target = ""
        if name.startswith("floor"):
            target = "the most any verifier can get"
        elif "nothing" in name:
            target = "the framework's own cost: the ceiling"
        elif name != idiom:
            wanted = 10 if "cached" in name or "middleware" in name else 3
            target = f"≥ {wanted}x: {'yes' if ratio >= wanted else 'no'}"
        rows.append(
            [
                framework,
                us(column(measured, bare)),
                name,
                us(added(measured, at, bare)),
                f"{ratio:.1f}x" if name != idiom else "",
                target,
            ]
        )
    return rows


def scale(keys: Keys, quick: bool, smoke: bool = False) -> None:
    issuer = TokenIssuer(
        StaticKey(SECRET, "HS256"), issuer=ISSUER, audience=AUDIENCE, access_ttl=3600
    )
    rows = []
    counts = (10, 200) if smoke else (10, 10_000) if quick else (10, 100_000)
    cached_ns = []
    for count in counts:
        verifier = keys.verifier("HS256", cache_size=count + 1)
        protected = WSGIMiddleware(_ok_wsgi, verifier=verifier)
        environs = [peers.wsgi_environ(issuer.issue(f"user-{i}")) for i in range(count)]
        for environ in environs:
            protected(dict(environ), _start_response)
        ns = median_ns(_round_robin(protected, environs))
        cached_ns.append(ns)
        rows.append([f"{count:,} distinct live tokens, cached", us(ns), ""])
    rows[-1][2] = f"{cached_ns[-1] / cached_ns[0]:.2f}x the {counts[0]}-token cost"
    key_ns = []
    for size in (1, 100):
        key_set = KeySet(
            [StaticKey(secrets.token_bytes(32), "HS256", kid=f"k{i}") for i in range(size - 1)]
            + [StaticKey(SECRET, "HS256", kid="live")]
        )
        verifier = Verifier(key_set, audience=AUDIENCE, cache_size=0)
        token = jose_jwt.encode(
            {**CLAIMS, "exp": int(time.time()) + 3600},
            SECRET,
            algorithm="HS256",
            headers={"kid": "live"},
        )
        ns = median_ns(lambda v=verifier, t=token: v.verify(t))  # type: ignore[misc]
        key_ns.append(ns)
        rows.append([f"{size} key(s) in a KeySet, first sight", us(ns), ""])
    rows[-1][2] = f"{key_ns[-1] / key_ns[0]:.2f}x the 1-key cost"
    rows.extend(rule_rows(keys))
    rows.extend(resource_rows(keys))
    rows.extend(https_rows(keys))
    table(
        "Scale (WSGI middleware per request; Verifier.verify for key sets)",
        ["", "median", "ratio"],
        rows,
    )


def rule_rows(keys: Keys) -> list[list[str]]:
    """A cached token with 1 rule and with 100 (the request matching the last): matching
    is a few dictionary lookups."""
    many = [Rule(f"/area{i}/", scopes=["orders:read"]) for i in range(90)]
    many += [Rule(f"/page{i}", public=True) for i in range(9)]
    return _option_rows(
        keys,
        ("1 rule, cached token", {"rules": [Rule("/api/", scopes=["orders:read"])]}),
        ("100 rules, cached token", {"rules": [*many, Rule("/api/", scopes=["orders:read"])]}),
        "{:.2f}x the 1-rule cost (target ≤ 1.2x)",
    )


def resource_rows(keys: Keys) -> list[list[str]]:
    """A cached token without and with ``resource=`` (RFC 9728 metadata served; one set
    lookup per request)."""
    resource = ProtectedResource("https://api.example/orders", authorization_servers=[ISSUER])
    return _option_rows(
        keys,
        ("no protected-resource metadata, cached token", {}),
        ("with resource= (RFC 9728), cached token", {"resource": resource}),
        "{:.2f}x the cost without",
    )


def https_rows(keys: Keys) -> list[list[str]]:
    """A cached token over https without and with ``require_https`` (the fast path
    checks the connection's scheme)."""
    return _option_rows(
        keys,
        ("cached token over https", {}),
        ("with require_https=True, cached token", {"require_https": True}),
        "{:.2f}x the cost without",
        scheme="https",
    )


def _option_rows(
    keys: Keys,
    base: tuple[str, dict[str, Any]],
    other: tuple[str, dict[str, Any]],
    ratio_text: str,
    scheme: str = "http",
) -> list[list[str]]:
    """The same cached-token request through the WSGI middleware built with two sets of
    options, timed in the same rounds; the ratio is other/base per round."""
    token = keys.token("HS256")
    environ = {
        **peers.wsgi_environ(token),
        "PATH_INFO": "/api/v1/orders/42",
        "wsgi.url_scheme": scheme,
    }
    apps = [
        WSGIMiddleware(_ok_wsgi, verifier=keys.verifier("HS256"), **options)
        for _, options in (base, other)
    ]
    for app in apps:
        assert app(dict(environ), _start_response) == [b"ok"]
    measured = rounds_ns([lambda a=app: a(dict(environ), _start_response) for app in apps])
    ratio = per_round(measured, lambda r: r[1] / r[0])
    return [
        [base[0], us(column(measured, 0)), ""],
        [other[0], us(column(measured, 1)), ratio_text.format(ratio)],
    ]


def _round_robin(app: Any, environs: list[dict[str, Any]]) -> Any:
    """A call that sends the next request of ``environs`` through ``app`` each time."""
    position = iter(range(10**12))

    def call() -> None:
        app(dict(environs[next(position) % len(environs)]), _start_response)

    return call


def dpop_requests() -> None:
    """A DPoP request (a new proof each time) against its floor: the two signature checks
    and the replay check, in memory and in Redis on loopback, timed in the same rounds."""
    import dpop

    redis_url = _loopback_redis()
    rounds, batch = _timing.ROUNDS, max(1, _timing.BATCH // 5)  # proofs are signed ahead
    cases = dpop.calls(dpop.Setup(), rounds * batch + 2, redis_url)
    measured = arounds_ns([call for _, call in cases], rounds, batch)
    rows, base = [], 0
    for index, (name, _) in enumerate(cases):
        if name.startswith("floor"):
            base = index
            rows.append([name, us(column(measured, index)), ""])
            continue
        ratio = per_round(measured, lambda r, i=index, b=base: r[i] / r[b])
        rows.append([name, us(column(measured, index)), f"{ratio:.2f}x its floor"])
    table(
        "DPoP: per request, new proof each time (ES256 token and proof)",
        ["request", "median", ""],
        rows,
    )
    replay = dpop.replay_calls(redis_url)
    timed = rounds_ns([call for _, call in replay])
    rows = [[name, us(column(timed, index))] for index, (name, _) in enumerate(replay)]
    if redis_url is None:
        rows.append(["RedisReplayCache", "no Redis on 127.0.0.1:6379: not measured"])
    table("DPoP replay check alone: one new proof", ["cache", "median"], rows)


def _loopback_redis() -> str | None:
    """Redis on loopback when one answers (database 15, keys expire by themselves)."""
    import socket

    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return url
    except OSError:
        return None


def cache_memory(cache_size: int = 10_000) -> None:
    issuer = TokenIssuer(
        StaticKey(SECRET, "HS256"), issuer=ISSUER, audience=AUDIENCE, access_ttl=3600
    )
    verifier = Verifier(StaticKey(SECRET, "HS256"), audience=AUDIENCE, cache_size=cache_size)
    cap = verifier.cache.max_entries  # type: ignore[union-attr]
    sample = issuer.issue(
        "user-1", scopes=["orders:read", "orders:write"], claims={"name": "Benchmark User"}
    )
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(cap + 1000):
        verifier.verify(
            issuer.issue(
                f"user-{i}",
                scopes=["orders:read", "orders:write"],
                claims={"name": "Benchmark User"},
            )
        )
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    table(
        f"Verified-token cache at its cap (cache_size={cap:,}, the default unless --smoke)",
        ["", "value"],
        [
            ["entries", f"{len(verifier.cache):,} (cap {cap:,})"],  # type: ignore[arg-type]
            ["token size", f"{len(sample)} bytes"],
            ["memory held", f"{used / 2**20:.1f} MiB ({used / cap:,.0f} bytes per entry)"],
        ],
    )


SERVERS = {
    "Starlette under uvicorn": (
        [
            "uvicorn",
            "server_app:{app}",
            "--port",
            "{port}",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        (
            ("without the middleware", "bare"),
            ("a middleware doing nothing (ceiling)", "pass_through"),
            ("setting user and auth, no token read (ceiling)", "sets_user"),
            ("with the middleware (HS256, cached)", "protected"),
        ),
    ),
    "Flask under gunicorn (gthread, 8 threads)": (
        [
            "gunicorn",
            "-k",
            "gthread",
            "--threads",
            "8",
            "-b",
            "127.0.0.1:{port}",
            "server_app:{app}",
        ],
        (
            ("without the middleware", "flask_bare"),
            ("with the middleware (HS256, cached)", "flask_protected"),
        ),
    ),
}


def server(keys: Keys, seconds: float) -> None:
    """Requests per second with a repeated token, bare and with the middleware, each
    server started for real on loopback (target: at least 0.9 of the bare app's)."""
    token = keys.token("HS256")
    tool = "wrk -t1 -c32" if shutil.which("wrk") else "httpx, 32 concurrent clients"
    rows = []
    for label, (argv, variants) in SERVERS.items():
        results = [_serve_and_load(argv, app, token, seconds) for _, app in variants]
        for (way, app), result in zip(variants, results, strict=True):
            ratio = result / results[0]
            verdict = (
                f" (≥ 0.9: {'yes' if ratio >= 0.9 else 'no'})" if app == variants[-1][1] else ""
            )
            rows.append(
                [
                    label,
                    way,
                    f"{result:,.0f}",
                    "" if app == variants[0][1] else f"{ratio:.2f}{verdict}",
                ]
            )
    table(
        f"Under real servers, {seconds:.0f} s per run, loopback, load from {tool}",
        ["server", "", "requests/s", "ratio"],
        rows,
    )


def _serve_and_load(argv: list[str], app: str, token: str, seconds: float) -> float:
    port = free_port()
    command = [part.format(app=app, port=port) for part in argv]
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / command[0]), *command[1:]],
        cwd=Path(__file__).parent,
        env={**os.environ, "BENCH_SECRET": SECRET.decode()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        return _load(port, token, seconds)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _load(port: int, token: str, seconds: float) -> float:
    url = f"http://127.0.0.1:{port}/me"
    if shutil.which("wrk"):
        output = subprocess.run(
            [
                "wrk",
                "-t1",
                "-c32",
                f"-d{seconds:.0f}s",
                "-H",
                f"Authorization: Bearer {token}",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
        if "Non-2xx" in output:
            raise RuntimeError(f"the server refused requests:\n{output}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return _httpx_load(url, token, seconds)


def _httpx_load(url: str, token: str, seconds: float) -> float:
    import asyncio

    import httpx

    async def run() -> float:
        done = 0
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:

            async def worker() -> None:
                nonlocal done
                while time.monotonic() < deadline:
                    (await client.get(url)).raise_for_status()
                    done += 1

            await asyncio.gather(*(worker() for _ in range(32)))
        return done / seconds

    return asyncio.run(run())


def main() -> None:
    global _APP_BATCH
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller scale and load runs")
    parser.add_argument("--no-server", action="store_true", help="skip the uvicorn load run")
    parser.add_argument(
        "--smoke", action="store_true", help="seconds: every section runs, figures meaningless"
    )
    parser.add_argument(
        "--docs",
        nargs="?",
        const=DOCS_OUT,
        type=Path,
        metavar="DIR",
        help="also write the report and a chart of it into DIR (default docs/benchmarks/)",
    )
    args = parser.parse_args()
    if args.smoke:  # tests/test_benchmarks.py: the benchmarks must keep working
        _timing.ROUNDS, _timing.BATCH, _APP_BATCH = 3, 20, 10
    say(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} cores; medians of {_timing.ROUNDS} rounds"
    )
    keys = Keys()
    verification(keys)
    middleware_overhead(keys)
    against_peers(keys)
    integrations(keys)
    scale(keys, args.quick, args.smoke)
    dpop_requests()
    cache_memory(500 if args.smoke else 10_000)
    if not args.no_server:
        server(keys, 1 if args.smoke else 3 if args.quick else 8)
    import_cost(3 if args.smoke else 15)
    if args.docs:
        write_docs(args.docs)


def import_cost(runs: int) -> None:
    table(
        f"Import time (median of {runs} fresh interpreters, python -X importtime, bytecode "
        "compiled; ratio to import jose.jwt, which loads what any use of python-jose loads)",
        ["import", "median", "ratio"],
        import_time.rows(import_time.measure(runs)),
    )


DOCS_OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks"


def write_docs(out: Path) -> None:
    """The report as the docs show it (results.txt, included by docs/performance.md)
    and a chart of its main rows (chart.png)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no screen
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    (out / "results.txt").write_text("\n".join(PRINTED).strip("\n") + "\n")
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    header, rows = TABLES["Per verification"]
    contenders = ["floor", "ours", "ours cached", "python-jose key", "PyJWT"]
    width = 0.8 / len(contenders)
    for index, name in enumerate(contenders):
        column_at = header.index(name)
        values = [_micros(row[column_at]) for row in rows]
        positions = [i + index * width for i in range(len(rows))]
        left.bar(positions, values, width, label=name)
    left.set_xticks([i + 0.4 - width / 2 for i in range(len(rows))], [row[0] for row in rows])
    left.set_ylabel("µs per verification (median)")
    left.set_title("Verifying one token")
    left.legend(fontsize="small")
    header, rows = TABLES["Against the peers"]
    labels, ours, cached, peer = [], [], [], []
    for row in rows:
        labels.append(f"{row[0]}\nvs {row[header.index('peer')]}")
        ours.append(_micros(row[header.index("ours")]))
        cached.append(_micros(row[header.index("ours cached")]))
        peer.append(_micros(row[header.index("peer overhead")]))
    for index, (name, values) in enumerate(
        (("ours, first sight", ours), ("ours, cached", cached), ("peer", peer))
    ):
        right.bar([i + index * 0.27 for i in range(len(rows))], values, 0.27, label=name)
    right.set_xticks([i + 0.27 for i in range(len(rows))], labels, fontsize="small")
    right.set_ylabel("µs added per request (median)")
    right.set_title("Middleware overhead against the peers")
    right.legend(fontsize="small")
    figure.savefig(out / "chart.png", dpi=110)
    plt.close(figure)
    print(f"wrote {out / 'results.txt'} and {out / 'chart.png'}")


def _micros(cell: str) -> float:
    return float(cell.split()[0].replace(",", ""))


if __name__ == "__main__":
    main()
