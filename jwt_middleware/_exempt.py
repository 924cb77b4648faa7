"""Which paths need no token: exact paths and ``/prefix/`` entries, checked safely."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import ConfigurationError


class ExemptPaths:
    """Exact paths and ``/prefix/`` entries; no prefix confusion, no dot segments.

    ``"/public/"`` covers ``/public/x`` but never ``/publicity``; ``"/"`` alone is the
    exact path ``/``, not a prefix of every path."""

    def __init__(self, entries: Iterable[str]) -> None:
        if isinstance(entries, str):
            entries = (entries,)
        entries = tuple(entries)
        for entry in entries:
            if not isinstance(entry, str) or not entry.startswith("/"):
                raise ConfigurationError(f"exempt path {entry!r} must start with '/'")
        # "/" alone is the home page, not a prefix of everything.
        self._exact = frozenset(e for e in entries if not e.endswith("/") or e == "/")
        self._prefixes = tuple(e for e in entries if e.endswith("/") and e != "/")

    def __bool__(self) -> bool:
        return bool(self._exact or self._prefixes)

    def matches(self, path: str | None) -> bool:
        """``path`` is the path the app routes on; None (unknown) matches nothing."""
        if path is None:
            return False
        if path not in self._exact and not path.startswith(self._prefixes):
            return False
        # "/public/../admin" must not ride on "/public/": whatever later resolves
        # the dot segments (a proxy, a router, the filesystem) would see /admin.
        return "\\" not in path and not any(seg in (".", "..") for seg in path.split("/"))
