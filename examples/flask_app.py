"""A legacy-style Flask service, protected by the WSGI middleware in one line.

Run it:  python examples/flask_app.py  (then paste the printed curl line)
"""

from __future__ import annotations

from typing import Any

from _demo import announce, arguments, configure
from flask import Flask, jsonify, request

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
def create_order() -> Any:
    if "write" not in request.environ["jwt.scopes"]:
        return jsonify(error="the write scope is needed"), 403
    return jsonify(created=True, by=request.remote_user), 201


@app.get("/health")
def health() -> Any:
    return jsonify(status="ok")


# The one line that protects the whole service; /health stays open for probes.
app.wsgi_app = JWTMiddleware(  # type: ignore[method-assign]
    app.wsgi_app, verifier=demo.verifier, exempt=["/health"], realm="flask-example"
)


if __name__ == "__main__":
    args = arguments("Flask service protected by jwt-middleware", 5000)
    announce(demo, f"http://{args.host}:{args.port}", "/me")
    app.run(host=args.host, port=args.port, threaded=True)
