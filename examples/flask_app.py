"""A legacy-style Flask service, protected by the WSGI middleware in one line, with
token endpoints in both flavours: JSON for API clients, cookies for browsers.

Run it:  python examples/flask_app.py  (then paste the printed curl lines)
"""

from __future__ import annotations

from typing import Any

from _demo import EXEMPT, JSON_ONLY, SOURCES, announce, arguments, configure, refresh_token_from
from flask import Flask, Response, jsonify, request

from jwt_middleware import AuthError, TokenPair
from jwt_middleware.flask import (
    clear_token_cookies,
    current_claims,
    get_claims,
    require_scopes,
    set_token_cookies,
)
from jwt_middleware.wsgi import JWTMiddleware

demo = configure()
app = Flask(__name__)


@app.get("/")
def index() -> Any:
    return jsonify(message=f"hello, {request.remote_user}")


@app.get("/me")
def me() -> Any:
    return jsonify(user=request.remote_user, claims=request.environ["jwt.claims"])


@app.post("/orders")
@require_scopes("write")
def create_order() -> Any:
    return jsonify(created=True, by=get_claims()["sub"]), 201


@app.get("/health")
def health() -> Any:
    return jsonify(status="ok")


@app.post("/login")
def login() -> Any:
    if not request.is_json:
        return jsonify(JSON_ONLY), 415
    body = request.get_json(silent=True) or {}
    pair = demo.login(body.get("username"), body.get("password"))
    if pair is None:
        return jsonify(error="invalid_grant", error_description="Wrong credentials"), 401
    return _with_session(pair)


@app.post("/refresh")
def refresh() -> Any:
    if request.content_length and not request.is_json:
        return jsonify(JSON_ONLY), 415
    token = refresh_token_from(
        request.get_json(silent=True) or {}, request.headers, request.cookies
    )
    if token is None or demo.issuer is None:
        return jsonify(error="invalid_request", error_description="No refresh token"), 400
    try:
        pair = demo.issuer.refresh(token)
    except AuthError as error:
        return jsonify(error="invalid_grant", error_description=error.description), 401
    return _with_session(pair)


@app.post("/logout")
def logout() -> Any:
    """A protected route like any other: ends the caller's session, refresh tokens
    included, on every instance that shares the denylist."""
    if demo.issuer is not None:
        demo.issuer.revoke_claims(current_claims() or {}, session=True)
    response = jsonify(logged_out=True)
    clear_token_cookies(
        response, secure=demo.secure_cookies(demo.origins.for_environ(request.environ))
    )
    return response


def _with_session(pair: TokenPair) -> Response:
    response = jsonify(pair.as_dict())
    response.headers["Cache-Control"] = "no-store"
    # HttpOnly token cookies and the CSRF cookie, as the middleware's Cookie source
    # and CSRF check read them; Secure when the public origin (the middleware's own
    # configuration: PUBLIC_URL, TRUSTED_PROXIES, or the connection) is https, never Host.
    set_token_cookies(
        response, pair, secure=demo.secure_cookies(demo.origins.for_environ(request.environ))
    )
    return response


# The one line that protects the whole service; a few routes stay open.
app.wsgi_app = JWTMiddleware(  # type: ignore[method-assign]
    app.wsgi_app,
    verifier=demo.verifier,
    sources=SOURCES,
    exempt=EXEMPT,
    realm="flask-example",
    **demo.middleware_options(),
)


if __name__ == "__main__":
    args = arguments("Flask service protected by jwt-middleware", 5000)
    announce(demo, f"http://{args.host}:{args.port}")
    app.run(host=args.host, port=args.port, threaded=True)
