"""``vscode-interactive install``: pre-install code-server and the extensions.

Meant for a Docker image layer (``RUN vscode-interactive install``) so sessions start warm,
and for pinning: ``--print-pins`` prints environment lines with the sha256 of every
artifact used, ready to paste into a Dockerfile, a pod spec or a ``.env`` file. With
``--print-pins`` the pins are the only thing on stdout (the summary goes to stderr).
"""

from __future__ import annotations

import argparse
import shlex
import sys

from .._install._arch import current_arch
from .._install._config import (
    ENV_CODE_SERVER_SHA256,
    ENV_CODE_SERVER_URL,
    ENV_EXTENSIONS,
    format_extensions_value,
)
from .._install._ensure import Installation, ensure_installed

__all__ = ["format_pins", "format_summary", "register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "install",
        help="download and install code-server and the extensions (e.g. in a Docker image)",
        description=(
            "Make code-server and the configured extensions available now, so a later "
            "session starts without downloading. Honours the VSCODE_INTERACTIVE_* "
            "variables (mirror URLs and sha256 pins)."
        ),
    )
    parser.add_argument(
        "--arch",
        choices=["amd64", "arm64"],
        default=None,
        help="fetch code-server for this CPU instead of this machine's (nothing is run)",
    )
    parser.add_argument(
        "--print-pins",
        action="store_true",
        help="print VSCODE_INTERACTIVE_* lines pinning the sha256 of everything used",
    )
    parser.set_defaults(handler=_run)


def format_summary(installation: Installation) -> str:
    """What was installed and where, for a person reading the build log."""
    lines = [
        f"code-server {installation.version} ({installation.arch.value}) from "
        f"{installation.source}: {installation.executable}",
        f"extensions dir: {installation.extensions_dir}",
        f"user data dir: {installation.user_data_dir}",
    ]
    if installation.installed_extensions:
        lines.append(f"extensions installed: {', '.join(installation.installed_extensions)}")
    if installation.pending_extensions:
        lines.append(
            f"extensions NOT installed: {', '.join(installation.pending_extensions)} (an "
            f"{installation.arch.value} code-server cannot run on this "
            f"{current_arch().value} machine). They are cached; running `vscode-interactive "
            "install` on the target machine, or the first session there, installs them."
        )
    if installation.env:
        overrides = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(installation.env.items()))
        lines.append(f"HOME is not usable here; code-server runs with {overrides}")
    return "\n".join(lines)


def format_pins(installation: Installation) -> str:
    """``NAME=value`` lines (shell-quoted) pinning the archive and the extensions.

    The archive URL is printed with its pin: a pin alone would stop matching when a newer
    release of this library changes the default URL.
    """
    lines = [
        f"# sha256 pins seen by `vscode-interactive install` for "
        f"{installation.arch.value} (code-server {installation.version})"
    ]
    archive = installation.archive
    if archive is not None and archive.sha256:
        lines.append(f"{ENV_CODE_SERVER_URL}={shlex.quote(archive.url)}")
        lines.append(f"{ENV_CODE_SERVER_SHA256}={archive.sha256}")
    else:
        lines.append(
            f"# code-server came from {installation.source} ({installation.executable}): "
            "no archive to pin"
        )
    value = format_extensions_value(installation.extensions)
    lines.append(f"{ENV_EXTENSIONS}={shlex.quote(value)}")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    installation = ensure_installed(arch=args.arch)
    summary = format_summary(installation)
    if args.print_pins:
        print(summary, file=sys.stderr)
        print(format_pins(installation))
    else:
        print(summary)
    return 0
