"""Sender-constrained tokens at the policy: does this request hold what its token is
bound to? (RFC 9449 DPoP ``cnf.jkt``, RFC 8705 certificates ``cnf.x5t#S256``.)

Pure, like the rest of the policy: ``SenderBinding.check`` answers the DPoP proof
that passed (whose replay-cache entry the policy's sync or async driver then claims),
or raises the refusal. A ``cnf`` this configuration cannot check fails closed.
"""

from __future__ import annotations

import hmac
from typing import Any

from ._claims import confirmation
from ._dpop import CheckedProof, DPoP
from ._mtls import ClientCertificates
from ._origin import OriginPolicy, RequestOrigin
from ._request import RequestView
from .errors import BindingMismatch, InvalidDPoPProof, UnsupportedConfirmation


class SenderBinding:
    def __init__(
        self,
        dpop: DPoP | None,
        certificates: ClientCertificates | None,
        origins: OriginPolicy,
    ) -> None:
        self.dpop = dpop
        self.certificates = certificates
        self._origins = origins

    def proof_header(self, request: RequestView) -> str:
        """The one ``DPoP`` proof of a request under the DPoP scheme."""
        values = request.header_values("dpop")
        if not values:
            raise InvalidDPoPProof("dpop_missing", "the DPoP scheme without a DPoP proof")
        if len(values) > 1 or "," in values[0]:
            raise InvalidDPoPProof("dpop_multiple", "more than one DPoP proof")
        return values[0].strip(" \t")

    def check(
        self,
        request: RequestView,
        origin: RequestOrigin,
        token: str,
        claims: dict[str, Any],
        proof_text: str | None,
        now: float,
    ) -> CheckedProof | None:
        """``proof_text``: the ``DPoP`` header under the DPoP scheme, else None."""
        cnf = confirmation(claims)
        jkt = None if cnf is None else cnf.get("jkt")
        proof = None
        if proof_text is not None:
            if jkt is None:
                raise BindingMismatch("dpop_unbound")
            assert self.dpop is not None  # noqa: S101 - DPoPHeader exists only with dpop=
            proof = self.dpop.check_proof(
                proof_text,
                method=request.method,
                uri=origin.origin + request.target_path(),
                access_token=token,
                now=now,
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
