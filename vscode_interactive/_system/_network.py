"""Real network adapters: artifact fetches (file, HTTP, fsspec), uploads (fsspec), /healthz,
ports, the IDE windows' Unix-socket CLI. Heavy imports (fsspec pulls in aiohttp) happen on
first use."""

import contextlib
import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .._ports import ByteStream, Health
from ._files import write_atomic

__all__ = [
    "FsspecFetcher",
    "FsspecUploader",
    "SocketPortAllocator",
    "UnixSocketEditorWindows",
    "UrllibHealthProbe",
]


@dataclass(slots=True)
class _FileStream:
    """Adapts a binary file object to :class:`ByteStream`."""

    raw: IO[bytes] | Any
    size: int | None

    def read(self, n: int, /) -> bytes:
        data = self.raw.read(n)
        return bytes(data) if data else b""


def _is_http(url: str) -> bool:
    return url.startswith(("http://", "https://"))


# storage_options the standard-library HTTP path understands; anything else goes to fsspec.
_URLLIB_OPTIONS = frozenset({"headers", "timeout"})
_HTTP_TIMEOUT = 60.0


class _HttpStream:
    """A urllib response as a :class:`ByteStream`.

    A server that ignores ``Accept-Encoding: identity`` and sends ``Content-Encoding:
    gzip`` anyway is decoded here, so the bytes read are always the file itself.
    """

    def __init__(self, response: http.client.HTTPResponse, url: str) -> None:
        self._response = response
        self._url = url
        encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding not in ("identity", "gzip", "x-gzip", "deflate"):
            raise OSError(f"{url}: unsupported Content-Encoding {encoding!r}")
        # 47 = 32 + 15: zlib or gzip header, detected automatically.
        self._decoder = None if encoding == "identity" else zlib.decompressobj(47)
        length = response.headers.get("Content-Length")
        self.size = int(length) if self._decoder is None and length and length.isdigit() else None

    def read(self, n: int, /) -> bytes:
        while True:
            try:
                raw = self._response.read1(n)
            except http.client.HTTPException as error:  # IncompleteRead and friends
                raise ConnectionError(f"{self._url}: {type(error).__name__}: {error}") from error
            if self._decoder is None:
                return raw
            if not raw:
                return self._decoder.flush()
            try:
                data = self._decoder.decompress(raw)
            except zlib.error as error:
                raise ConnectionError(f"{self._url}: corrupt compressed body: {error}") from error
            if data:
                return data


def _http_status_error(url: str, code: int, reason: str) -> OSError:
    message = f"HTTP {code} {reason} from {url}"
    if code in (404, 410):
        return FileNotFoundError(message)
    if code in (408, 425, 429) or code >= 500:
        return ConnectionError(message)  # transient: worth a retry
    return PermissionError(message)  # the server refuses: retrying will not help


@contextlib.contextmanager
def _open_http(url: str, options: Mapping[str, object]) -> Iterator[ByteStream]:
    headers = {"Accept-Encoding": "identity", "User-Agent": "vscode-interactive"}
    extra = options.get("headers") or {}
    if not isinstance(extra, Mapping):
        raise TypeError(f"storage_options['headers'] must be a mapping, got {extra!r}")
    headers.update({str(key): str(value) for key, value in extra.items()})
    timeout = options.get("timeout", _HTTP_TIMEOUT)
    if not isinstance(timeout, (int, float)):
        raise TypeError(f"storage_options['timeout'] must be seconds, got {timeout!r}")
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http(s) only
    try:
        response = urllib.request.urlopen(request, timeout=float(timeout))  # noqa: S310
    except urllib.error.HTTPError as error:
        error.close()
        raise _http_status_error(url, error.code, str(error.reason)) from None
    except http.client.HTTPException as error:
        raise ConnectionError(f"{url}: {type(error).__name__}: {error}") from error
    with response:
        yield _HttpStream(response, url)


class FsspecFetcher:
    """Streams any URL fsspec understands: http(s), file://, plain paths, s3://, gs://...

    HTTP asks for ``Accept-Encoding: identity`` so a server that would gzip a ``.tar.gz``
    on the fly cannot change the bytes we hash. Plain http(s) URLs whose
    ``storage_options`` hold only ``headers`` and/or ``timeout`` take a standard-library
    path (urllib): as fast as curl on loopback, and it spares importing aiohttp. Any other
    option (``client_kwargs``, ``auth``...) selects fsspec's HTTP filesystem, which then
    streams with ``block_size=0`` (no range requests, no need for Content-Length). Errors
    are ``OSError``: ``FileNotFoundError`` (404/410) and ``PermissionError`` (401/403,
    other 4xx) are final, others (connection, timeout, 5xx, 429) are worth a retry.
    """

    @contextlib.contextmanager
    def open(self, url: str, storage_options: Mapping[str, object]) -> Iterator[ByteStream]:
        options: dict[str, Any] = dict(storage_options)
        if "://" not in url or url.startswith("file://"):
            path = Path(url.removeprefix("file://"))
            with path.open("rb") as handle:
                yield _FileStream(handle, path.stat().st_size)
            return
        if _is_http(url) and set(options) <= _URLLIB_OPTIONS:
            with _open_http(url, options) as stream:
                yield stream
            return
        with self._open_fsspec(url, options) as stream:
            yield stream

    @contextlib.contextmanager
    def _open_fsspec(self, url: str, options: dict[str, Any]) -> Iterator[ByteStream]:
        import fsspec  # deferred: importing fsspec[http] costs tens of milliseconds

        if _is_http(url):
            headers = {"Accept-Encoding": "identity"}
            headers.update(dict(options.pop("headers", {}) or {}))
            options["headers"] = headers
            options.setdefault("block_size", 0)
        with contextlib.ExitStack() as stack:
            try:
                handle = stack.enter_context(fsspec.open(url, "rb", **options))
            except Exception as error:
                converted = _as_os_error(url, error)
                if converted is error:
                    raise
                raise converted from error
            size = getattr(handle, "size", None)
            yield _FsspecStream(handle, url, size if isinstance(size, int) else None)


def _as_os_error(url: str, error: Exception) -> Exception:
    """Backend errors (aiohttp, botocore...) become ``ConnectionError``; OSError and
    option mistakes (TypeError, ValueError) stay as they are."""
    if isinstance(error, (OSError, TypeError, ValueError)):
        return error
    return ConnectionError(f"{url}: {type(error).__name__}: {error}")


@dataclass(slots=True)
class _FsspecStream:
    raw: Any
    url: str
    size: int | None

    def read(self, n: int, /) -> bytes:
        try:
            data = self.raw.read(n)
        except Exception as error:
            converted = _as_os_error(self.url, error)
            if converted is error:
                raise
            raise converted from error
        return bytes(data) if data else b""


class FsspecUploader:
    """Copies files to any URL fsspec can write (``s3://``, ``gs://``, ``memory://``, ...).

    A local destination (``file://`` or a plain path) is written like every file the
    library writes: its folders created 0700, the file atomically and 0600, since it may
    hold captured inputs. Elsewhere the backend's own ``put_file`` streams the file (the
    object store's permissions apply).
    """

    def put_file(self, local: Path, url: str) -> None:
        if "://" not in url or url.startswith("file://"):
            target = Path(url.removeprefix("file://"))
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with local.open("rb") as source:
                write_atomic(target, iter(lambda: source.read(1 << 20), b""))
            return
        from fsspec.core import url_to_fs  # deferred: fsspec[http] costs tens of ms

        filesystem, path = url_to_fs(url)
        filesystem.put_file(str(local), path)


class UrllibHealthProbe:
    """``GET {base_url}/healthz`` with the standard library (no fsspec import)."""

    def check(self, base_url: str, timeout: float) -> Health | None:
        url = base_url.rstrip("/") + "/healthz"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                body = json.loads(response.read(64 * 1024) or b"{}")
        except (OSError, ValueError):
            return None
        if not isinstance(body, dict):
            return None
        heartbeat = body.get("lastHeartbeat", 0)
        return Health(
            status=str(body.get("status", "")),
            last_heartbeat_ms=int(heartbeat) if isinstance(heartbeat, (int, float)) else 0,
        )


def _tcp_socket(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    return socket.socket(family, socket.SOCK_STREAM)


class SocketPortAllocator:
    """Binds a throw-away socket to learn what the operating system would give us."""

    def free_port(self, host: str) -> int:
        with _tcp_socket(host) as sock:
            sock.bind((host.strip("[]"), 0))
            port: int = sock.getsockname()[1]
            return port

    def is_free(self, host: str, port: int) -> bool:
        with _tcp_socket(host) as sock:
            # Node (code-server) listens with SO_REUSEADDR, so a port in TIME_WAIT is usable.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host.strip("[]"), port))
            except OSError:
                return False
            return True


class _UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP/1.1 over a Unix socket (code-server's registry and the windows' CLI sockets)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _unix_request(
    path: str, method: str, target: str, body: bytes | None, timeout: float
) -> tuple[int, bytes]:
    conn = _UnixHTTPConnection(path, timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read(64 * 1024)
    finally:
        conn.close()


class UnixSocketEditorWindows:
    """code-server's session registry (``GET /session?filePath=``) and the remote-CLI
    ``open`` request (``POST /``), as ``code-server --reuse-window`` sends them."""

    def newest(self, registry: Path, containing: Path, timeout: float) -> str | None:
        query = urllib.parse.urlencode({"filePath": str(containing)})
        try:
            status, body = _unix_request(str(registry), "GET", f"/session?{query}", None, timeout)
            answer = json.loads(body or b"{}")
        except (OSError, ValueError, http.client.HTTPException):
            return None
        socket_path = answer.get("socketPath") if isinstance(answer, dict) else None
        return socket_path if status == 200 and isinstance(socket_path, str) else None

    def open(self, window: str, request: Mapping[str, object], timeout: float) -> None:
        body = json.dumps(dict(request)).encode()
        try:
            status, answer = _unix_request(window, "POST", "/", body, timeout)
        except http.client.HTTPException as error:
            raise OSError(f"{window}: {error!r}") from error
        if status != 200:
            raise OSError(f"{window} answered HTTP {status}: {answer[:200]!r}")
