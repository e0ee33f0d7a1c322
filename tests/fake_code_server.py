"""A small stand-in for code-server, for integration tests (standard library only).

It answers ``--version`` like code-server, and accepts code-server's command line
(``--bind-addr``, ``--auth``, the ``--disable-*`` flags, ``--user-data-dir``,
``--extensions-dir``, a folder), refuses unknown options, needs
a password for ``--auth password`` (``password:`` in the ``--config`` file, else
``$PASSWORD``), serves ``GET /healthz`` like code-server
(``{"status", "lastHeartbeat"}``, not counted as activity) and counts any other request as
activity: it updates ``lastHeartbeat`` and touches ``$XDG_DATA_HOME/code-server/heartbeat``.
With ``--auth password`` other requests need ``?password=<PASSWORD>``. ``--install-extension
X.vsix`` (repeatable, with ``--force``) records each ``.vsix``'s identity in
``<extensions-dir>/extensions.json`` like code-server, without unpacking it.

Behaviour knobs, all environment variables:

``FAKE_CS_RECORD=path``           write {argv, env subset, pid, pgid} as JSON at start
``FAKE_CS_EXIT_BEFORE_READY=n``   exit with code n before listening (a crash)
``FAKE_CS_EXIT_AFTER_HEALTHZ=n``  exit once n ``/healthz`` requests were answered (code
                                  ``FAKE_CS_EXIT_CODE``, default 0, like code-server's own
                                  idle timeout): an exit after readiness, by condition
``FAKE_CS_IGNORE_SIGTERM=1``      ignore SIGTERM (forces SIGKILL escalation)
``FAKE_CS_GRANDCHILD=1``          spawn a grandchild in the same group that sleeps
``FAKE_CS_GRANDCHILD_IGNORES_SIGTERM=1``  ... and ignores SIGTERM
``FAKE_CS_TERMINAL_STRAYS=1``     start two processes the way an IDE terminal would, each in
                                  a new session and ignoring SIGHUP (``setsid nohup sleep &``):
                                  one stays our child, the other is orphaned at once (its
                                  parent exits, so it is re-parented to the nearest subreaper)
``FAKE_CS_PIDS=path``             write [own pid, grandchild pid?, stray pids?] as JSON
``FAKE_CS_HEARTBEAT_EVERY=s``     beat every s seconds (an open browser tab)
``FAKE_CS_WINDOW=path``           with ``--session-socket``: serve the window registry there,
                                  with one connected window whose CLI socket appends each
                                  request POSTed to it to ``path`` (one JSON per line)

Use :func:`install_fake_code_server` to get an executable named ``code-server``; the
helpers that wait for its processes to end are in :mod:`tests.waiting`.
"""

from __future__ import annotations

import errno
import http.server
import json
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from types import FrameType

HERE = Path(__file__).resolve()

_VALUE_FLAGS = {
    "--bind-addr",
    "--auth",
    "--user-data-dir",
    "--extensions-dir",
    "--config",
    "--socket",
    "--idle-timeout-seconds",
    "--session-socket",
}
_BOOL_FLAGS = {
    "--disable-telemetry",
    "--disable-update-check",
    "--disable-workspace-trust",
    "--disable-getting-started-override",
    "--ignore-last-opened",
}


def install_fake_code_server(directory: Path) -> Path:
    """Write an executable ``code-server`` into ``directory`` that runs this fake."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "code-server"
    target.write_text(
        f"#!{sys.executable}\n"
        "import runpy, sys\n"
        f"sys.argv[0] = {str(HERE)!r}\n"
        f"runpy.run_path({str(HERE)!r}, run_name='__main__')\n"
    )
    target.chmod(0o755)
    return target


class _Heart:
    def __init__(self) -> None:
        self.last_ms = 0
        data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local/share")
        self.path = Path(data_home) / "code-server" / "heartbeat"

    def beat(self) -> None:
        self.last_ms = int(time.time() * 1000)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")


def _parse(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    options: dict[str, str] = {}
    positional: list[str] = []
    items = iter(argv)
    for item in items:
        if item in _BOOL_FLAGS:
            options[item] = "true"
        elif item in _VALUE_FLAGS:
            options[item] = next(items, "")
        elif item.startswith("-"):
            print(f"[fake code-server] error Unknown option {item}", flush=True)
            sys.exit(1)
        else:
            positional.append(item)
    return options, positional


class _Answered:
    """Counts answered ``/healthz`` requests; ``enough`` is set once there are ``limit``."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.count = 0
        self.lock = threading.Lock()
        self.enough = threading.Event()

    def add(self) -> None:
        with self.lock:
            self.count += 1
            if self.limit is not None and self.count >= self.limit:
                self.enough.set()


def _handler(
    heart: _Heart, password: str | None, answered: _Answered
) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def _send(self, code: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/healthz":
                alive = heart.last_ms and time.time() * 1000 - heart.last_ms < 60_000
                status = "alive" if alive else "expired"
                body = json.dumps({"status": status, "lastHeartbeat": heart.last_ms})
                self._send(200, body.encode())
                self.wfile.flush()
                answered.add()  # counted once the whole answer is on its way
                return
            given = urllib.parse.parse_qs(url.query).get("password", [None])[0]
            if password is not None and given != password:
                self._send(401, b"login required", "text/plain")
                return
            heart.beat()
            self._send(200, b"<html>fake code-server</html>", "text/html")

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def _serve_window_registry(registry: str, record: str) -> None:
    """code-server's session registry with one window, and that window's CLI socket."""
    window = str(Path(registry).with_name("fake-window.sock"))

    class Handler(http.server.BaseHTTPRequestHandler):
        def _send(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # the registry: GET /session?filePath=...
            self._send(json.dumps({"socketPath": window}).encode())

        def do_POST(self) -> None:  # the window's CLI: POST / {"type": "open", ...}
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with Path(record).open("a") as out:
                out.write(body.decode() + "\n")
            self._send(b"null")

        def log_message(self, format: str, *args: object) -> None:
            pass

    for path in (registry, window):
        Path(path).unlink(missing_ok=True)  # like code-server: a stale socket is replaced
        server = _UnixHTTPServer(path, Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()


# A stray lives until it is killed (300 s bounds an orphan the test failed to kill): not a wait.
_NOHUP_SLEEP = (
    "import signal, time\nsignal.signal(signal.SIGHUP, signal.SIG_IGN)\ntime.sleep(300)\n"
)


def _spawn_terminal_strays() -> list[int]:
    """``setsid nohup sleep &`` twice: a child of ours, and an orphan (see the knob)."""
    child = subprocess.Popen([sys.executable, "-c", _NOHUP_SLEEP], start_new_session=True)
    launcher = (
        "import subprocess, sys\n"
        f"p = subprocess.Popen([sys.executable, '-c', {_NOHUP_SLEEP!r}], "
        "start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(p.pid, flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", launcher], capture_output=True, text=True, check=True
    )
    return [child.pid, int(done.stdout)]


def _spawn_grandchild() -> subprocess.Popen[bytes]:
    code = "import signal, time\n"
    if os.environ.get("FAKE_CS_GRANDCHILD_IGNORES_SIGTERM"):
        code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    # It lives until its group is stopped (300 s bounds a leak): not a wait.
    code += "time.sleep(300)\n"
    return subprocess.Popen([sys.executable, "-c", code])


def _config_password(path: str | None) -> str | None:
    """``password:`` of a code-server config file (the one line form we write)."""
    if not path:
        return None
    for line in Path(path).read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "password":
            return value.strip().strip('"')
    return None


FAKE_VERSION = "4.139.1"


def _install(argv: list[str]) -> int:
    """``--install-extension`` calls: record each identity in extensions.json."""
    import zipfile

    directory = Path(argv[argv.index("--extensions-dir") + 1])
    directory.mkdir(parents=True, exist_ok=True)
    record = directory / "extensions.json"
    entries = json.loads(record.read_text()) if record.exists() else []
    for index, item in enumerate(argv):
        if item != "--install-extension":
            continue
        with zipfile.ZipFile(argv[index + 1]) as archive:
            manifest = json.loads(archive.read("extension/package.json"))
        ext_id = f"{manifest['publisher']}.{manifest['name']}"
        folder = f"{ext_id.lower()}-{manifest['version']}"
        (directory / folder).mkdir(exist_ok=True)
        entries = [e for e in entries if e["identifier"]["id"].lower() != ext_id.lower()]
        entries.append(
            {
                "identifier": {"id": ext_id},
                "version": manifest["version"],
                "relativeLocation": folder,
            }
        )
    record.write_text(json.dumps(entries))
    return 0


def main() -> int:
    argv = sys.argv[1:]
    if argv == ["--version"]:
        print(f"{FAKE_VERSION} 0000000000000000000000000000000000000000 with Code 1.105.0")
        return 0
    if "--install-extension" in argv:
        return _install(argv)
    options, positional = _parse(argv)
    record = os.environ.get("FAKE_CS_RECORD")
    if record:
        keep = ("PASSWORD", "HASHED_PASSWORD", "XDG_DATA_HOME", "PORT", "VSCODE_IPC_HOOK_CLI")
        env = {key: os.environ[key] for key in keep if key in os.environ}
        facts = {"argv": argv, "env": env, "pid": os.getpid(), "pgid": os.getpgrp()}
        Path(record).write_text(json.dumps(facts))
    if os.environ.get("FAKE_CS_IGNORE_SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:

        def on_term(signum: int, frame: FrameType | None) -> None:
            print("[fake code-server] got SIGTERM, exiting", flush=True)
            sys.exit(0)

        signal.signal(signal.SIGTERM, on_term)
    auth = options.get("--auth", "password")
    password = _config_password(options.get("--config")) or os.environ.get("PASSWORD")
    if auth == "password" and not password:
        print("[fake code-server] error Please pass in a password via $PASSWORD", flush=True)
        return 1
    pids = [os.getpid()]
    if os.environ.get("FAKE_CS_GRANDCHILD"):
        pids.append(_spawn_grandchild().pid)
    if os.environ.get("FAKE_CS_TERMINAL_STRAYS"):
        pids += _spawn_terminal_strays()
    if os.environ.get("FAKE_CS_PIDS"):
        Path(os.environ["FAKE_CS_PIDS"]).write_text(json.dumps(pids))
    if os.environ.get("FAKE_CS_EXIT_BEFORE_READY"):
        print("[fake code-server] crashing before ready", flush=True)
        return int(os.environ["FAKE_CS_EXIT_BEFORE_READY"])
    host, _, port = options.get("--bind-addr", "127.0.0.1:8080").rpartition(":")
    heart = _Heart()
    limit = os.environ.get("FAKE_CS_EXIT_AFTER_HEALTHZ")
    answered = _Answered(int(limit) if limit else None)
    handler = _handler(heart, password if auth == "password" else None, answered)
    try:
        server = http.server.ThreadingHTTPServer((host.strip("[]"), int(port)), handler)
    except OSError as error:
        code = "EADDRINUSE" if error.errno == errno.EADDRINUSE else "EBIND"
        print(f"[fake code-server] error listen {code}: {error} {host}:{port}", flush=True)
        return 1
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    if os.environ.get("FAKE_CS_WINDOW") and options.get("--session-socket"):
        _serve_window_registry(options["--session-socket"], os.environ["FAKE_CS_WINDOW"])
    print(f"[fake code-server] HTTP server listening on http://{host}:{port}/", flush=True)
    print(f"[fake code-server] folder {positional[-1] if positional else '(none)'}", flush=True)
    every = float(os.environ.get("FAKE_CS_HEARTBEAT_EVERY", "0"))
    while True:
        if every:
            heart.beat()
        # Waits on the exit condition; the timeout is the heartbeat's period, not a wait.
        if answered.enough.wait(every or None):
            break
    print("[fake code-server] exiting on its own (like --idle-timeout-seconds)", flush=True)
    return int(os.environ.get("FAKE_CS_EXIT_CODE", "0"))


if __name__ == "__main__":
    sys.exit(main())
