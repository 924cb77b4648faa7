"""Ready ``Verifier``s for the identity providers people use, with each one's quirks.

One function per provider. Each builds the issuer, the keys (the provider's JWKS,
fetched and rotated by ``RemoteJWKS``), the audience rules, where roles live, and the
claim checks that decide trust; every ``Verifier`` keyword passes through (``leeway``,
``denylist``, ``cache_size``...), ``validators`` given are run after the profile's own,
and ``roles_claims`` given replace the profile's. Every function takes the provider's
base URL or issuer (custom domains, sovereign clouds, a test provider on loopback),
``jwks_url`` to fetch keys elsewhere, ``jwks_options`` for ``RemoteJWKS``, and ``keys``
to bring your own key source instead.

Refusals specific to a profile are ``ClaimsRejected`` with their own ``reason``
(``v1_token``, ``wrong_token_use``, ``wrong_client``, ``wrong_repository``...).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Unpack

from ._claim_checks import ClaimValidator, equals, first_of, names, one_of
from ._claim_paths import lookup
from ._claims import IssuerTemplate
from ._verifier import Verifier, VerifierOptions
from .errors import ConfigurationError

if TYPE_CHECKING:
    from ._remote_jwks import RemoteJWKSOptions
    from ._resolvers import Keys

__all__ = [
    "auth0",
    "cognito",
    "entra",
    "github_actions",
    "google",
    "keycloak",
    "kubernetes",
    "okta",
]

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SET_HERE = ("issuer", "audience")


# -- Microsoft Entra ID ------------------------------------------------------------------


def entra(
    *,
    audience: str | Iterable[str],
    tenant: str | None = None,
    tenants: Iterable[str] | None = None,
    multi_tenant: bool = False,
    accept_v1: bool = False,
    clients: Iterable[str] | None = None,
    authority: str = "https://login.microsoftonline.com",
    v1_authority: str = "https://sts.windows.net",
    jwks_url: str | None = None,
    jwks_options: RemoteJWKSOptions | None = None,
    keys: Keys | None = None,
    **options: Unpack[VerifierOptions],
) -> Verifier:
    """Microsoft Entra ID (Azure AD) access tokens for your API.

    Give exactly one of ``tenant`` (a tenant id, a GUID), ``tenants`` (an allowlist of
    them, for a multi-tenant app) or ``multi_tenant=True`` (any tenant: then only the
    audience keeps other organisations' tokens out, so ask for it knowingly). The
    issuer is checked against the token's own ``tid``
    (``{authority}/{tid}/v2.0``; with ``accept_v1=True`` also ``{v1_authority}/{tid}/``),
    and ``ver`` must agree with the issuer's form. ``audience``: your app's client id
    (v2 tokens) and/or its Application ID URI ``api://...`` (v1 tokens). ``clients``:
    the calling applications allowed (``azp``, v1 ``appid``). Keys: the tenant's (or
    ``common``'s) JWKS, which carries no ``alg``: RS256 is set. Roles: ``roles`` (app
    roles); delegated scopes come from ``scp``. Sovereign clouds: pass their
    ``authority`` (e.g. ``https://login.microsoftonline.us``).
    """
    chosen = [tenant is not None, tenants is not None, bool(multi_tenant)]
    if sum(chosen) != 1:
        raise ConfigurationError("entra: give exactly one of tenant, tenants, multi_tenant=True")
    if isinstance(tenants, str):
        tenants = (tenants,)
    allowed = None if multi_tenant else ((tenant,) if tenant is not None else tuple(tenants or ()))
    if allowed is not None:
        if not allowed:
            raise ConfigurationError("entra: tenants is empty")
        for value in allowed:
            if not isinstance(value, str) or not _GUID.fullmatch(value):
                raise ConfigurationError(
                    f"entra: a tenant is its id, a GUID (the tid claim), not a domain: {value!r}"
                )
        allowed = tuple(value.lower() for value in allowed)
    authority, v1_authority = _base(authority), _base(v1_authority)
    v2 = IssuerTemplate(f"{authority}/{{tid}}/v2.0", allowed=allowed, any_value=multi_tenant)
    v1 = IssuerTemplate(f"{v1_authority}/{{tid}}/", allowed=allowed, any_value=multi_tenant)
    v1_prefix = f"{v1_authority}/"

    def version(claims: Mapping[str, Any]) -> str | None:
        ver, iss = claims.get("ver"), claims.get("iss")
        is_v1 = isinstance(iss, str) and iss.startswith(v1_prefix)
        if ver == "1.0":
            if not accept_v1:
                return "v1_token"
            return None if is_v1 else "version_mismatch"
        if ver == "2.0":
            return None if not is_v1 else "version_mismatch"
        return "unknown_version"

    checks: list[ClaimValidator] = [version]
    if clients is not None:
        checks.append(first_of(("azp", "appid"), clients, "wrong_client"))
    home = tenant if tenant is not None else "common"
    return _verifier(
        "entra",
        keys,
        jwks_url or f"{authority}/{home}/discovery/v2.0/keys",
        jwks_options,
        issuer=(v2, v1) if accept_v1 else v2,
        audience=audience,
        roles_claims=("roles",),
        validators=checks,
        options=options,
    )


# -- Auth0 -------------------------------------------------------------------------------


def auth0(
    domain: str,
    audience: str | Iterable[str],
    *,
    roles_claim: str | None = None,
    jwks_url: str | None = None,
    jwks_options: RemoteJWKSOptions | None = None,
    keys: Keys | None = None,
    **options: Unpack[VerifierOptions],
) -> Verifier:
    """Auth0 access tokens for an API registered in Auth0 (``audience`` = its
    identifier). ``domain``: your tenant's or custom domain (``example.eu.auth0.com``,
    or a URL); the issuer is ``https://{domain}/`` with its trailing slash, keys from
    ``/.well-known/jwks.json``. Roles: ``permissions`` (with RBAC's "Add Permissions in
    the Access Token"), and the namespaced claim ``roles_claim`` an Action adds, such as
    ``"https://example.com/roles"`` (taken whole: its dots are not a path)."""
    base = _base(domain if "://" in domain else f"https://{domain}")
    roles: list[str | tuple[str, ...]] = ["permissions"]
    if roles_claim is not None:
        roles.append((roles_claim,))
    return _verifier(
        "auth0",
        keys,
        jwks_url or f"{base}/.well-known/jwks.json",
        jwks_options,
        issuer=f"{base}/",
        audience=audience,
        roles_claims=roles,
        validators=[],
        options=options,
    )


# -- Okta --------------------------------------------------------------------------------


def okta(
    issuer: str,
    audience: str | Iterable[str],
    *,
    clients: Iterable[str] | None = None,
    groups_claim: str = "groups",
    jwks_url: str | None = None,
    jwks_options: RemoteJWKSOptions | None = None,
    keys: Keys | None = None,
    **options: Unpack[VerifierOptions],
) -> Verifier:
    """Okta access tokens from a custom authorization server: ``issuer`` is its URL
    (``https://{org}.okta.com/oauth2/default``), keys from ``{issuer}/v1/keys``,
    ``audience`` its audience (``api://default``). Tokens of the org authorization
    server (issuer without ``/oauth2/``) are for Okta's own APIs and cannot be checked
    by yours, so such an issuer is refused. ``scp`` is a list; ``clients`` checks
    ``cid``; roles come from ``groups_claim`` (add a groups claim to the server)."""
    issuer = _base(issuer)
    if "/oauth2/" not in issuer + "/":
        raise ConfigurationError(
            "okta: the issuer must be a custom authorization server "
            "(https://{org}.okta.com/oauth2/default); org server tokens are for Okta's APIs"
        )
    checks = [] if clients is None else [one_of("cid", clients, "wrong_client")]
    return _verifier(
        "okta",
        keys,
        jwks_url or f"{issuer}/v1/keys",
        jwks_options,
        issuer=issuer,
        audience=audience,
        roles_claims=(groups_claim,),
        validators=checks,
        options=options,
    )


# -- Keycloak ----------------------------------------------------------------------------


def keycloak(
    base_url: str,
    realm: str,
    audience: str | Iterable[str],
    *,
    client: str | None = None,
    clients: Iterable[str] | None = None,
    jwks_url: str | None = None,
    jwks_options: RemoteJWKSOptions | None = None,
    keys: Keys | None = None,
    **options: Unpack[VerifierOptions],
) -> Verifier:
    """Keycloak access tokens: the issuer is ``{base_url}/realms/{realm}`` (before
    Keycloak 17, ``base_url`` ends in ``/auth``), keys from its
    ``protocol/openid-connect/certs``. Keycloak's ``typ`` claim must be ``Bearer``, so
    its ID and refresh tokens, signed by the same keys, are refused. Roles: the realm's
    (``realm_access.roles``) and ``client``'s (``resource_access.<client>.roles``;
    ``client`` defaults to ``audience`` when that is one string). Add an audience mapper
    in Keycloak so tokens name your API in ``aud``. ``clients`` checks ``azp``."""
    if not realm or "/" in realm:
        raise ConfigurationError(f"keycloak: not a realm name: {realm!r}")
    issuer = f"{_base(base_url)}/realms/{realm}"
    role_client = client if client is not None else audience if isinstance(audience, str) else None
    roles: list[tuple[str, ...]] = [("realm_access", "roles")]
    if role_client is not None:
        roles.append(("resource_access", role_client, "roles"))
    checks = [equals("typ", "Bearer", "wrong_token_use")]
    if clients is not None:
        checks.append(one_of("azp", clients, "wrong_client"))
    return _verifier(
        "keycloak",
        keys,
        jwks_url or f"{issuer}/protocol/openid-connect/certs",
        jwks_options,
        issuer=issuer,
        audience=audience,
        roles_claims=roles,
        validators=checks,
        options=options,
    )


# -- Amazon Cognito ----------------------------------------------------------------------


def cognito(
    region: str,
    user_pool_id: str,
    client_ids: str | Iterable[str],
    token_use: str = "access",  # noqa: S107 (a claim value, not a password)
    *,
    issuer: str | None = None,
    jwks_url: str | None = None,
    jwks_options: RemoteJWKSOptions | None = None,
    keys: Keys | None = None,
    **options: Unpack[VerifierOptions],
) -> Verifier:
    """Amazon Cognito user pool tokens. Access tokens (``token_use="access"``, the
    default) carry no ``aud``: the app client is ``client_id``, which must be one of
    ``client_ids``. ID tokens (``token_use="id"``) are checked by ``aud``. The
    ``token_use`` claim must be the one asked for, so an ID token is never taken where
    an access token is expected, nor the reverse. The issuer is
    ``https://cognito-idp.{region}.amazonaws.com/{user_pool_id}`` (``issuer`` overrides
    it), keys from its ``/.well-known/jwks.json``. Roles: ``cognito:groups``."""
    if token_use not in ("access", "id"):
        raise ConfigurationError('cognito: token_use is "access" or "id"')
    if not user_pool_id.startswith(f"{region}_"):
        raise ConfigurationError(
            f"cognito: user pool {user_pool_id!r} is not in region {region!r} "
            f"(pool ids start with the region: {region}_...)"
        )
    issuer = _base(issuer or f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}")
    clients = names(client_ids, "client_ids")
    checks = [equals("token_use", token_use, "wrong_token_use")]
    if token_use == "access":
        checks.append(one_of("client_id", clients, "wrong_client"))
    return _verifier(
        "cognito",
        keys,
        jwks_url or f"{issuer}/.well-known/jwks.json",
        jwks_options,
        issuer=issuer,
        audience=sorted(clients) if token_use == "id" else None,
        roles_claims=("cognito:groups",),
        validators=checks,
        options=options,
    )


# -- Google ------------------------------------------------------------------------------


def google(
    audience: str | Iterable[str],
    *,
    authorized_parties: Iterable[str] | None = None,
    emails: Iterable[str] | None = None,
    hosted_domain: str | None = None,
    issuers: Iterable[str] = ("https://accounts.google.com", "accounts.google.com"),
    jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs",
    jwks_options: RemoteJWKSOptions | None = None,
    keys: Keys | None = None,
    **options: Unpack[VerifierOptions],
) -> Verifier:
    """Google-signed ID tokens, as service-to-service calls send them (Cloud Run,
    Cloud Functions, IAP-less callers, Workload Identity): ``audience`` is your
    service's URL or client id; ``authorized_parties`` checks ``azp`` (the caller's
    client id); ``emails`` allows only these service accounts (``email``, with
    ``email_verified`` true); ``hosted_domain`` checks ``hd`` (Workspace users). Both
    issuer spellings Google uses are accepted."""
    checks: list[ClaimValidator] = []
    if authorized_parties is not None:
        checks.append(one_of("azp", authorized_parties, "wrong_authorized_party"))
    if emails is not None:
        allowed = names(emails, "emails")

        def email(claims: Mapping[str, Any]) -> str | None:
            if claims.get("email_verified") is not True:
                return "email_not_verified"
            return None if claims.get("email") in allowed else "wrong_email"

        checks.append(email)
    if hosted_domain is not None:
        checks.append(equals("hd", hosted_domain, "wrong_hosted_domain"))
    return _verifier(
        "google",
        keys,
        jwks_url,
        jwks_options,
        issuer=sorted(names(issuers, "issuers")),
        audience=audience,
        roles_claims=(),
        validators=checks,
        options=options,
    )


# -- Kubernetes --------------------------------------------------------------------------

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def kubernetes(
    *,
    audience: str | Iterable[str],
    namespaces: Iterable[str] | None = None,
    service_accounts: Iterable[str] | None = None,
    issuer: str = "https://kubernetes.default.svc.cluster.local",
    jwks_url: str = "https://kubernetes.default.svc/openid/v1/jwks",
    ca_file: str | None = f"{SERVICE_ACCOUNT_DIR}/ca.crt",
    token_file: str | None = f"{SERVICE_ACCOUNT_DIR}/token",
    jwks_options: RemoteJWKSOptions | None = None,
    keys: Keys | None = None,
    **options: Unpack[VerifierOptions],
) -> Verifier:
    """Kubernetes service-account tokens (projected, with your ``audience``) from
    pods of the same cluster. Keys come from the API server (``jwks_url``), over TLS
    checked against the cluster's CA (``ca_file``), reading with the pod's own token
    (``token_file``, read anew on each fetch since the kubelet rotates it); the
    defaults are the standard in-cluster paths. Trust is decided by
    ``kubernetes.io.namespace`` (``namespaces``) and/or the service account
    (``service_accounts``, as ``"namespace/name"``): at least one must be given, and a
    token without those claims is refused. The API server's own audience (the
    issuer) is refused as ``audience``: tokens for it open the whole API. The pod's
    token is sent to ``jwks_url`` (never on a redirect): keep that the API server."""
    wanted = names(audience, "audience")
    if issuer in wanted or "https://kubernetes.default.svc" in wanted:
        raise ConfigurationError(
            "kubernetes: the audience must be your service's, not the API server's "
            "(mount a projected token with audience=...)"
        )
    if namespaces is None and service_accounts is None:
        raise ConfigurationError("kubernetes: give namespaces and/or service_accounts to trust")
    checks: list[ClaimValidator] = []
    if namespaces is not None:
        checks.append(one_of(("kubernetes.io", "namespace"), namespaces, "wrong_namespace"))
    if service_accounts is not None:
        accounts = names(service_accounts, "service_accounts")
        if not all(account.count("/") == 1 for account in accounts):
            raise ConfigurationError('kubernetes: service accounts are "namespace/name"')

        def service_account(claims: Mapping[str, Any]) -> str | None:
            namespace = lookup(claims, ("kubernetes.io", "namespace"))
            name = lookup(claims, ("kubernetes.io", "serviceaccount", "name"))
            if not isinstance(namespace, str) or not isinstance(name, str):
                return "wrong_service_account"
            return None if f"{namespace}/{name}" in accounts else "wrong_service_account"

        checks.append(service_account)
    if keys is None:
        for path, what in ((ca_file, "ca_file"), (token_file, "token_file")):
            if path is not None and not os.path.exists(path):
                raise ConfigurationError(
                    f"kubernetes: {what} {path!r} does not exist (outside a pod, pass "
                    f"{what}=... or None)"
                )
        jwks_options = {"ca_file": ca_file, "auth_token_file": token_file, **(jwks_options or {})}
    return _verifier(
        "kubernetes",
        keys,
        jwks_url,
        jwks_options,
        issuer=issuer,
        audience=sorted(wanted),
        roles_claims=(),
        validators=checks,
        options=options,
    )


# -- GitHub Actions ----------------------------------------------------------------------


def github_actions(
    audience: str | Iterable[str],
    repositories: Iterable[str],
    *,
    refs: Iterable[str] | None = None,
    environments: Iterable[str] | None = None,
    repository_ids: Iterable[str] | None = None,
    issuer: str = "https://token.actions.githubusercontent.com",
    jwks_url: str | None = None,
    jwks_options: RemoteJWKSOptions | None = None,
    keys: Keys | None = None,
    **options: Unpack[VerifierOptions],
) -> Verifier:
    """GitHub Actions OIDC tokens: a workflow, not a user, calls you. Trust is by
    ``repository`` (``"owner/name"``, compared without case as GitHub does), and
    optionally ``ref`` (``"refs/heads/main"``), ``environment`` and ``repository_id``
    (pin it: a deleted repository's name can be taken by someone else). A token without
    a claim that is checked is refused. ``audience`` is what the workflow asks for
    (``core.getIDToken(audience)``). GitHub Enterprise Cloud with a custom issuer:
    ``issuer="https://token.actions.githubusercontent.com/<enterprise>"``."""
    issuer = _base(issuer)
    repos = names(repositories, "repositories")
    if not all(repo.count("/") == 1 for repo in repos):
        raise ConfigurationError('github_actions: repositories are "owner/name"')
    lowered = frozenset(repo.lower() for repo in repos)

    def repository(claims: Mapping[str, Any]) -> str | None:
        value = claims.get("repository")
        return None if isinstance(value, str) and value.lower() in lowered else "wrong_repository"

    checks: list[ClaimValidator] = [repository]
    if repository_ids is not None:
        checks.append(one_of("repository_id", repository_ids, "wrong_repository"))
    if refs is not None:
        checks.append(one_of("ref", refs, "wrong_ref"))
    if environments is not None:
        checks.append(one_of("environment", environments, "wrong_environment"))
    return _verifier(
        "github_actions",
        keys,
        jwks_url or f"{issuer}/.well-known/jwks",
        jwks_options,
        issuer=issuer,
        audience=audience,
        roles_claims=(),
        validators=checks,
        options=options,
    )


# -- shared ------------------------------------------------------------------------------


def _verifier(
    profile: str,
    keys: Keys | None,
    jwks_url: str,
    jwks_options: RemoteJWKSOptions | None,
    *,
    issuer: str | IssuerTemplate | Sequence[str | IssuerTemplate],
    audience: str | Iterable[str] | None,
    roles_claims: Iterable[str | Sequence[str]],
    validators: Sequence[ClaimValidator],
    options: VerifierOptions,
) -> Verifier:
    """The profile's settings, then the caller's: validators run after the profile's,
    ``roles_claims`` replace the profile's, and issuer and audience cannot be set twice."""
    for name in _SET_HERE:
        if name in options:
            raise ConfigurationError(f"{profile}: {name} is set by the profile's own arguments")
    settings: dict[str, Any] = dict(options)
    settings["validators"] = (*validators, *settings.get("validators", ()))
    settings.setdefault("roles_claims", roles_claims)
    settings.setdefault("algorithms", ("RS256",))
    if keys is None:
        from ._remote_jwks import RemoteJWKS

        keys = RemoteJWKS(jwks_url, **(jwks_options or {}))
    elif jwks_options:
        raise ConfigurationError(f"{profile}: jwks_options apply to the profile's keys, not keys=")
    return Verifier(keys, issuer=issuer, audience=audience, **settings)


def _base(url: str) -> str:
    if not isinstance(url, str) or "://" not in url:
        raise ConfigurationError(f"not a URL: {url!r}")
    return url.rstrip("/")
