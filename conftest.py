"""The code blocks of README.md and docs/ run as tests (pytest-markdown-docs): each runs
on its own, with these placeholders for what a reader brings (their keys, their app)."""

from __future__ import annotations

import json
import secrets
import tempfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwk


def _placeholders() -> dict[str, Any]:
    from flask import Flask

    from jwt_middleware import StaticKey, Verifier

    private = ec.generate_private_key(ec.SECP256R1())
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_jwk = {**jwk.construct(public_pem, "ES256").to_dict(), "kid": "k1"}
    jwks = {"keys": [public_jwk]}
    jwks_file = Path(tempfile.mkdtemp()) / "orders-2026.jwks.json"
    jwks_file.write_text(json.dumps(jwks))
    return {
        "private_key_pem": private_pem,
        "public_key_pem": public_pem,
        "public_jwk": public_jwk,
        "jwks": jwks,
        "jwks_path": str(jwks_file),
        "internal_secret": secrets.token_bytes(32),
        "tenant_public_keys": {"t1": public_pem},
        "app": Flask("docs"),
        "routes": [],
        "verifier": Verifier(StaticKey(public_pem, algorithm="ES256"), audience="orders-api"),
    }


def pytest_markdown_docs_globals() -> dict[str, Any]:
    from tests.django_project import setup

    setup()  # the Django page's code blocks import DRF, which needs settings
    return _placeholders()


@pytest.fixture(autouse=True)
def _no_network_in_code_blocks(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Examples name https://idp.example/: a warm start must not try to reach it."""
    if "CodeFence" in request.node.name:
        from jwt_middleware import _documents, _http

        def refuse(url: str, *args: Any, **kwargs: Any) -> Any:
            raise _documents.FetchError("code blocks in the docs fetch nothing")

        monkeypatch.setattr(_http, "fetch", refuse)
        monkeypatch.setattr(_http, "afetch", refuse)
