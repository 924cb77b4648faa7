"""``jwt-middleware``: make keys, issue, inspect and verify tokens.

Exit codes: 0 success, 1 a token that does not verify, 2 a usage or input error (bad
arguments, unreadable or unsafe key files). Errors are one line on stderr, never a
traceback. Tokens can be piped in (``-`` or no argument) to keep them out of shell
history. Colour only on a terminal (and never with ``NO_COLOR``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from . import __version__, _inspection, _keyfiles
from ._dpop_client import DPoPKey
from ._issuing import RESERVED_CLAIMS, TokenIssuer
from ._keys import SUPPORTED_ALGORITHMS
from ._remote_jwks import RemoteJWKS
from ._resolvers import Keys
from ._verifier import Verifier
from .errors import AuthError, ConfigurationError

__all__ = ["main", "run"]

USAGE_ERROR, INVALID = 2, 1
_DURATION = re.compile(r"(\d+)\s*([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class UsageError(Exception):
    """Bad input from the user: one line on stderr, exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    out = Output(sys.stdout, sys.stderr)
    try:
        result: int = args.run(args, out)
        return result
    except (UsageError, ConfigurationError, FileExistsError) as exc:
        out.error(str(exc))
    except OSError as exc:
        out.error(f"{exc.filename or ''}: {exc.strerror or exc}".strip(": "))
    except KeyboardInterrupt:
        return 130
    return USAGE_ERROR


# -- subcommands ------------------------------------------------------------------------


def keygen(args: argparse.Namespace, out: Output) -> int:
    key = _keyfiles.generate(args.alg, kid=args.kid, rsa_bits=args.bits)
    if args.print_private:
        out.stdout.write(key.private_text)
        if key.public_jwks is not None:
            out.stdout.write(json.dumps(key.public_jwks, indent=2) + "\n")
        return 0
    files = _keyfiles.write(key, Path(args.out), force=args.force)
    for file in files:
        mode = "0600, keep it secret" if file.private else "0644, publish it"
        out.say(f"wrote {file.path} ({file.description}, mode {mode})")
    out.say(f"kid: {key.kid}")
    private_file = next(file.path for file in files if file.private)
    out.say(
        f"issue a token: jwt-middleware issue --key {private_file} --alg {key.algorithm} "
        f"--kid {key.kid} --sub SUBJECT"
    )
    return 0


def issue(args: argparse.Namespace, out: Output) -> int:
    key = _keyfiles.load_key(Path(args.key), algorithm=args.alg, kid=args.kid)
    if not key.can_sign:
        raise UsageError(f"{args.key} holds no secret or private key: it cannot sign")
    # A PEM or a JWK without alg allows a family: the smallest hash (RS256, HS256) unless
    # --alg says otherwise.
    issuer = TokenIssuer(
        key,
        algorithm=args.alg or _default_algorithm(key.algorithms),
        issuer=args.iss,
        audience=args.aud or None,
        access_ttl=args.ttl,
        refresh_ttl=max(args.ttl + 1, 14 * 24 * 3600),
        # --valid-from shifts iat, nbf and exp together (expired or not-yet-valid tokens).
        clock=lambda: time.time() + args.valid_from,
    )
    claims = dict(_claim(text) for text in args.claim)
    scopes = [scope for text in args.scope for scope in text.split()]
    jkt = args.dpop_jkt or (_dpop_key(args.dpop_key).thumbprint if args.dpop_key else None)
    try:
        token = issuer.issue(args.sub, scopes=scopes, claims=claims, dpop_jkt=jkt)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    out.stdout.write(token + "\n")
    return 0


def dpop_proof(args: argparse.Namespace, out: Output) -> int:
    """A DPoP proof for one request, to paste into curl's ``-H "DPoP: ..."``."""
    key = _dpop_key(args.key)
    token = _token(args.token) if args.token is not None else None
    out.stdout.write(key.proof(args.method, args.url, access_token=token, nonce=args.nonce) + "\n")
    return 0


def _dpop_key(path: str) -> DPoPKey:
    text = Path(path).read_text()
    try:
        material = json.loads(text) if text.lstrip().startswith("{") else text
        return DPoPKey(material)
    except (ValueError, ConfigurationError) as exc:
        raise UsageError(f"{path}: not a private EC, RSA or Ed25519 key (PEM or JWK)") from exc


def inspect(args: argparse.Namespace, out: Output) -> int:
    report = _inspection.inspect_token(_token(args.token))
    status = _report_problems(args.token, report.problems, out)
    if args.json:
        out.stdout.write(json.dumps(report.as_json(), indent=2, sort_keys=True) + "\n")
        return status
    out.say(
        out.paint(
            "NOT VERIFIED: anyone can write what follows; use `jwt-middleware verify` to check it.",
            "red",
        )
    )
    out.say("header:")
    for name, value in (report.header or {}).items():
        out.say(f"  {name}: {json.dumps(value)}")
    if isinstance(report.claims, dict):
        out.say("claims:")
        for name, value in report.claims.items():
            when = report.times.get(name)
            extra = f"  ({when['utc']}, {when['relative']})" if when else ""
            out.say(f"  {name}: {json.dumps(value)}{extra}")
    elif report.claims is not None:
        out.say(f"payload (not JSON): {report.claims[:200]!r}")
    out.say(f"signature: {report.signature_bytes} bytes, not checked")
    for finding in report.warnings:
        out.say(out.paint(f"warning [{finding.code}]: {finding.message}", "yellow"))
    return status


def _report_problems(argument: str | None, problems: list[str], out: Output) -> int:
    """A token that cannot be decoded: the reasons on stderr and exit 1."""
    if not problems:
        return 0
    for problem in problems:
        out.error(f"cannot decode: {problem}")
    if argument not in (None, "-") and _looks_like_a_file(argument):
        out.error(f"{argument!r} looks like a file: use `jwt-middleware inspect - < {argument}`")
    return INVALID


def _looks_like_a_file(argument: str) -> bool:
    return Path(argument).is_file() or bool(re.search(r"\.(txt|jwt|token|json)$", argument))


def verify(args: argparse.Namespace, out: Output) -> int:
    token = _token(args.token)
    if args.key:
        keys: Keys = _keyfiles.load_key(Path(args.key), algorithm=args.alg, kid=args.kid)
    elif args.jwks:
        keys = RemoteJWKS(args.jwks, timeout=args.timeout)
    else:
        keys = RemoteJWKS.discover(args.issuer, timeout=args.timeout)
    verifier = Verifier(
        keys,
        algorithms=[args.alg] if args.alg else None,
        issuer=args.iss or (args.issuer if args.issuer else None),
        audience=args.aud or None,
        leeway=args.leeway,
        token_types=_token_types(args.typ),
    )
    try:
        claims = verifier.verify(token)
    except AuthError as error:
        detail = f" ({error})" if str(error) != error.description else ""
        alg = _unverified_alg(token)
        if alg is not None and alg.lower() == "none":
            detail += f" (alg {alg!r}: an unsigned token, never accepted)"
        out.error(f"invalid: {error.reason}: {error.description}{detail}", plain=True)
        return INVALID
    out.err.write(out.paint("valid: signature and claims verified\n", "green"))
    out.stdout.write(json.dumps(claims, indent=2) + "\n")
    return 0


# -- helpers ----------------------------------------------------------------------------


class Output:
    def __init__(self, stdout: TextIO, err: TextIO) -> None:
        self.stdout, self.err = stdout, err
        self._colour = stdout.isatty() and "NO_COLOR" not in os.environ

    def say(self, line: str) -> None:
        self.stdout.write(line + "\n")

    def error(self, message: str, *, plain: bool = False) -> None:
        self.err.write(("" if plain else "error: ") + message + "\n")

    def paint(self, text: str, colour: str) -> str:
        if not self._colour:
            return text
        code = {"red": "31", "yellow": "33", "green": "32"}[colour]
        return f"\033[{code}m{text}\033[0m"


def _token(argument: str | None) -> str:
    if argument is None or argument == "-":
        if argument is None and sys.stdin.isatty():
            raise UsageError("give a token, or pipe one in (`-` reads standard input)")
        text = sys.stdin.read()
    else:
        text = argument
    token = text.strip()
    if not token:
        raise UsageError("no token given")
    if any(ch.isspace() for ch in token):
        raise UsageError("the token contains white space")
    return token


def _unverified_alg(token: str) -> str | None:
    header = _inspection.inspect_token(token).header or {}
    alg = header.get("alg")
    return alg if isinstance(alg, str) else None


def offset(text: str) -> int:
    """A signed duration: ``-1h``, ``+5m``, ``30s``."""
    sign = -1 if text.strip().startswith("-") else 1
    match = _DURATION.fullmatch(text.strip().lstrip("+-").lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not an offset like -1h, +5m or 30s")
    return sign * int(match.group(1)) * _UNITS[match.group(2)]


def duration(text: str) -> int:
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or int(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 900, 15m, 1h or 7d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _claim(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise UsageError(f"--claim {text!r}: use name=value")
    if name in RESERVED_CLAIMS:
        raise UsageError(f"--claim {name}: set by the issuer (use --sub, --iss, --aud, ...)")
    try:
        value: Any = json.loads(raw)  # numbers, booleans, lists, objects
    except ValueError:
        value = raw  # anything else is a string
    return name, value


def _default_algorithm(algorithms: frozenset[str]) -> str:
    """For a key that allows a family: EdDSA for Ed25519, else the smallest hash."""
    return "EdDSA" if "EdDSA" in algorithms else min(algorithms)


def _token_types(typ: list[str] | None) -> list[str | None] | None:
    if not typ:
        return None
    return [None if t.lower() in ("", "none", "absent") else t for t in typ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jwt-middleware", description="Make keys, issue, inspect and verify JWTs."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    algorithms = sorted(SUPPORTED_ALGORITHMS)

    make = commands.add_parser("keygen", help="make a signing key and its public JWKS")
    make.add_argument("--alg", required=True, choices=algorithms)
    make.add_argument("--kid", help="key id (default: the RFC 7638 thumbprint)")
    make.add_argument("--out", default=".", help="directory for the files (default: .)")
    make.add_argument("--bits", type=int, default=3072, help="RSA key size (default 3072)")
    make.add_argument("--force", action="store_true", help="replace existing files")
    make.add_argument(
        "--print-private",
        action="store_true",
        help="print the private key to stdout instead of writing files",
    )
    make.set_defaults(run=keygen)

    mint = commands.add_parser("issue", help="print a signed access token")
    mint.add_argument("--key", required=True, help="secret, PEM private key or JWK file")
    mint.add_argument("--sub", required=True, help="the subject")
    mint.add_argument(
        "--alg", choices=algorithms, help="when the key allows several (default: RS256, HS256)"
    )
    mint.add_argument("--kid", help="the key's id (and its pick in a JWKS)")
    mint.add_argument("--ttl", type=duration, default=900, help="lifetime (default 15m)")
    mint.add_argument(
        "--valid-from",
        type=offset,
        default=0,
        metavar="OFFSET",
        help="shift iat/nbf/exp from now, for test tokens: --valid-from=+5m is not valid "
        "yet; --valid-from=-1h (with the default 15m ttl) expired 45 min ago",
    )
    mint.add_argument("--iss", help="issuer")
    mint.add_argument("--aud", action="append", help="audience (repeatable)")
    mint.add_argument("--scope", action="append", default=[], help="scopes (repeatable)")
    mint.add_argument(
        "--claim",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra claim; VALUE is JSON when it parses (repeatable)",
    )
    binding = mint.add_mutually_exclusive_group()
    binding.add_argument(
        "--dpop-key", metavar="FILE", help="bind the token to this DPoP key (cnf.jkt)"
    )
    binding.add_argument("--dpop-jkt", metavar="THUMBPRINT", help="bind it to a key thumbprint")
    mint.set_defaults(run=issue)

    proof = commands.add_parser("dpop-proof", help="print a DPoP proof for one request")
    proof.add_argument("--key", required=True, help="the client's private key (PEM or JWK)")
    proof.add_argument("--method", default="GET", help="the HTTP method (default GET)")
    proof.add_argument("--url", required=True, help="the request URL (query is dropped)")
    proof.add_argument("--token", help="the access token (ath), or - for stdin")
    proof.add_argument("--nonce", help="the server's DPoP-Nonce, when it asks for one")
    proof.set_defaults(run=dpop_proof)

    look = commands.add_parser("inspect", help="decode a token WITHOUT verifying it")
    look.add_argument("token", nargs="?", help="the token, or - (default) for stdin")
    look.add_argument("--json", action="store_true", help="machine-readable output")
    look.set_defaults(run=inspect)

    check = commands.add_parser("verify", help="verify a token with the middleware's checks")
    check.add_argument("token", nargs="?", help="the token, or - (default) for stdin")
    source = check.add_mutually_exclusive_group(required=True)
    source.add_argument("--key", help="secret, PEM or JWK(S) file")
    source.add_argument("--jwks", help="a JWKS URL")
    source.add_argument("--issuer", help="an OpenID issuer: keys through discovery")
    check.add_argument("--alg", choices=algorithms, help="pin the algorithm")
    check.add_argument("--kid", help="pick a key from a JWKS file")
    check.add_argument("--iss", help="required issuer")
    check.add_argument("--aud", action="append", help="accepted audience (repeatable)")
    check.add_argument("--leeway", type=float, default=0.0, help="clock skew allowance, s")
    check.add_argument(
        "--typ",
        action="append",
        help="accepted JOSE typ (repeatable; 'none' for absent; default: absent, JWT, at+jwt)",
    )
    check.add_argument("--timeout", type=float, default=5.0, help="for fetching keys, s")
    check.set_defaults(run=verify)
    return parser


def run() -> NoReturn:
    """The console script's entry point."""
    sys.exit(main())
