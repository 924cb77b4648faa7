"""Sender-constrained tokens at the policy: does this request hold what its token is
bound to? (RFC 9449 DPoP ``cnf.jkt``, RFC 8705 certificates ``cnf.x5t#S256``.)

Pure, like the rest of the policy: ``SenderBinding.check`` answers the DPoP proof
that passed (whose replay-cache entry the policy's sync or async driver then claims
with ``claim``/``aclaim``), or raises the refusal. A ``cnf`` this configuration cannot
check fails closed.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from ._claims import confirmation
from ._dpop import CheckedProof, DPoP
from ._mtls import ClientCertificates
from ._origin import OriginPolicy
from ._request import RequestView
from ._sources import BearerHeader, DPoPHeader, TokenSource
from ._verifier import VerifiedToken
from .errors import (
    BindingMismatch,
    ConfigurationError,
    InvalidDPoPProof,
    UnsupportedConfirmation,
)


class SenderBinding:
    """What the policy asks about sender constraints: which sources read the DPoP
    scheme, what a DPoP request must carry before its token is verified, and whether
    a verified token's request holds what the token is bound to."""

    def __init__(
        self,
        dpop: DPoP | None,
        certificates: ClientCertificates | None,
        origins: OriginPolicy,
    ) -> None:
        self.dpop = dpop
        self.certificates = certificates
        self._origins = origins

    def sources(self, sources: tuple[TokenSource, ...]) -> tuple[TokenSource, ...]:
        """With DPoP, the Authorization header's ``DPoP`` scheme is read just ahead of its
        ``Bearer`` one (one header, two schemes)."""
        if self.dpop is None or any(isinstance(source, DPoPHeader) for source in sources):
            return sources
        for index, source in enumerate(sources):
            if isinstance(source, BearerHeader):
                return (*sources[:index], DPoPHeader(source.name), *sources[index:])
        raise ConfigurationError(
            "DPoP tokens come in the Authorization header: keep a BearerHeader"
        )

    def admit(self, request: RequestView, source: TokenSource) -> str | None:
        """Before the token is verified: a bearer token where DPoP is required is
        refused; a DPoP one must come with one proof, which is answered (read once)."""
        dpop = self.dpop
        if dpop is None:
            return None
        if type(source) is not DPoPHeader:
            if dpop.required:
                raise BindingMismatch("dpop_required")
            return None
        values = request.header_values("dpop")
        if not values:
            raise InvalidDPoPProof("dpop_missing", "the DPoP scheme without a DPoP proof")
        if len(values) > 1 or "," in values[0]:
            raise InvalidDPoPProof("dpop_multiple", "more than one DPoP proof")
        return values[0].strip(" \t")

    def check(
        self,
        request: RequestView,
        token: str,
        verified: VerifiedToken,
        proof_text: str | None,
        clock: Callable[[], float],
    ) -> CheckedProof | None:
        """The proof that passed (its replay entry still to be claimed, see
        ``DPoP.claim``), or None when there is nothing to prove; raises the refusal.
        ``proof_text``: what ``admit`` answered."""
        if not verified.bound and proof_text is None:
            return None  # a plain bearer token
        cnf = confirmation(verified.claims)
        jkt = None if cnf is None else cnf.get("jkt")
        proof = None
        if proof_text is not None:
            if jkt is None:
                raise BindingMismatch("dpop_unbound")
            assert self.dpop is not None  # noqa: S101 - DPoPHeader exists only with dpop=
            proof = self.dpop.check_proof(
                proof_text,
                method=request.method,
                uri=self._origins.resolve(request).origin + request.target_path(),
                access_token=token,
                now=clock(),
            )
            if not _same(proof.jkt, jkt):
                raise BindingMismatch("dpop_key_mismatch")
        elif jkt is not None:
            if self.dpop is None:
                raise UnsupportedConfirmation("a DPoP-bound token, and DPoP is not enabled")
            raise BindingMismatch("dpop_downgrade")
        x5t = None if cnf is None else cnf.get("x5t#S256")
        if x5t is not None:
            self._check_certificate(request, x5t)
        return proof

    def claim(self, proof: CheckedProof) -> None:
        """Take the replay entry of a proof ``check`` passed (``dpop_replay`` if taken)."""
        assert self.dpop is not None  # noqa: S101 - a proof was checked, so DPoP is on
        self.dpop.claim(proof)

    async def aclaim(self, proof: CheckedProof) -> None:
        assert self.dpop is not None  # noqa: S101 - a proof was checked, so DPoP is on
        await self.dpop.aclaim(proof)

    def _check_certificate(self, request: RequestView, x5t: str) -> None:
        certificates = self.certificates
        if certificates is None:
            raise UnsupportedConfirmation(
                "a certificate-bound token, and client_certificates is not set"
            )
        header = certificates.header
        from_proxy = (
            request.header_values(header)
            if header is not None and self._origins.from_trusted_proxy(request)
            else []
        )
        presented = certificates.thumbprint(from_proxy, request.server_certificate())
        if presented is None:
            raise BindingMismatch("certificate_missing")
        if not _same(presented, x5t):
            raise BindingMismatch("certificate_mismatch")


def _same(ours: str, theirs: str) -> bool:
    """Constant-time equality; the token's value may be any text (not only ASCII)."""
    return hmac.compare_digest(ours.encode(), theirs.encode("utf-8", "surrogatepass"))
