"""Coverage-guided fuzzing (atheris) of the compact parser, the verifier, DPoP proofs and
the WSGI middleware (with DPoP on). Whatever the input: the parser raises only
MalformedToken, the verifier only AuthError, the proof check only InvalidDPoPProof, the
middleware answers 200/400/401/403 and never fails with internal_error, and nothing but
the one genuine token (with its one genuine proof) is ever accepted.

    python fuzz/fuzz_tokens.py -runs=200000          # or with a corpus directory
    python fuzz/fuzz_tokens.py -max_total_time=600 fuzz/corpus
"""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from jwt_middleware import (
        AuthError,
        BearerHeader,
        Cookie,
        DPoP,
        DPoPKey,
        MalformedToken,
        MemoryReplayCache,
        StaticKey,
        Verifier,
    )
    from jwt_middleware._compact import parse
    from jwt_middleware._issuing import TokenIssuer
    from jwt_middleware.errors import InvalidDPoPProof
    from jwt_middleware.wsgi import JWTMiddleware

SECRET = b"fuzzing secret, thirty-two bytes or more"
NOW = 1_700_000_000
VERIFIER = Verifier(StaticKey(SECRET, "HS256"), clock=lambda: NOW, cache_size=0)
GENUINE = TokenIssuer(StaticKey(SECRET, "HS256"), clock=lambda: NOW).issue("fuzz")
ALLOWED = {"200", "400", "401", "403"}
CLIENT = DPoPKey.generate()
BOUND = TokenIssuer(StaticKey(SECRET, "HS256"), clock=lambda: NOW).issue(
    "fuzz", dpop_jkt=CLIENT.thumbprint
)
URL = "http://api.example/orders"
PROOF = CLIENT.proof("GET", URL, access_token=BOUND, iat=NOW)
REASONS: list[str] = []


def app(environ: dict[str, object], start_response: object) -> list[bytes]:
    if environ.get("jwt.claims") is not None and environ["jwt.claims"]["sub"] != "fuzz":  # type: ignore[index]
        raise AssertionError("a token that is not the genuine one reached the app")
    start_response("200 OK", [])  # type: ignore[operator]
    return [b"ok"]


class Forgetful:
    """A replay cache that never remembers: every request meets the full proof checks."""

    def first_use(self, key: str, ttl: float) -> bool:
        return True

    async def afirst_use(self, key: str, ttl: float) -> bool:
        return True


MIDDLEWARE = JWTMiddleware(
    app,
    verifier=VERIFIER,
    sources=[BearerHeader(), Cookie("t")],
    exempt=["/public/"],
    warm_start=False,
    dpop=DPoP(replay=Forgetful()),
    on_decision=lambda event: REASONS.append(event.reason),
)


def check_parser(text: str) -> None:
    with contextlib.suppress(MalformedToken):  # anything else escapes: a finding
        parse(text, 8192)


def check_verifier(text: str) -> None:
    try:
        VERIFIER.verify(text)
    except AuthError:
        return
    if text != GENUINE:
        raise AssertionError(f"accepted a token that is not the genuine one: {text!r}")


def check_mutation(data: atheris.FuzzedDataProvider) -> None:
    token = bytearray(GENUINE.encode())
    for _ in range(data.ConsumeIntInRange(1, 4)):
        token[data.ConsumeIntInRange(0, len(token) - 1)] = data.ConsumeIntInRange(0x21, 0x7E)
    check_verifier(token.decode("ascii"))


def check_proof(proof: str) -> None:
    """Only InvalidDPoPProof escapes; only the genuine proof passes."""
    dpop = DPoP(replay=MemoryReplayCache())
    try:
        dpop.check_proof(proof, method="GET", uri=URL, access_token=BOUND, now=NOW)
    except InvalidDPoPProof:
        return
    if proof != PROOF:
        raise AssertionError(f"accepted a proof that is not the genuine one: {proof!r}")


def check_proof_mutation(data: atheris.FuzzedDataProvider) -> None:
    proof = bytearray(PROOF.encode())
    for _ in range(data.ConsumeIntInRange(1, 4)):
        proof[data.ConsumeIntInRange(0, len(proof) - 1)] = data.ConsumeIntInRange(0x21, 0x7E)
    check_proof(proof.decode("ascii"))


def check_middleware(data: atheris.FuzzedDataProvider) -> None:
    def text(limit: int) -> str:
        return data.ConsumeBytes(limit).decode("latin-1").replace("\r", "").replace("\n", "")

    environ = {
        "REQUEST_METHOD": data.PickValueInList(["GET", "POST", "OPTIONS", "DELETE"]),
        "PATH_INFO": data.PickValueInList(["/", "/public/x", "/publicity", "/a/../b"]),
        "QUERY_STRING": text(40),
        "wsgi.url_scheme": "http",
        "HTTP_HOST": text(20),
        "HTTP_AUTHORIZATION": data.PickValueInList(["", "DPoP ", "Bearer "]) + text(300),
        "HTTP_DPOP": data.PickValueInList(["", PROOF]) + text(200),
        "HTTP_COOKIE": text(300),
        "HTTP_ORIGIN": text(30),
    }
    status: list[str] = []
    REASONS.clear()
    MIDDLEWARE(environ, lambda s, h, e=None: status.append(s))
    if status[0][:3] not in ALLOWED:
        raise AssertionError(f"status {status[0]}")
    if "internal_error" in REASONS:
        raise AssertionError("a refusal without its own reason (internal_error)")


def test_one_input(raw: bytes) -> None:
    data = atheris.FuzzedDataProvider(raw)
    choice = data.ConsumeIntInRange(0, 5)
    if choice == 0:
        check_parser(data.ConsumeUnicodeNoSurrogates(600))
    elif choice == 1:
        check_verifier(data.ConsumeUnicodeNoSurrogates(600))
    elif choice == 2:
        check_mutation(data)
    elif choice == 3:
        check_proof(data.ConsumeUnicodeNoSurrogates(900))
    elif choice == 4:
        check_proof_mutation(data)
    else:
        check_middleware(data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
