"""`import jwt_middleware` loads only what verifying a request needs; the rest (an HTTP
client, Redis, minting, the command line) loads when first used. The time it takes is
measured, not asserted: benchmarks/import_time.py."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

NOT_AT_IMPORT = (
    "httpx",
    "httpcore",
    "redis",
    "werkzeug",
    "argparse",
    "asyncio",
    "importlib.metadata",
    "jwt_middleware.cli",
    "jwt_middleware._issuing",
    "jwt_middleware._remote_jwks",
    "jwt_middleware._http",
)


def loaded_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(done.stdout))


def test_the_package_import_loads_no_optional_machinery() -> None:
    loaded = loaded_after("import jwt_middleware, jwt_middleware.wsgi, jwt_middleware.asgi")
    assert loaded.isdisjoint(NOT_AT_IMPORT), sorted(loaded & set(NOT_AT_IMPORT))


def test_a_remote_key_source_loads_its_http_client_when_built() -> None:
    # At construction, on the thread that builds it: never first inside a warm-start
    # thread that a pre-forking server could fork in the middle of an import.
    loaded = loaded_after(
        "from jwt_middleware import RemoteJWKS\nRemoteJWKS('https://idp.example/jwks')"
    )
    assert {"httpx", "httpcore", "jwt_middleware._http"} <= loaded


def test_lazy_names_are_ordinary_attributes() -> None:
    import jwt_middleware
    from jwt_middleware import RemoteJWKS, TokenIssuer, TokenPair
    from jwt_middleware._issuing import TokenIssuer as Defined

    assert TokenIssuer is Defined and TokenPair.__name__ == "TokenPair"
    assert RemoteJWKS.__module__ == "jwt_middleware._remote_jwks"
    assert {"RemoteJWKS", "TokenIssuer", "TokenPair"} <= set(dir(jwt_middleware))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        jwt_middleware.Nope  # noqa: B018
