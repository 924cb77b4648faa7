"""The release artefacts: `python -m build` makes an sdist and a wheel that `twine check`
accepts, and the wheel, installed alone in a fresh virtualenv, imports and runs its
command line (so a module or data file missing from the wheel is caught here)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import jwt_middleware

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def run(*argv: str | Path, cwd: Path = ROOT) -> str:
    done = subprocess.run(
        [str(arg) for arg in argv], cwd=cwd, capture_output=True, text=True, timeout=540
    )
    assert done.returncode == 0, f"{argv}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, ROOT)  # the wheel is built from the sdist
    return out


def test_build_and_twine_check(dist: Path) -> None:
    version = jwt_middleware.__version__
    wheel = dist / f"jwt_middleware-{version}-py3-none-any.whl"
    sdist = dist / f"jwt_middleware-{version}.tar.gz"
    assert wheel.is_file() and sdist.is_file(), sorted(p.name for p in dist.iterdir())
    run(sys.executable, "-m", "twine", "check", "--strict", wheel, sdist)


def test_the_wheel_holds_every_module_and_the_licence(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"jwt_middleware-{jwt_middleware.__version__}.dist-info"
        metadata = archive.read(f"{info}/METADATA").decode()
    package = {f"jwt_middleware/{p.name}" for p in (ROOT / "jwt_middleware").iterdir()}
    package = {name for name in package if name.endswith((".py", ".typed"))}
    assert package <= names, sorted(package - names)
    assert not any(name.startswith(("tests/", "benchmarks/", "examples/")) for name in names)
    assert f"{info}/licenses/LICENSE" in names
    assert "License-Expression: MIT" in metadata
    assert "Provides-Extra: redis" in metadata and "Provides-Extra: flask" in metadata
    assert f"{info}/entry_points.txt" in names


def test_the_sdist_holds_what_a_rebuild_needs(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "LICENSE", "jwt_middleware/py.typed"} <= names


def test_the_wheel_alone_in_a_fresh_virtualenv(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    bin_dir = venv / "bin"
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", wheel)
    version = jwt_middleware.__version__
    assert run(bin_dir / "jwt-middleware", "--version").strip().endswith(version)
    check = (
        "import jwt_middleware, jwt_middleware.wsgi, jwt_middleware.asgi, jwt_middleware.errors;"
        "from jwt_middleware import TokenIssuer, RemoteJWKS;"
        "print(jwt_middleware.__version__, jwt_middleware.__file__)"
    )
    printed = run(bin_dir / "python", "-c", check, cwd=tmp_path)
    assert printed.startswith(version) and str(venv) in printed  # not the source tree
    # The command line end to end, from the installed files: a key, a token, verified.
    run(bin_dir / "jwt-middleware", "keygen", "--alg", "ES256", "--kid", "k1", cwd=tmp_path)
    token = run(
        bin_dir / "jwt-middleware",
        "issue",
        "--key",
        "k1.pem",
        "--kid",
        "k1",
        "--sub",
        "alice",
        cwd=tmp_path,
    ).strip()
    verified = run(
        bin_dir / "jwt-middleware",
        "verify",
        "--key",
        "k1.jwks.json",
        token,
        cwd=tmp_path,
    )
    assert "alice" in verified
