"""Fork safety: a worker forked while the parent fetches keys must not inherit "a fetch
is in flight" (nor a held lock) without the thread that would finish it."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from jwt_middleware import MemoryDenylist, RemoteJWKS

from .conftest import Keys, sign_raw
from .docserver import DocumentServer
from .helpers import public_jwk
from .servers import free_port, running

SLOW = 2.0  # seconds the JWKS server takes: the fork happens meanwhile


@pytest.fixture
def slow_jwks(keys: Keys, docserver: DocumentServer) -> DocumentServer:
    docserver.serve("/jwks", {"keys": [public_jwk(keys, "RS256", "k1")]}, delay=SLOW)
    return docserver


def rs256(keys: Keys) -> str:
    claims = {"sub": "dora", "exp": int(time.time()) + 300}
    return sign_raw({"alg": "RS256", "kid": "k1"}, claims, keys.signing_material("RS256"), "RS256")


def in_child(check: object) -> int:
    """Run ``check()`` in a forked child; its exit status (0: it held)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        signal.alarm(10)  # a child that hangs (the bug) dies, and the test fails
        try:
            code = 0 if check() else 1  # type: ignore[operator]
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads, on purpose
def test_plain_fork_during_a_fetch(slow_jwks: DocumentServer) -> None:
    resolver = RemoteJWKS(slow_jwks.url("/jwks"), timeout=5)
    fetching = threading.Thread(target=resolver.prefetch)
    fetching.start()
    deadline = time.monotonic() + 5
    while slow_jwks.count("/jwks") == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert resolver._cache.in_flight

    def child_fetches_its_own() -> bool:
        started = time.monotonic()
        keys = resolver.resolve({"kid": "k1"}, {})
        return len(keys) == 1 and time.monotonic() - started < SLOW + 2

    assert in_child(child_fetches_its_own) == 0
    fetching.join(timeout=10)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_fork_while_a_lock_is_held() -> None:
    denylist = MemoryDenylist()
    denylist._lock.acquire()  # a thread of the parent's is inside, at the fork
    try:
        assert in_child(lambda: denylist.revoke("jti:x", time.time() + 60)) == 0
    finally:
        denylist._lock.release()


@pytest.fixture
def preloaded(slow_jwks: DocumentServer) -> Iterator[str]:
    port = free_port()
    argv = ["gunicorn", "--preload", "-w", "2", "-b", f"127.0.0.1:{port}"]
    env = {"SEAMS_JWKS_URL": slow_jwks.url("/jwks"), "SEAMS_TIMEOUT": "5"}
    with running([*argv, "tests.server_apps:flask_app"], port, env):
        yield f"http://127.0.0.1:{port}"


@pytest.mark.slow
def test_gunicorn_preload_workers_fetch_their_own_keys(
    preloaded: str, slow_jwks: DocumentServer, keys: Keys
) -> None:
    # The master's warm start was in flight when the workers were forked.
    headers = {"Authorization": f"Bearer {rs256(keys)}"}
    with httpx.Client(timeout=15) as client:
        answers = [client.get(f"{preloaded}/admin", headers=headers) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 6
    assert answers[-1].json()["user"] == "dora"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_fork_waits_for_an_unforkable_section() -> None:
    from jwt_middleware import _fork

    inside, leave = threading.Event(), threading.Event()

    def loading_keys() -> None:
        with _fork.unforkable():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=loading_keys)
    thread.start()
    inside.wait(5)
    threading.Timer(0.3, leave.set).start()
    started = time.monotonic()

    def child_can_enter() -> bool:
        with _fork.unforkable():  # a new lock: the parent's holder is not here
            return True

    assert in_child(child_can_enter) == 0
    assert time.monotonic() - started >= 0.25  # the fork waited for the section to end
    thread.join(5)


def test_fetches_share_one_tls_context() -> None:
    from jwt_middleware import _http

    assert _http._TLS.verify_mode.name == "CERT_REQUIRED" and _http._TLS.check_hostname
