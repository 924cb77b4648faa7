"""The real ``jwt-middleware`` console script, in subprocesses: outputs, exit codes, file
modes, and tokens that verify here and with PyJWT."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest

from jwt_middleware._keyfiles import file_stem
from jwt_middleware.cli import duration

from .conftest import b64url
from .docserver import DocumentServer

SCRIPT = Path(sys.executable).with_name("jwt-middleware")


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        cwd=cwd,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int) -> None:
    assert result.returncode == code, result
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.fixture
def es256(tmp_path: Path) -> tuple[Path, Path]:
    result = run("keygen", "--alg", "ES256", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (pem,) = tmp_path.glob("*.pem")
    (jwks,) = tmp_path.glob("*.jwks.json")
    return pem, jwks


class TestKeygen:
    @pytest.mark.parametrize(
        ("alg", "private_suffix", "size"),
        [
            ("HS256", ".jwk.json", 32),
            ("HS512", ".jwk.json", 64),
            ("RS256", ".pem", 3072),
            ("ES384", ".pem", 384),
        ],
    )
    def test_files_and_modes(
        self, tmp_path: Path, alg: str, private_suffix: str, size: int
    ) -> None:
        result = run("keygen", "--alg", alg, "--kid", "k-1", "--out", str(tmp_path / "keys"))
        assert result.returncode == 0, result.stderr
        private = tmp_path / "keys" / f"k-1{private_suffix}"
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
        assert f"wrote {private}" in result.stdout
        assert "PRIVATE" not in result.stdout and '"k"' not in result.stdout
        if alg.startswith("HS"):
            jwk = json.loads(private.read_text())
            assert (jwk["kty"], jwk["alg"], jwk["kid"]) == ("oct", alg, "k-1")
            assert len(pyjwt.utils.base64url_decode(jwk["k"])) == size
            assert not list((tmp_path / "keys").glob("*.jwks.json"))
        else:
            public = tmp_path / "keys" / "k-1.jwks.json"
            assert stat.S_IMODE(public.stat().st_mode) == 0o644
            (key,) = json.loads(public.read_text())["keys"]
            assert (key["alg"], key["kid"], key["use"]) == (alg, "k-1", "sig")
            assert "d" not in key
            assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")

    def test_default_kid_is_the_thumbprint(self, tmp_path: Path) -> None:
        result = run("keygen", "--alg", "ES256", "--out", str(tmp_path))
        (jwks,) = tmp_path.glob("*.jwks.json")
        (key,) = json.loads(jwks.read_text())["keys"]
        assert len(key["kid"]) == 43
        assert (tmp_path / f"{file_stem(key['kid'])}.pem").exists()
        assert f"--alg ES256 --kid {key['kid']} --sub SUBJECT" in result.stdout

    def test_never_overwrites_without_force(self, tmp_path: Path) -> None:
        assert run("keygen", "--alg", "HS256", "--kid", "a", "--out", str(tmp_path)).returncode == 0
        again = run("keygen", "--alg", "HS256", "--kid", "a", "--out", str(tmp_path))
        assert_one_line_error(again, 2)
        assert "--force" in again.stderr
        assert (
            run(
                "keygen", "--alg", "HS256", "--kid", "a", "--out", str(tmp_path), "--force"
            ).returncode
            == 0
        )

    def test_force_tightens_a_loose_file(self, tmp_path: Path) -> None:
        loose = tmp_path / "a.jwk.json"
        loose.write_text("old")
        loose.chmod(0o666)
        run("keygen", "--alg", "HS256", "--kid", "a", "--out", str(tmp_path), "--force")
        assert stat.S_IMODE(loose.stat().st_mode) == 0o600

    def test_private_key_printed_only_when_asked(self, tmp_path: Path) -> None:
        result = run("keygen", "--alg", "RS256", "--print-private", cwd=tmp_path)
        assert result.stdout.startswith("-----BEGIN PRIVATE KEY-----")
        assert not list(tmp_path.iterdir())

    @pytest.mark.parametrize(
        "args", [["--alg", "none"], ["--alg", "ES256K"], ["--alg", "RS256", "--bits", "1024"], []]
    )
    def test_usage_errors(self, args: list[str], tmp_path: Path) -> None:
        result = run("keygen", *args, "--out", str(tmp_path))
        assert result.returncode == 2
        assert "Traceback" not in result.stderr


class TestIssueAndVerify:
    def test_round_trip_and_pyjwt(self, es256: tuple[Path, Path]) -> None:
        pem, jwks = es256
        kid = pem.name.removesuffix(".pem")
        issued = run(
            "issue",
            "--key",
            str(pem),
            "--kid",
            kid,
            "--sub",
            "alice",
            "--ttl",
            "10m",
            "--iss",
            "https://me/",
            "--aud",
            "api",
            "--scope",
            "read write",
            "--claim",
            "tenant=t1",
            "--claim",
            "level=3",
            "--claim",
            'tags=["a"]',
        )
        assert issued.returncode == 0, issued.stderr
        token = issued.stdout.strip()
        verified = run(
            "verify", "--key", str(jwks), "--aud", "api", "--iss", "https://me/", stdin=token
        )
        assert verified.returncode == 0, verified.stderr
        claims = json.loads(verified.stdout)
        assert (
            claims["sub"],
            claims["scope"],
            claims["tenant"],
            claims["level"],
            claims["tags"],
        ) == ("alice", "read write", "t1", 3, ["a"])
        assert claims["exp"] - claims["iat"] == 600
        public = pyjwt.PyJWKSet.from_json(jwks.read_text()).keys[0]
        assert pyjwt.get_unverified_header(token)["kid"] == public.key_id
        decoded = pyjwt.decode(
            token, public.key, algorithms=["ES256"], audience="api", issuer="https://me/"
        )
        assert decoded["sub"] == "alice"

    @pytest.mark.parametrize("alg", ["HS256", "RS512"])
    def test_other_algorithms(self, tmp_path: Path, alg: str) -> None:
        run("keygen", "--alg", alg, "--kid", "k", "--out", str(tmp_path))
        private = next(p for p in tmp_path.iterdir() if p.name.endswith((".pem", ".jwk.json")))
        token = run(
            "issue", "--key", str(private), "--sub", "bob", "--alg", alg, "--kid", "k"
        ).stdout.strip()
        public = tmp_path / "k.jwks.json" if alg.startswith("RS") else private
        assert run("verify", token, "--key", str(public)).returncode == 0
        if alg == "RS512":  # without --alg an RSA PEM signs RS256, which this JWKS refuses
            default = run("issue", "--key", str(private), "--sub", "bob").stdout.strip()
            assert json.loads(b64url_json(default.split(".")[0]))["alg"] == "RS256"
            assert run("verify", default, "--key", str(public)).returncode == 1

    def test_bare_secret_file_means_hs256(self, tmp_path: Path) -> None:
        secret = tmp_path / "secret.txt"
        secret.write_text("a shared secret of at least thirty-two bytes\n")
        token = run("issue", "--key", str(secret), "--sub", "carol").stdout.strip()
        assert json.loads(b64url_json(token.split(".")[0]))["alg"] == "HS256"
        assert run("verify", token, "--key", str(secret)).returncode == 0

    def test_invalid_tokens_exit_1_with_the_reason(
        self, es256: tuple[Path, Path], tmp_path: Path
    ) -> None:
        pem, jwks = es256
        expired = run("issue", "--key", str(pem), "--sub", "a", "--ttl", "1").stdout.strip()
        time.sleep(1.1)
        result = run("verify", expired, "--key", str(jwks))
        assert_one_line_error(result, 1)
        assert result.stderr.startswith("invalid: expired: The access token expired")
        tampered = expired[:-6] + ("AAAAAA" if not expired.endswith("AAAAAA") else "BBBBBB")
        assert run("verify", tampered, "--key", str(jwks)).returncode == 1
        assert "malformed" in run("verify", "a.b.c", "--key", str(jwks)).stderr
        other = tmp_path / "other"
        run("keygen", "--alg", "ES256", "--kid", "x", "--out", str(other))
        token = run("issue", "--key", str(other / "x.pem"), "--sub", "a").stdout.strip()
        assert "bad_signature" in run("verify", token, "--key", str(jwks)).stderr
        token = run(
            "issue", "--key", str(other / "x.pem"), "--kid", "x", "--sub", "a"
        ).stdout.strip()
        assert "unknown_key" in run("verify", token, "--key", str(jwks)).stderr

    def test_algorithm_from_the_key_never_the_token(
        self, tmp_path: Path, es256: tuple[Path, Path]
    ) -> None:
        """An HS256 token signed with the public JWKS text as the secret (key confusion)."""
        _, jwks = es256
        import hashlib
        import hmac as hmac_module

        header = b64url(json.dumps({"alg": "HS256"}).encode())
        payload = b64url(json.dumps({"sub": "root", "exp": int(time.time()) + 60}).encode())
        signing_input = f"{header}.{payload}".encode()
        signature = hmac_module.new(jwks.read_bytes(), signing_input, hashlib.sha256).digest()
        forged = f"{header}.{payload}.{b64url(signature)}"
        result = run("verify", forged, "--key", str(jwks))
        assert result.returncode == 1
        assert "disallowed_algorithm" in result.stderr

    def test_verify_with_a_jwks_url(
        self, es256: tuple[Path, Path], docserver: DocumentServer
    ) -> None:
        pem, jwks = es256
        docserver.serve("/jwks", json.loads(jwks.read_text()))
        token = run("issue", "--key", str(pem), "--sub", "dan").stdout.strip()
        assert run("verify", token, "--jwks", docserver.url("/jwks")).returncode == 0
        docserver.serve(
            "/.well-known/openid-configuration",
            {"issuer": docserver.base_url, "jwks_uri": docserver.url("/jwks")},
        )
        with_iss = run(
            "issue", "--key", str(pem), "--sub", "dan", "--iss", docserver.base_url
        ).stdout.strip()
        assert run("verify", with_iss, "--issuer", docserver.base_url).returncode == 0
        assert run("verify", token, "--issuer", docserver.base_url).returncode == 1

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["issue", "--key", "/nonexistent", "--sub", "a"], "No such file"),
            (["issue", "--key", "{jwks}", "--sub", "a"], "cannot sign"),
            (["issue", "--key", "{pem}", "--sub", "a", "--claim", "exp=1"], "set by the issuer"),
            (["issue", "--key", "{pem}", "--sub", "a", "--claim", "novalue"], "name=value"),
            (["issue", "--key", "{pem}", "--sub", "a", "--ttl", "soon"], "duration"),
            (["issue", "--key", "{pem}", "--sub", "a", "--scope", 'a"b'], "scope"),
            (["verify", "x.y.z", "--jwks", "http://example.com/jwks"], "https"),
            (["verify", "x.y.z"], "one of the arguments"),
            (["verify", "--key", "{jwks}"], "no token"),
            (["verify", "a b", "--key", "{jwks}"], "white space"),
        ],
    )
    def test_usage_errors(self, es256: tuple[Path, Path], args: list[str], message: str) -> None:
        pem, jwks = es256
        args = [a.format(pem=pem, jwks=jwks) for a in args]
        result = run(*args, stdin="")
        assert result.returncode == 2, result
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def b64url_json(segment: str) -> bytes:
    return pyjwt.utils.base64url_decode(segment)


class TestInspect:
    def token(self, header: dict[str, Any], claims: Any, signature: str = "c2ln") -> str:
        payload = claims if isinstance(claims, bytes) else json.dumps(claims).encode()
        return f"{b64url(json.dumps(header).encode())}.{b64url(payload)}.{signature}"

    def test_says_not_verified_and_shows_times(self) -> None:
        now = int(time.time())
        token = self.token(
            {"alg": "RS256", "kid": "k"},
            {"sub": "a", "iat": now - 60, "exp": now + 750, "iss": "i", "aud": "x"},
        )
        result = run("inspect", token)
        assert result.returncode == 0
        lines = result.stdout.splitlines()
        assert lines[0].startswith("NOT VERIFIED")
        assert "expires in 12 min" in result.stdout and "UTC" in result.stdout
        assert "warning" not in result.stdout
        assert "\033[" not in result.stdout  # no colour off a terminal

    def test_from_stdin(self) -> None:
        token = self.token({"alg": "HS256"}, {"sub": "a"})
        assert '"a"' in run("inspect", "-", stdin=token + "\n").stdout
        assert '"a"' in run("inspect", stdin=token).stdout

    @pytest.mark.parametrize(
        ("header", "claims", "codes"),
        [
            ({"alg": "none"}, {"sub": "a"}, {"alg_none", "no_exp"}),
            ({"alg": "NoNe"}, {"exp": 1}, {"alg_none", "expired"}),
            (
                {"alg": "RS256", "jku": "https://evil/", "x5u": "https://evil/x"},
                {"exp": 4102444800, "iat": 4102444000},
                {"key_url_header"},
            ),
            ({"alg": "RS256", "jwk": {"kty": "RSA"}}, {}, {"embedded_key"}),
            ({"alg": "HS256", "kid": "../../public.pem"}, {}, {"suspicious_kid"}),
            ({"alg": "HS256", "kid": "' OR 1=1 --"}, {}, {"suspicious_kid"}),
            ({"alg": "HS256", "crit": ["x"]}, {}, {"crit"}),
            ({"alg": "HS256"}, {"exp": "tomorrow"}, {"bad_numeric_date"}),
            ({"alg": "HS256", "typ": "at+jwt"}, {"iat": 0, "exp": 4102444800}, {"long_lived"}),
            ({"alg": "HS256", "typ": "refresh+jwt"}, {"iat": 0, "exp": 4102444800}, set()),
            ({"alg": "HS256"}, {"nbf": 4102444800, "exp": 4102444900}, {"not_yet_valid"}),
            ({"alg": "HS256"}, {"exp": 4102444800, "iat": 4102444000}, {"no_iss", "no_aud"}),
        ],
    )
    def test_warnings(
        self, header: dict[str, Any], claims: dict[str, Any], codes: set[str]
    ) -> None:
        token = self.token(
            header, claims, signature="" if header["alg"].lower() == "none" else "c2ln"
        )
        report = json.loads(run("inspect", "--json", token).stdout)
        assert report["verified"] is False
        found = {w["code"] for w in report["warnings"]} - ({"no_iss", "no_aud"} - codes)
        assert codes <= found, report["warnings"]
        if not codes:
            assert found == set()

    def test_not_a_jwt(self) -> None:
        report = json.loads(
            run("inspect", "--json", self.token({"alg": "HS256"}, b"plain text")).stdout
        )
        assert report["claims"] == "plain text" and report["problems"]
        jwe_header = b64url(json.dumps({"alg": "dir", "enc": "A128GCM"}).encode())
        jwe = json.loads(run("inspect", "--json", f"{jwe_header}..iv.ct.tag").stdout)
        assert "JWE" in jwe["problems"][0]
        garbage = run("inspect", "garbage")
        assert garbage.returncode == 1  # a token that cannot be decoded is a failure
        assert "cannot decode: 1 segments, not 3" in garbage.stderr
        assert "looks like a file" not in garbage.stderr

    def test_a_file_name_gets_a_hint(self, tmp_path: Path) -> None:
        (tmp_path / "token.txt").write_text("x.y\n")
        result = run("inspect", "token.txt", cwd=tmp_path)
        assert result.returncode == 1
        assert "use `jwt-middleware inspect - < token.txt`" in result.stderr


class TestSeams:
    def test_version(self) -> None:
        import jwt_middleware

        result = run("--version")
        assert result.returncode == 0
        assert result.stdout.strip() == f"jwt-middleware {jwt_middleware.__version__}"
        assert jwt_middleware.__version__ not in ("", "0+unknown")

    @pytest.mark.parametrize(
        ("offset", "reason"),
        [("--valid-from=-1h", "expired"), ("--valid-from=+5m", "not_yet_valid")],
    )
    def test_expired_and_not_yet_valid_test_tokens(
        self, tmp_path: Path, offset: str, reason: str
    ) -> None:
        key = tmp_path / "secret"
        key.write_text("s" * 40)
        token = run("issue", "--key", str(key), "--sub", "x", offset).stdout.strip()
        result = run("verify", "--key", str(key), token)
        assert result.returncode == 1 and f"invalid: {reason}:" in result.stderr

    def test_verify_names_alg_none(self, tmp_path: Path) -> None:
        key = tmp_path / "secret"
        key.write_text("s" * 40)
        unsigned = b64url(b'{"alg":"none"}') + "." + b64url(b'{"sub":"x"}') + "."
        result = run("verify", "--key", str(key), unsigned)
        assert result.returncode == 1 and "alg 'none'" in result.stderr


class TestEntryPoints:
    def test_python_dash_m(self) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "jwt_middleware", "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0
        assert all(name in result.stdout for name in ("keygen", "issue", "inspect", "verify"))

    def test_colour_on_a_terminal_only(self) -> None:
        import pty

        token = TestInspect().token({"alg": "none"}, {"sub": "a"}, signature="")
        leader, follower = pty.openpty()
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        process = subprocess.run(
            [str(SCRIPT), "inspect", token],
            stdout=follower,
            stderr=subprocess.PIPE,
            timeout=60,
            env=env,
            check=False,
        )
        os.close(follower)
        output = os.read(leader, 65536).decode()
        os.close(leader)
        assert process.returncode == 0
        assert "\033[31mNOT VERIFIED" in output


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("900", 900), ("15m", 900), ("1h", 3600), ("7d", 604800), ("30s", 30), (" 2H ", 7200)],
)
def test_duration(text: str, seconds: int) -> None:
    assert duration(text) == seconds


@pytest.mark.parametrize(
    ("kid", "stem"),
    [
        ("abc", "abc"),
        ("_abc", "_abc"),
        ("-abc", "key-abc"),
        (".abc", "key.abc"),
        ("a/b\\c d", "a_b_c_d"),
        ("../../etc", "key.._.._etc"),
        ("", "key"),
    ],
)
def test_file_stem(kid: str, stem: str) -> None:
    """Key files are named by their kid, but never like an option or a hidden file."""
    assert file_stem(kid) == stem


class TestDPoP:
    """``issue --dpop-key`` binds a token to a client's key; ``dpop-proof`` signs the
    proof for one request; the middleware accepts the pair (the curl workflow)."""

    def test_a_bound_token_and_its_proof_pass_the_middleware(
        self, tmp_path: Path, es256: tuple[Path, Path]
    ) -> None:
        from werkzeug.test import Client

        from jwt_middleware import DPoP, StaticKey, Verifier
        from jwt_middleware.wsgi import JWTMiddleware

        signing = tmp_path / "signing"
        assert run("keygen", "--alg", "HS256", "--out", str(signing)).returncode == 0
        (secret_file,) = signing.glob("*.jwk.json")
        client_key, _ = es256
        issued = run(
            "issue", "--key", str(secret_file), "--sub", "alice", "--dpop-key", str(client_key)
        )
        assert issued.returncode == 0, issued.stderr
        token = issued.stdout.strip()
        assert json.loads(run("inspect", "--json", token).stdout)["claims"]["cnf"] == {
            "jkt": client_key.stem
        }  # keygen names the key by its thumbprint
        url = "http://localhost/api"
        proof = run(
            "dpop-proof",
            "--key",
            str(client_key),
            "--method",
            "GET",
            "--url",
            url,
            "--token",
            "-",
            stdin=token,
        )
        assert proof.returncode == 0, proof.stderr

        key = StaticKey(json.loads(secret_file.read_text()))

        def ok(environ: Any, start_response: Any) -> list[bytes]:
            start_response("200 OK", [])
            return [b"ok"]

        app = JWTMiddleware(ok, verifier=Verifier(key), dpop=DPoP())
        headers = {"Authorization": f"DPoP {token}", "DPoP": proof.stdout.strip()}
        assert (
            Client(app).get("/api", base_url="http://localhost", headers=headers).status_code == 200
        )
        assert (
            Client(app).get("/api", base_url="http://localhost", headers=headers).status_code == 401
        )

    def test_bad_dpop_keys_are_one_line_errors(self, tmp_path: Path) -> None:
        public = tmp_path / "public.json"
        public.write_text(json.dumps({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}))
        result = run("dpop-proof", "--key", str(public), "--url", "http://x/")
        assert_one_line_error(result, 2)
        result = run("issue", "--key", str(public), "--sub", "a", "--dpop-jkt", "short")
        assert result.returncode != 0 and "Traceback" not in result.stderr
