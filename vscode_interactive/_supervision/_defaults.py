"""Defaults and closed sets shared by the session options and the supervisor.

Kept apart from :mod:`._server` so that defining ``SessionConfig`` (which a job does at
start-up, through ``from vscode_interactive import vscode``) costs no more than this file.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["EXIT_CODE_SUCCESS", "MAX_IDLE_SECONDS", "AuthMode"]

MAX_IDLE_SECONDS = 36000
"""Default idle limit: 10 hours, as in the reference implementation."""

EXIT_CODE_SUCCESS = 0

AuthMode = Literal["password", "none"]
"""``"password"`` (a random one, in a 0600 file) or ``"none"`` (loopback, or explicitly allowed)."""
