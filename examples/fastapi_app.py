"""A FastAPI service: JWTBearer as the security scheme (OpenAPI shows it, /docs has an
Authorize button), the claims as a dependency, scopes through Security, and the
middleware in front with the docs and health routes public.

Run it:  python examples/fastapi_app.py  (then paste the printed curl lines, or open
http://127.0.0.1:8000/docs and paste the token into Authorize)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import uvicorn
from _demo import announce, arguments, configure
from fastapi import Depends, FastAPI, Security, WebSocket
from fastapi.responses import StreamingResponse

from jwt_middleware import Rule
from jwt_middleware.asgi import JWTMiddleware
from jwt_middleware.fastapi import JWTBearer, add_exception_handlers, docs_rules

demo = configure()
auth = JWTBearer(demo.verifier)
Claims = Annotated[dict[str, Any], Depends(auth)]

app = FastAPI(title="Orders (jwt-middleware example)")
add_exception_handlers(app)  # refusals as RFC 6750 bodies, not {"detail": ...}
app.add_middleware(
    JWTMiddleware,
    verifier=demo.verifier,
    rules=[*docs_rules(app), Rule("/health", public=True)],
    realm="fastapi-example",
)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/me")
async def me(claims: Claims) -> dict[str, Any]:
    return {"user": claims["sub"], "claims": claims}


@app.post("/write", status_code=201)
async def write(
    claims: Annotated[dict[str, Any], Security(auth, scopes=["write"])],
) -> dict[str, str]:
    return {"written_by": claims["sub"]}


@app.get("/countdown")
async def countdown(claims: Claims) -> StreamingResponse:
    async def lines() -> AsyncIterator[bytes]:
        for n in range(3, 0, -1):
            yield f"{n}\n".encode()
            await asyncio.sleep(0.05)
        yield f"liftoff, {claims['sub']}\n".encode()

    return StreamingResponse(lines(), media_type="text/plain")


@app.websocket("/ws")
async def echo(websocket: WebSocket, claims: Claims) -> None:
    await websocket.accept()
    await websocket.send_text(f"hello {claims['sub']}")
    async for message in websocket.iter_text():
        await websocket.send_text(message)


if __name__ == "__main__":
    args = arguments("FastAPI service protected by jwt-middleware", 8000)
    announce(demo, f"http://{args.host}:{args.port}", login=False)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
