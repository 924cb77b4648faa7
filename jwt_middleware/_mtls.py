"""Certificate-bound access tokens (RFC 8705 section 3): the client certificate's
SHA-256 thumbprint, compared with the token's ``cnf`` ``x5t#S256``.

The certificate comes from the server itself (the ASGI ``tls`` extension's
``client_cert_chain``; WSGI's ``SSL_CLIENT_CERT``, set by werkzeug, mod_wsgi and
others), or from a header set by a TLS-terminating proxy, read only when the request
comes from a trusted proxy: anybody else could send any certificate there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from urllib.parse import unquote

from ._encoding import b64url_encode
from ._sources import _header_name
from .errors import ConfigurationError, InvalidRequest

_MAX_CERTIFICATE_CHARS = 16384
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.DOTALL)
_CACHE = 256  # thumbprints by header value: a client sends its certificate many times


class ClientCertificates:
    """Accept certificate-bound tokens, for the middleware's ``client_certificates=``.

    ``header``: the header a TLS-terminating proxy puts the verified client
    certificate in (``X-Client-Cert``, nginx's ``$ssl_client_escaped_cert``, AWS ALB's
    ``X-Amzn-Mtls-Clientcert``, Traefik's base64 DER): read only from the middleware's
    ``trusted_proxies``. Without it, only a certificate the server itself passes on is
    used. The proxy must verify the certificate chain; this checks only that it is the
    one the token is bound to, as RFC 8705 section 3 asks of a resource server.
    """

    def __init__(self, *, header: str | None = None) -> None:
        self.header = None if header is None else _header_name(header)
        self._thumbprints: dict[str, str] = {}

    def thumbprint(self, header_values: list[str], from_server: str | None) -> str | None:
        """``x5t#S256`` of the certificate in use: the server's (``from_server``, a PEM)
        or, when the caller read it from a trusted proxy, the header's. None: none."""
        if from_server:
            return self._cached(from_server)
        if not header_values:
            return None
        if len(header_values) > 1:
            raise InvalidRequest("more than one client certificate header")
        return self._cached(header_values[0])

    def _cached(self, value: str) -> str:
        found = self._thumbprints.get(value)
        if found is None:
            found = certificate_thumbprint(value)
            if len(self._thumbprints) >= _CACHE:
                self._thumbprints.clear()
            self._thumbprints[value] = found
        return found

    def __repr__(self) -> str:
        return f"ClientCertificates(header={self.header!r})"


def certificate_thumbprint(value: str) -> str:
    """base64url SHA-256 of the certificate's DER, from a PEM (URL-encoded or not, as
    proxies send it) or base64 DER. ``InvalidRequest`` when it is not a certificate."""
    if len(value) > _MAX_CERTIFICATE_CHARS:
        raise InvalidRequest("the client certificate header is too large")
    text = unquote(value) if "%" in value else value
    pem = _PEM.search(text)
    body = pem.group(1) if pem is not None else text
    body = "".join(body.split())  # PEM line breaks, or spaces a proxy put for them
    try:
        der = base64.b64decode(
            body + "=" * (-len(body) % 4), altchars=_altchars(body), validate=True
        )
    except (binascii.Error, ValueError):
        raise InvalidRequest("the client certificate is not PEM or base64 DER") from None
    from cryptography import x509

    try:
        x509.load_der_x509_certificate(der)
    except ValueError:
        raise InvalidRequest("the client certificate does not parse") from None
    return b64url_encode(hashlib.sha256(der).digest())


def _altchars(body: str) -> bytes | None:
    return b"-_" if ("-" in body or "_" in body) else None


def check_header_setup(certificates: ClientCertificates | None, has_proxies: bool) -> None:
    if certificates is not None and certificates.header is not None and not has_proxies:
        raise ConfigurationError(
            "a client certificate header is believed only from trusted_proxies: name them"
        )
