"""The public surface is what the README and the docs say it is: every name they import
or mention exists where they say, every public name is documented, and nothing private
is presented as public."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import jwt_middleware
from jwt_middleware import asgi, errors, wsgi

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PUBLIC_MODULES = {
    "jwt_middleware",
    "jwt_middleware.asgi",
    "jwt_middleware.cli",
    "jwt_middleware.django",
    "jwt_middleware.errors",
    "jwt_middleware.fastapi",
    "jwt_middleware.flask",
    "jwt_middleware.mcp",
    "jwt_middleware.providers",
    "jwt_middleware.starlette",
    "jwt_middleware.wsgi",
}
# Backticked names in the prose that are not this library's: other libraries', HTTP's,
# Python's and the JOSE specifications'.
FOREIGN = {
    "APIView",
    "AccessToken",
    "AuthSettings",
    "AuthenticationMiddleware",
    "Authorization",
    "BaseHTTPMiddleware",
    "Bearer",
    "Depends",
    "Ed25519",
    "EdDSA",
    "Forwarded",  # the RFC 7239 header
    "False",
    "HTTPBearer",
    "HTTPException",
    "HttpOnly",
    "ImproperlyConfigured",
    "Host",
    "None",
    "Optional",
    "Origin",
    "ProxyFix",
    "Referer",
    "Refresh",
    "Secure",
    "Security",
    "True",
    "ValueError",
}
IMPORT = re.compile(r"^from (jwt_middleware[\w.]*) import \(?([\w, \n]+?)\)?$", re.MULTILINE)
DOTTED = re.compile(r"\bjwt_middleware(?:\.\w+)+")
REFERENCE = re.compile(r"^::: ([\w.]+)$", re.MULTILINE)
MENTIONED = re.compile(r"`([A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*)(?=[(`.\[])")


def documents_text() -> dict[str, str]:
    return {str(path.relative_to(ROOT)): path.read_text() for path in DOCUMENTS}


def resolve(dotted: str) -> object:
    """The object at a dotted path: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            target: object = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise LookupError(dotted)


def test_all_is_sorted_and_complete() -> None:
    exported = jwt_middleware.__all__
    assert exported == sorted(exported)
    public = {name for name in dir(jwt_middleware) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(jwt_middleware, name)) is type(errors)}
    assert public - modules - {"annotations"} == set(exported)
    for name in exported:
        assert getattr(jwt_middleware, name) is not None


@pytest.mark.parametrize("module_name", sorted(PUBLIC_MODULES - {"jwt_middleware"}))
def test_every_public_module_says_what_it_exports(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = module.__all__
    assert exported == sorted(exported)
    for name in exported:
        assert hasattr(module, name), f"{module_name}.{name}"


def test_the_adapters_and_errors_modules() -> None:
    assert wsgi.__all__ == ["JWTMiddleware"] and asgi.__all__ == ["JWTMiddleware"]
    assert wsgi.JWTMiddleware is not asgi.JWTMiddleware
    error_classes = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and value.__module__ == errors.__name__
    }
    assert error_classes <= set(jwt_middleware.__all__)  # every error importable from the top


@pytest.mark.parametrize("document", [str(path.relative_to(ROOT)) for path in DOCUMENTS])
def test_every_import_in_the_documents_works(document: str) -> None:
    text = documents_text()[document]
    for module_name, names in IMPORT.findall(text):
        assert module_name in PUBLIC_MODULES, f"{document} imports private {module_name}"
        module = importlib.import_module(module_name)
        for name in (n.strip() for n in names.replace("\n", ",").split(",")):
            if name:
                assert hasattr(module, name), f"{document}: {module_name}.{name} is missing"


@pytest.mark.parametrize("document", [str(path.relative_to(ROOT)) for path in DOCUMENTS])
def test_every_dotted_name_in_the_documents_resolves(document: str) -> None:
    for dotted in set(DOTTED.findall(documents_text()[document])):
        if dotted.endswith((".py",)):
            continue
        assert not any(part.startswith("_") for part in dotted.split(".")), dotted
        resolve(dotted)


def test_every_public_name_is_in_the_reference() -> None:
    reference = (ROOT / "docs" / "reference.md").read_text()
    documented = set(REFERENCE.findall(reference))
    for target in documented:
        resolve(target)
    whole_modules = {target for target in documented if target in PUBLIC_MODULES}
    for name in jwt_middleware.__all__:
        in_a_module = any(hasattr(importlib.import_module(m), name) for m in whole_modules)
        assert f"jwt_middleware.{name}" in documented or in_a_module, f"{name} undocumented"


def test_nothing_private_is_presented_as_public() -> None:
    public = {name for module in PUBLIC_MODULES for name in importlib.import_module(module).__all__}
    for document, text in documents_text().items():
        unknown = set(MENTIONED.findall(text)) - public - FOREIGN
        assert not unknown, f"{document} mentions {sorted(unknown)}"


def test_the_readme_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).is_file(), f"README links to missing {target}"


def test_the_module_table_names_every_module() -> None:
    """docs/how-it-works.md lists each module with its concern; none missing, none gone."""
    table = (ROOT / "docs" / "how-it-works.md").read_text()
    modules = {path.name for path in (ROOT / "jwt_middleware").glob("*.py")}
    listed = set(re.findall(r"`(\w+\.py)`", table))
    assert modules - listed == set(), "not in the table"
    assert listed - modules == set(), "in the table, not in the package"
