"""The ArtifactStore contract, run on the real ``Cache`` and on ``FakeArtifactStore``.

Unit tests of ``ensure_installed`` use the fake; these tests are what lets them: every
behaviour the installer relies on is checked on both stores with the same code. The real
cache gets its network from a ``FakeFetcher`` (no sockets, no sleeps: a ``FakeClock``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.archives import tar_bytes, zip_bytes
from tests.fakes import FakeArtifactStore, FakeClock, FakeEnvironment, FakeFetcher
from vscode_interactive._errors import (
    ConfigError,
    DownloadError,
    ExtractionError,
    HashMismatchError,
)
from vscode_interactive._ports import ArtifactStore
from vscode_interactive.cache import Cache

URL = "https://mirror.test/dist/tool-1.0.tar.gz?token=abc"
DATA = b"version one"
OTHER = b"version two"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Backend:
    """A store plus the network behind it: ``serve`` puts bytes at a URL, ``downloads``
    counts the transfers the store made so far."""

    store: ArtifactStore
    serve: Callable[[str, bytes], None]
    downloads: Callable[[], int]


def _real(root: Path) -> Backend:
    fetcher = FakeFetcher()
    cache = Cache(root, fetcher=fetcher, clock=FakeClock(), env=FakeEnvironment())
    return Backend(cache, fetcher.content.__setitem__, lambda: len(fetcher.opened))


def _fake(root: Path) -> Backend:
    store = FakeArtifactStore(root)
    return Backend(store, store.content.__setitem__, lambda: len(store.downloads))


@pytest.fixture(params=[_real, _fake], ids=["Cache", "FakeArtifactStore"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    make: Callable[[Path], Backend] = request.param
    return make(tmp_path / "store")


def test_fetch_downloads_once_then_serves_hits(backend: Backend) -> None:
    """The first fetch downloads the bytes; the next is a hit on the same path."""
    backend.serve(URL, DATA)
    first = backend.store.fetch(URL)
    assert first.read_bytes() == DATA
    assert backend.store.fetch(URL) == first
    assert backend.downloads() == 1


def test_fetched_file_keeps_the_url_file_name(backend: Backend) -> None:
    """The file is named after the URL's path (no query), so suffixes like .vsix survive."""
    backend.serve(URL, DATA)
    assert backend.store.fetch(URL).name == "tool-1.0.tar.gz"


def test_first_use_is_trusted_and_recorded(backend: Backend) -> None:
    """Nothing is recorded or contained before a fetch; after it, the sha256 seen first is."""
    backend.serve(URL, DATA)
    assert backend.store.recorded_sha256(URL) is None
    assert not backend.store.contains(URL)
    backend.store.fetch(URL)
    assert backend.store.recorded_sha256(URL) == sha(DATA)
    assert backend.store.contains(URL)
    assert backend.store.contains(URL, sha(DATA))
    assert not backend.store.contains(URL, sha(OTHER))


def test_hit_does_not_look_at_the_network(backend: Backend) -> None:
    """Once stored, a URL is served from the store even if the server now has other bytes."""
    backend.serve(URL, DATA)
    backend.store.fetch(URL)
    backend.serve(URL, OTHER)
    assert backend.store.fetch(URL).read_bytes() == DATA
    assert backend.downloads() == 1


def test_pin_match_is_recorded(backend: Backend) -> None:
    """A fetch with the right pin succeeds and the pin is what is recorded."""
    backend.serve(URL, DATA)
    assert backend.store.fetch(URL, sha(DATA)).read_bytes() == DATA
    assert backend.store.recorded_sha256(URL) == sha(DATA)


def test_pin_is_case_insensitive(backend: Backend) -> None:
    """A pin in upper case is the same pin."""
    backend.serve(URL, DATA)
    assert backend.store.fetch(URL, sha(DATA).upper()).read_bytes() == DATA
    assert backend.store.contains(URL, sha(DATA).upper())


def test_pin_mismatch_is_refused_and_nothing_is_kept(backend: Backend) -> None:
    """Bytes that do not match the pin: HashMismatchError naming the URL, nothing stored."""
    backend.serve(URL, DATA)
    with pytest.raises(HashMismatchError, match=r"mirror\.test/dist/tool-1\.0\.tar\.gz"):
        backend.store.fetch(URL, sha(OTHER))
    assert backend.store.recorded_sha256(URL) is None
    assert not backend.store.contains(URL)


def test_a_pin_overrides_what_was_trusted_first(backend: Backend) -> None:
    """A stored URL fetched with a pin for other bytes is downloaded again and checked."""
    backend.serve(URL, DATA)
    backend.store.fetch(URL)
    backend.serve(URL, OTHER)
    assert not backend.store.contains(URL, sha(OTHER))
    assert backend.store.fetch(URL, sha(OTHER)).read_bytes() == OTHER
    assert backend.downloads() == 2
    assert backend.store.recorded_sha256(URL) == sha(OTHER)


def test_malformed_pin_is_a_config_error(backend: Backend) -> None:
    """A pin that is not 64 hex digits is the caller's mistake: ConfigError, no download."""
    backend.serve(URL, DATA)
    for bad in ("abc", "g" * 64):
        with pytest.raises(ConfigError):
            backend.store.fetch(URL, bad)
        with pytest.raises(ConfigError):
            backend.store.contains(URL, bad)
    assert backend.downloads() == 0


def test_missing_url_is_a_download_error(backend: Backend) -> None:
    """Nothing at the URL: DownloadError naming it; nothing recorded."""
    missing = "https://mirror.test/none.bin"
    with pytest.raises(DownloadError, match=r"none\.bin"):
        backend.store.fetch(missing)
    assert backend.store.recorded_sha256(missing) is None
    assert not backend.store.contains(missing)


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_fetch_archive_extracts_once(backend: Backend, kind: str) -> None:
    """An archive comes back extracted (members relative to the returned directory); the
    second call is a hit on the same directory."""
    files = {"pkg/a.txt": b"a", "pkg/sub/b.txt": b"b"}
    url = f"https://mirror.test/pkg.{kind}"
    backend.serve(url, tar_bytes(files) if kind == "tar.gz" else zip_bytes(files))
    tree = backend.store.fetch_archive(url)
    assert {str(p.relative_to(tree)): p.read_bytes() for p in tree.rglob("*.txt")} == files
    assert backend.store.fetch_archive(url) == tree
    assert backend.downloads() == 1
    assert backend.store.recorded_sha256(url) is not None


def test_file_then_archive_of_the_same_url_downloads_once(backend: Backend) -> None:
    """fetch then fetch_archive of one URL share the stored bytes."""
    url = "https://mirror.test/pkg.tar.gz"
    data = tar_bytes({"pkg/a.txt": b"a"})
    backend.serve(url, data)
    assert backend.store.fetch(url).read_bytes() == data
    assert (backend.store.fetch_archive(url) / "pkg/a.txt").read_bytes() == b"a"
    assert backend.downloads() == 1


def test_archive_pin_mismatch_extracts_nothing(backend: Backend) -> None:
    """A pinned archive with other bytes: HashMismatchError and nothing contained."""
    url = "https://mirror.test/pkg.tar.gz"
    backend.serve(url, tar_bytes({"pkg/a.txt": b"a"}))
    with pytest.raises(HashMismatchError):
        backend.store.fetch_archive(url, sha(OTHER))
    assert not backend.store.contains(url)


def test_not_an_archive_is_an_extraction_error_every_time(backend: Backend) -> None:
    """Bytes that are no archive: ExtractionError, and again on the next call: no
    half-written tree is ever handed out."""
    url = "https://mirror.test/broken.tar.gz"
    backend.serve(url, b"this is not a tar file at all" * 10)
    for _ in range(2):
        with pytest.raises(ExtractionError):
            backend.store.fetch_archive(url)


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_member_escaping_the_tree_is_refused(backend: Backend, tmp_path: Path, kind: str) -> None:
    """A member named ../x is refused with ExtractionError and nothing lands outside."""
    url = f"https://mirror.test/evil.{kind}"
    files = {"pkg/ok.txt": b"ok", "../escaped.txt": b"x"}
    backend.serve(url, tar_bytes(files) if kind == "tar.gz" else zip_bytes(files))
    with pytest.raises(ExtractionError):
        backend.store.fetch_archive(url)
    assert not list(tmp_path.rglob("escaped.txt"))
