"""Where the cache lives, whether it may download, and what a valid pin or URL key is."""

from __future__ import annotations

import re
from pathlib import Path

from .._errors import ConfigError
from .._ports import Environment

__all__ = [
    "CACHE_ENV",
    "OFFLINE_ENV",
    "check_sha256",
    "default_root",
    "normalise_url",
    "parse_flag",
]

CACHE_ENV = "VSCODE_INTERACTIVE_CACHE"
OFFLINE_ENV = "VSCODE_INTERACTIVE_OFFLINE"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def parse_flag(name: str, value: str | None) -> bool:
    """An on/off environment variable; anything unexpected is a :class:`ConfigError`."""
    text = (value or "").strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ConfigError(f"{name}={value!r} is not understood; use 1 (on) or 0 (off)")


def default_root(env: Environment) -> Path:
    """``$VSCODE_INTERACTIVE_CACHE``, else the user cache dir of ``vscode-interactive``."""
    configured = env.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return platformdirs.user_cache_path("vscode-interactive")


def normalise_url(url: str) -> str:
    return url if "://" in url else str(Path(url).expanduser().absolute())


def check_sha256(url: str, sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    pin = sha256.strip().lower()
    if not _SHA256.fullmatch(pin):
        raise ConfigError(f"sha256 for {url} must be 64 hex digits, got {sha256!r}")
    return pin
