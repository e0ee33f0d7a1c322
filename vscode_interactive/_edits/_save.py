"""Where a session's files are saved beyond the machine: names, and uploads that cannot
change the job's outcome.

``save_to`` is any URL fsspec writes (``s3://bucket/debug-sessions/``, ``gs://...``,
``file:///mnt/shared/``, a plain path, ``memory://`` in tests). Each session gets one
folder under it, ``<job>-<UTC time>-<short id>`` (:func:`session_folder`). Uploads go
through the :class:`FileUploader` port in a worker thread that is waited for at most
``timeout`` seconds: an unreachable store, a missing fsspec backend or a hung connection
is logged, with the local path of what was not saved, and the session goes on as if
nothing had been tried.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .._ports import Environment, FileUploader

__all__ = [
    "ENV_SAVE_TO",
    "UPLOAD_TIMEOUT",
    "Destination",
    "new_session_id",
    "resolve_save_to",
    "session_folder",
    "upload",
]

logger = logging.getLogger("vscode_interactive.edits")

UPLOAD_TIMEOUT = 20.0
"""Seconds an upload may take before the session stops waiting for it (a pod being
stopped has 30 s by default)."""

#: Where sessions save their edits when ``save_to`` is not given.
ENV_SAVE_TO = "VSCODE_INTERACTIVE_SAVE_TO"

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def resolve_save_to(configured: str | None, env: Environment) -> str | None:
    """``save_to`` as configured, else ``$VSCODE_INTERACTIVE_SAVE_TO``; an empty value
    (either way) means nowhere."""
    value = configured if configured is not None else env.get(ENV_SAVE_TO)
    return value.strip() or None if value is not None else None


def new_session_id(now: float, token: str | None = None) -> str:
    """``20250102T030405Z-1a2b3c``: the UTC start time and a short random id."""
    stamp = datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{token if token is not None else secrets.token_hex(3)}"


def session_folder(job: str, session_id: str) -> str:
    """``<job>-<session id>``, the job's name made safe for any store (at most 80 chars)."""
    safe = _UNSAFE.sub("_", job).strip("._-")[:80] or "job"
    return f"{safe}-{session_id}"


@dataclass(frozen=True, slots=True)
class Destination:
    """One session's folder under ``save_to``."""

    save_to: str
    folder: str

    @property
    def url(self) -> str:
        """The folder's URL, ending in ``/``."""
        return f"{self.save_to.rstrip('/')}/{self.folder}/"

    def of(self, name: str) -> str:
        return self.url + name


def upload(
    uploader: FileUploader,
    destination: Destination,
    files: Sequence[tuple[Path, str]],
    *,
    timeout: float = UPLOAD_TIMEOUT,
) -> bool:
    """Copy each ``(local path, name)`` into ``destination``; True when all arrived.

    Never raises: every failure is logged with what stays local. Waits at most
    ``timeout`` seconds; a worker still busy then is left to finish (or die with the job).
    """
    failures: list[tuple[str, str, Path]] = []
    done: list[str] = []

    def work() -> None:
        for local, name in files:
            try:
                uploader.put_file(local, destination.of(name))
            except Exception as error:  # any backend's error: logged, never the job's
                failures.append((destination.of(name), f"{type(error).__name__}: {error}", local))
            else:
                done.append(name)

    worker = threading.Thread(target=work, name="vscode-interactive-upload", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        logger.error(
            "saving to %s did not finish within %g s; not waiting longer. What is not there "
            "yet stays in %s",
            destination.url,
            timeout,
            files[0][0].parent if files else "the state directory",
        )
        return False
    for url, error, local in failures:
        logger.error("could not save %s: %s; it stays at %s", url, error, local)
    if done:
        logger.info("saved %s to %s", ", ".join(done), destination.url)
    return not failures
