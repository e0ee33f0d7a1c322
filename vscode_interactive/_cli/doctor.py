"""``vscode-interactive doctor``: will a session work on this machine, and if not, why.

Each check is a small function returning a :class:`Check` (name, ok, what was found, what
to do). Nothing is downloaded and nothing is started: the checks read the environment,
the cache index and the filesystem, and bind a throw-away socket to test the port.
Exit code 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass

from .._errors import VscodeInteractiveError
from .._install._arch import current_arch
from .._install._config import ENV_CODE_SERVER_URL, VscodeConfig, resolve_sources
from .._install._executable import EXECUTABLE_NAME
from .._install._locations import resolve_locations, which_in
from .._ports import Environment, PortAllocator

__all__ = ["Check", "register", "run_checks"]


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report."""

    name: str
    ok: bool
    found: str
    advice: str = ""


def check_arch() -> Check:
    try:
        return Check("arch", True, current_arch().value)
    except VscodeInteractiveError as error:
        return Check("arch", False, str(error))


def check_source(env: Environment, config: VscodeConfig) -> Check:
    """Where code-server would come from, in the installer's order."""
    try:
        sources = resolve_sources(config, env, current_arch())
    except VscodeInteractiveError as error:
        return Check("code-server", False, str(error))
    if sources.executable is not None:
        usable = os.access(sources.executable, os.X_OK)
        return Check(
            "code-server",
            usable,
            f"{sources.executable} (from {sources.executable_origin})",
            "" if usable else "the configured executable is missing or not executable",
        )
    found = which_in(env)(EXECUTABLE_NAME)
    if found:
        return Check("code-server", True, f"{found} (on PATH)")
    if sources.archive is None:
        return Check(
            "code-server",
            False,
            "no executable and no archive URL for this arch",
            f"set {ENV_CODE_SERVER_URL} to a code-server release archive",
        )
    pin = "pinned" if sources.archive.sha256 else "unpinned: trusted on first use"
    return Check("code-server", True, f"download {sources.archive.url} ({pin})")


def check_cache(env: Environment) -> Check:
    from ..cache import Cache

    try:
        cache = Cache(env=env)
        entries = cache.entries()
    except (OSError, VscodeInteractiveError) as error:
        return Check("cache", False, str(error), "set VSCODE_INTERACTIVE_CACHE to a writable dir")
    size = sum(entry.size for entry in entries)
    mode = "offline" if cache.offline else "online"
    writable = os.access(cache.root, os.W_OK) if cache.root.exists() else True
    return Check(
        "cache",
        True,
        f"{cache.root}: {len(entries)} entries, {size / 1e6:.1f} MB, {mode}"
        f"{'' if writable else ', read-only (hits only)'}",
    )


def check_home(env: Environment) -> Check:
    locations = resolve_locations(env)
    if locations.fallback_reason:
        return Check(
            "home",
            True,
            f"{locations.fallback_reason}; using {locations.fallback_dir}",
            "set HOME to a writable directory to keep code-server state between sessions",
        )
    return Check("home", True, f"data in {locations.data_dir}")


def check_port(allocator: PortAllocator, host: str, port: int) -> Check:
    if port == 0:
        return Check("port", True, f"{host}: a free port will be picked")
    if allocator.is_free(host, port):
        return Check("port", True, f"{host}:{port} is free")
    return Check(
        "port",
        False,
        f"{host}:{port} is in use",
        "pass port=0 (pick a free one) or another port to @vscode / SessionConfig",
    )


def run_checks(
    env: Environment,
    allocator: PortAllocator,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    cache_check: Callable[[Environment], Check] = check_cache,
) -> list[Check]:
    """Every check, in the order a session needs them."""
    return [
        check_arch(),
        check_source(env, VscodeConfig()),
        cache_check(env),
        check_home(env),
        check_port(allocator, host, port),
    ]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check that a session can start here (arch, code-server, cache, HOME, port)",
        description="Check, without downloading or starting anything, that a debugging "
        "session can start on this machine. Exit code 1 if a check fails.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address the IDE would bind")
    parser.add_argument("--port", type=int, default=8080, help="port the IDE would use")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from .._system._network import SocketPortAllocator
    from .._system._os import OsEnvironment

    checks = run_checks(OsEnvironment(), SocketPortAllocator(), host=args.host, port=args.port)
    if args.json:
        print(json.dumps([asdict(check) for check in checks], indent=2))
    else:
        width = max(len(check.name) for check in checks)
        for check in checks:
            mark = "ok  " if check.ok else "FAIL"
            print(f"{mark} {check.name:<{width}}  {check.found}")
            if check.advice:
                print(f"     {'':<{width}}  -> {check.advice}")
    return 0 if all(check.ok for check in checks) else 1
