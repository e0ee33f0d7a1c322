"""``vscode-interactive cache``: inspect and fill the download cache from the shell.

stdout is for machines: ``path`` and ``fetch`` print one path, ``list`` one entry per line
(tab-separated: sha256, size in bytes, fetched time (UTC, ISO 8601), pinned|tofu, URL,
file path, extracted dir or ``-``), ``verify`` one problem per line, ``prune`` and
``forget`` one URL per removed entry. Messages go to stderr; exit code 1 on failure.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys

from .._errors import ConfigError
from ..cache import Cache

__all__ = ["parse_duration", "parse_size", "register"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw]?)")
_SIZE = re.compile(r"(\d+(?:\.\d+)?)([kmgt]?)(?:i?b)?")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_BYTES = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_duration(text: str) -> float:
    """``"30d"``, ``"12h"``, ``"90m"``, ``"3600"`` (seconds) -> seconds."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise ConfigError(f"not a duration: {text!r} (use e.g. 3600, 90m, 12h or 30d)")
    return float(match.group(1)) * _SECONDS[match.group(2)]


def parse_size(text: str) -> int:
    """``"10G"``, ``"500MiB"``, ``"1024"`` (bytes) -> bytes (powers of 1024)."""
    match = _SIZE.fullmatch(text.strip().lower())
    if match is None:
        raise ConfigError(f"not a size: {text!r} (use e.g. 1024, 500M or 10G)")
    return int(float(match.group(1)) * _BYTES[match.group(2)])


def _cache(args: argparse.Namespace) -> Cache:
    return Cache(args.root, offline=True if args.offline else None)


def _path(args: argparse.Namespace) -> int:
    print(_cache(args).root)
    return 0


def _list(args: argparse.Namespace) -> int:
    for entry in _cache(args).entries():
        when = datetime.datetime.fromtimestamp(entry.fetched, tz=datetime.timezone.utc)
        fields = (
            entry.sha256,
            str(entry.size),
            when.isoformat(timespec="seconds"),
            "pinned" if entry.pinned else "tofu",
            entry.url,
            str(entry.path),
            str(entry.extracted) if entry.extracted is not None else "-",
        )
        print("\t".join(fields))
    return 0


def _fetch(args: argparse.Namespace) -> int:
    cache = _cache(args)
    get = cache.fetch_archive if args.archive else cache.fetch
    print(get(args.url, args.sha256))
    return 0


def _verify(args: argparse.Namespace) -> int:
    problems = _cache(args).verify(remove_bad=args.remove_bad)
    for problem in problems:
        print(problem)
    if problems:
        removed = " (removed; they will be downloaded again)" if args.remove_bad else ""
        print(
            f"vscode-interactive cache verify: {len(problems)} problem(s){removed}", file=sys.stderr
        )
        return 1
    return 0


def _prune(args: argparse.Namespace) -> int:
    older = parse_duration(args.older_than) if args.older_than else None
    size = parse_size(args.max_size) if args.max_size else None
    for entry in _cache(args).prune(older_than=older, max_bytes=size, dry_run=args.dry_run):
        print(entry.url)
    return 0


def _forget(args: argparse.Namespace) -> int:
    if _cache(args).forget(args.url):
        print(args.url)
        return 0
    print(f"vscode-interactive cache forget: {args.url} is not in the cache", file=sys.stderr)
    return 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``cache`` and its subcommands."""
    parser = subparsers.add_parser(
        "cache",
        help="inspect or fill the download cache",
        description="Inspect or fill the download cache (see VSCODE_INTERACTIVE_CACHE).",
    )
    parser.add_argument(
        "--root", help="cache directory (default: $VSCODE_INTERACTIVE_CACHE or the user cache dir)"
    )
    parser.add_argument(
        "--offline", action="store_true", help="never download (as VSCODE_INTERACTIVE_OFFLINE=1)"
    )
    actions = parser.add_subparsers(title="actions", dest="action", metavar="ACTION", required=True)

    actions.add_parser("path", help="print the cache directory").set_defaults(handler=_path)
    actions.add_parser("list", help="one line per cached download").set_defaults(handler=_list)

    fetch = actions.add_parser("fetch", help="download (or find) URL and print its path")
    fetch.add_argument("url")
    fetch.add_argument("--sha256", help="expected sha256 (a pin); without it, trust on first use")
    fetch.add_argument("--archive", action="store_true", help="extract it and print the directory")
    fetch.set_defaults(handler=_fetch)

    verify = actions.add_parser("verify", help="re-hash every file; exit 1 if any is wrong")
    verify.add_argument("--remove-bad", action="store_true", help="delete what is wrong")
    verify.set_defaults(handler=_verify)

    prune = actions.add_parser("prune", help="free space; prints the URLs removed")
    prune.add_argument(
        "--older-than", metavar="AGE", help="fetched before AGE ago (3600, 12h, 30d)"
    )
    prune.add_argument(
        "--max-size", metavar="SIZE", help="then drop the oldest down to SIZE (500M, 10G)"
    )
    prune.add_argument("--dry-run", action="store_true", help="only print what would be removed")
    prune.set_defaults(handler=_prune)

    forget = actions.add_parser("forget", help="drop URL and its trusted sha256")
    forget.add_argument("url")
    forget.set_defaults(handler=_forget)
