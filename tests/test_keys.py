"""Key construction: the algorithm comes from the key, unsafe bindings fail at start-up."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from jwt_middleware import ConfigurationError, KeySet, StaticKey

from .conftest import Keys, b64url, pem_private, pem_public
from .helpers import rsa_jwk


class TestStaticKey:
    def test_secret_needs_an_algorithm(self) -> None:
        with pytest.raises(ConfigurationError, match="algorithm is required"):
            StaticKey(b"x" * 32)

    @pytest.mark.parametrize(("alg", "size"), [("HS256", 31), ("HS384", 47), ("HS512", 63)])
    def test_short_hmac_secret(self, alg: str, size: int) -> None:
        with pytest.raises(ConfigurationError, match=f"{size} bytes"):
            StaticKey(b"k" * size, alg)
        assert StaticKey(b"k" * (size + 1), alg).algorithms == {alg}

    def test_str_secret_counts_utf8_bytes(self) -> None:
        assert StaticKey("é" * 16, "HS256").algorithms == {"HS256"}

    @pytest.mark.parametrize("alg", ["none", "None", "HS1", "Ed448", "RSA-OAEP", "ES256K", ""])
    def test_unknown_algorithm(self, alg: str) -> None:
        with pytest.raises(ConfigurationError, match="unknown or unsupported"):
            StaticKey(b"k" * 64, alg)

    @pytest.mark.parametrize(
        "form", ["pem", "pem-str", "private-pem", "der", "openssh", "jwk-json", "certificate-ish"]
    )
    def test_public_key_material_is_never_an_hmac_secret(self, keys: Keys, form: str) -> None:
        public = keys.rsa.public_key()
        material: Any = {
            "pem": pem_public(keys.rsa),
            "pem-str": pem_public(keys.rsa).decode(),
            "private-pem": pem_private(keys.rsa),
            "der": public.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "openssh": public.public_bytes(
                serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
            ),
            "jwk-json": json.dumps(rsa_jwk(keys)).encode(),
            "certificate-ish": b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        }[form]
        with pytest.raises(ConfigurationError):
            StaticKey(material, "HS256")

    @pytest.mark.parametrize(
        "secret",
        [
            b"{" + b"\x8f" * 31,
            b" {random bytes of a secret, 32+ long",
            b"ssh-not-a-key-but-a-secret!!!!!!",
            b'{"kty": "oct", "k": "this is a JSON text used as a secret"}',
            b"\x30" * 32,
        ],
    )
    def test_random_secrets_are_not_mistaken_for_keys(self, secret: bytes) -> None:
        """A random 32-byte secret starts with "{" once in 256 draws: it must be accepted."""
        assert StaticKey(secret, "HS256").algorithms == {"HS256"}

    def test_many_random_secrets(self) -> None:
        import secrets

        for _ in range(2000):
            StaticKey(secrets.token_bytes(32), "HS256")

    def test_rsa_jwk_with_hs_algorithm(self, keys: Keys) -> None:
        with pytest.raises(ConfigurationError):
            StaticKey(rsa_jwk(keys), "HS256")

    def test_rsa_key_binding(self, keys: Keys) -> None:
        assert StaticKey(pem_public(keys.rsa), "RS384").algorithms == {"RS384"}
        assert StaticKey(pem_private(keys.rsa), "RS256").algorithms == {"RS256"}
        with pytest.raises(ConfigurationError, match="cannot be used"):
            StaticKey(pem_public(keys.rsa), "ES256")

    def test_small_rsa_key(self) -> None:
        small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        with pytest.raises(ConfigurationError, match="2048"):
            StaticKey(pem_public(small), "RS256")

    @pytest.mark.parametrize(
        ("curve", "alg", "other"),
        [("ec256", "ES256", "ES384"), ("ec384", "ES384", "ES512"), ("ec521", "ES512", "ES256")],
    )
    def test_ec_curve_binding(self, keys: Keys, curve: str, alg: str, other: str) -> None:
        pem = pem_public(getattr(keys, curve))
        assert StaticKey(pem, alg).algorithms == {alg}
        assert StaticKey.infer(pem).algorithms == {alg}
        with pytest.raises(ConfigurationError):
            StaticKey(pem, other)

    def test_algorithm_of_another_key_type(self) -> None:
        pem = pem_public(ed25519.Ed25519PrivateKey.generate())
        with pytest.raises(ConfigurationError, match="cannot be used with this OKP key"):
            StaticKey(pem, "RS256")

    @pytest.mark.parametrize("kty", ["DSA", "oct-X", None])
    def test_unsupported_key_type(self, kty: str | None) -> None:
        with pytest.raises(ConfigurationError, match="unsupported JWK key type"):
            StaticKey({"kty": kty, "k": "x"})

    def test_jwk_alg_and_kid_are_used(self, keys: Keys) -> None:
        key = StaticKey(rsa_jwk(keys, alg="RS512", kid="k1"))
        assert (key.algorithms, key.kid) == ({"RS512"}, "k1")
        assert StaticKey(rsa_jwk(keys)).algorithms == {"RS256", "RS384", "RS512"}
        with pytest.raises(ConfigurationError, match="contradicts"):
            StaticKey(rsa_jwk(keys, alg="RS512"), "RS256")
        with pytest.raises(ConfigurationError, match="contradicts"):
            StaticKey(rsa_jwk(keys, kid="a"), kid="b")

    @pytest.mark.parametrize(
        "extra", [{"use": "enc"}, {"key_ops": ["encrypt"]}, {"alg": "RSA-OAEP"}]
    )
    def test_jwk_not_for_signatures(self, keys: Keys, extra: dict[str, Any]) -> None:
        with pytest.raises(ConfigurationError):
            StaticKey(rsa_jwk(keys, **extra))

    def test_oct_jwk(self) -> None:
        key = StaticKey({"kty": "oct", "k": b64url(b"s" * 48), "kid": "o"})
        assert key.algorithms == {"HS256", "HS384"}
        with pytest.raises(ConfigurationError):
            StaticKey({"kty": "oct", "k": b64url(b"s" * 16)})
        with pytest.raises(ConfigurationError):
            StaticKey({"kty": "oct", "k": "not base64!"})
        with pytest.raises(ConfigurationError):
            StaticKey({"kty": "oct"})

    @pytest.mark.parametrize(
        "jwk",
        [
            {"kty": "RSA", "n": "AQAB"},
            {"kty": "RSA", "n": "!!", "e": "AQAB"},
            {"kty": "EC", "crv": "P-256", "x": b64url(b"\x01" * 32), "y": b64url(b"\x02" * 32)},
            {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"},
            {"kty": "OKP", "crv": "Ed25519", "x": "AA"},
            {"kty": 5},
        ],
    )
    def test_broken_or_unsupported_jwk(self, jwk: dict[str, Any]) -> None:
        with pytest.raises(ConfigurationError):
            StaticKey(jwk)

    def test_repr_hides_material(self) -> None:
        assert "topsecret" not in repr(StaticKey(b"topsecret" * 4, "HS256"))

    def test_verify_only_for_allowed_algorithm(self, keys: Keys) -> None:
        key = StaticKey(b"k" * 32, "HS256")
        assert not key.verify("HS384", b"a.b", b"sig")
        assert not key.verify("HS256", b"a.b", b"sig")


class TestKeySet:
    def test_jwks_document(self, keys: Keys, caplog: pytest.LogCaptureFixture) -> None:
        document = {
            "keys": [
                rsa_jwk(keys, kid="a"),
                rsa_jwk(keys, kid="enc", use="enc"),
                {"kty": "OKP", "crv": "X25519", "x": "AA", "kid": "x"},
            ]
        }
        key_set = KeySet(document)
        assert [key.kid for key in key_set.keys] == ["a"]
        assert "skipping key #1" in caplog.text and "skipping key #2" in caplog.text

    def test_selection(self, keys: Keys) -> None:
        a, b = keys.verification_key("RS256", kid="a"), keys.verification_key("ES256", kid="b")
        key_set = KeySet([a, b])
        assert key_set.resolve({"kid": "b"}, {}) == (b,)
        assert key_set.resolve({"kid": "zzz"}, {}) == ()
        assert key_set.resolve({}, {}) == ()  # several keys: a kid is needed
        single = KeySet([a])
        assert single.resolve({}, {}) == (a,)

    @pytest.mark.parametrize(
        "bad",
        [
            pytest.param({"keys": []}, id="empty"),
            pytest.param({"keys": "x"}, id="keys-not-list"),
            pytest.param({}, id="no-keys-member"),
            pytest.param({"keys": [{"kty": "oct", "k": "!!", "kid": "x"}]}, id="broken-material"),
            pytest.param({"keys": [{"use": "enc", "kty": "RSA"}]}, id="only-encryption-keys"),
            pytest.param("not a document", id="string"),
            pytest.param([1], id="junk-entry"),
        ],
    )
    def test_unusable_sets(self, bad: Any) -> None:
        with pytest.raises(ConfigurationError):
            KeySet(bad)

    def test_ambiguous_sets(self, keys: Keys) -> None:
        with pytest.raises(ConfigurationError, match="needs a kid"):
            KeySet([keys.verification_key("HS256"), keys.verification_key("RS256", kid="r")])
        with pytest.raises(ConfigurationError, match="share kid"):
            KeySet(
                [keys.verification_key("RS256", kid="r"), keys.verification_key("RS256", kid="r")]
            )
        # one kid for two algorithms is fine: the token's alg picks
        KeySet([keys.verification_key("RS256", kid="r"), keys.verification_key("ES256", kid="r")])
