"""A supervisor on a fake code-server, running in a worker thread: for integration tests.

``LiveRig(tmp_path)`` installs the fake server (:mod:`tests.fake_code_server`), builds
options with short intervals, and starts sessions whose ``run()`` happens in a background
thread; it also knows every pid the fake reported so tests can prove none survives.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tests.fake_code_server import install_fake_code_server
from tests.waiting import wait_until_gone
from vscode_interactive._layout import StateLayout
from vscode_interactive._supervision._server import ServerOptions
from vscode_interactive._supervision._supervisor import (
    SupervisionResult,
    Supervisor,
    SupervisorSeams,
)
from vscode_interactive._system._os import OsEnvironment

__all__ = ["Env", "LiveRig", "Session"]


@dataclass
class Session:
    """A supervisor running ``run()`` in a background (non-main) thread."""

    supervisor: Supervisor
    ready: threading.Event = field(default_factory=threading.Event)
    result: SupervisionResult | None = None
    error: BaseException | None = None
    thread: threading.Thread | None = None

    def start(self) -> Session:
        def target() -> None:
            try:
                self.result = self.supervisor.run()
            except BaseException as error:
                self.error = error
            finally:
                self.ready.set()

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()
        return self

    def wait_ready(self) -> None:
        assert self.ready.wait(20), "code-server never became ready"
        assert self.error is None, self.error

    def finish(self, timeout: float = 20) -> SupervisionResult:
        assert self.thread is not None
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "supervisor did not finish"
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


class Env(OsEnvironment):
    """The real environment plus FAKE_CS_* knobs for the fake server."""

    def __init__(self, extra: dict[str, str]) -> None:
        self.extra = extra

    def get(self, name: str) -> str | None:
        return self.extra.get(name, super().get(name))

    def snapshot(self) -> dict[str, str]:
        return {**super().snapshot(), **self.extra}


class LiveRig:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.exe = install_fake_code_server(tmp / "bin")
        self.layout = StateLayout.for_workspace(tmp / "ws")
        self.pids_file = tmp / "pids.json"
        self.record = tmp / "record.json"
        self.knobs: dict[str, str] = {
            "FAKE_CS_PIDS": str(self.pids_file),
            "FAKE_CS_RECORD": str(self.record),
        }
        self.guardian_pids: list[int] = []

    def options(self, **changes: Any) -> ServerOptions:
        base = ServerOptions(
            executable=self.exe,
            layout=self.layout,
            user_data_dir=self.tmp / "user-data",
            extensions_dir=self.tmp / "extensions",
            check_interval=0.2,
            start_timeout=15,
            grace_seconds=0.5,
        )
        return replace(base, **changes)

    def session(self, **changes: Any) -> Session:
        holder: list[Session] = []
        seams = SupervisorSeams(environment=Env(self.knobs))
        supervisor = Supervisor(
            self.options(**changes), _seams=seams, announce=lambda text: holder[0].ready.set()
        )
        holder.append(Session(supervisor))
        return holder[0].start()

    def server_pids(self) -> list[int]:
        if not self.pids_file.exists():
            return []
        pids: list[int] = json.loads(self.pids_file.read_text() or "[]")
        return pids

    def all_pids(self) -> list[int]:
        return [*self.server_pids(), *self.guardian_pids]

    def assert_nothing_survives(self, result_pid: int | None = None) -> None:
        pids = self.all_pids() + ([result_pid] if result_pid else [])
        assert pids, "the fake server never reported its pids"
        wait_until_gone(pids, timeout=10)

    def assert_state_files_removed(self) -> None:
        for path in (
            self.layout.password_file,
            self.layout.session_info,
            self.layout.resume_socket,
        ):
            assert not path.exists(), path
