"""fetch_archive: formats, safety rules, executable bits, atomic publication, idempotence."""

from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path

import pytest

from tests.archives import special_member, tar_bytes, zip_bytes
from tests.fakes import FakeClock, FakeEnvironment, FakeFetcher
from vscode_interactive.cache import (
    Cache,
    CacheError,
    DownloadError,
    ExtractionError,
    HashMismatchError,
)
from vscode_interactive.cache._members import link_stays_inside, member_parts

BASE = "https://example.invalid/dl/"
FILES = {
    "code-server-1.0/bin/code-server": b"#!/bin/sh\necho hi\n",
    "code-server-1.0/lib/node": b"\x7fELF" + bytes(100),
    "code-server-1.0/README.md": b"readme",
}
EXECUTABLES = ("code-server-1.0/bin/code-server", "code-server-1.0/lib/node")


def make_cache(root: Path, content: dict[str, bytes]) -> tuple[Cache, FakeFetcher]:
    fetcher = FakeFetcher(content)
    return Cache(root, fetcher=fetcher, clock=FakeClock(), env=FakeEnvironment()), fetcher


def tree_files(tree: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(tree)): path.read_bytes()
        for path in sorted(tree.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def assert_nothing_published(root: Path) -> None:
    trees = root / "trees"
    assert not trees.exists() or list(trees.iterdir()) == [], list(trees.iterdir())
    assert not (root / "tmp").exists() or list((root / "tmp").iterdir()) == []


ARCHIVES = {
    "pkg.tar.gz": tar_bytes(FILES, executables=EXECUTABLES),
    "pkg.tgz": tar_bytes(FILES, executables=EXECUTABLES),
    "pkg.tar": tar_bytes(FILES, executables=EXECUTABLES, compression=""),
    "pkg.tar.bz2": tar_bytes(FILES, executables=EXECUTABLES, compression="bz2"),
    "pkg.tar.xz": tar_bytes(FILES, executables=EXECUTABLES, compression="xz"),
    "pkg.zip": zip_bytes(FILES, executables=EXECUTABLES),
    "pkg.vsix": zip_bytes(FILES, executables=EXECUTABLES),
}


@pytest.mark.parametrize("name", sorted(ARCHIVES))
def test_formats_extract_with_executable_bits(tmp_path: Path, name: str) -> None:
    """Every supported format extracts its files; bin/code-server stays executable."""
    cache, _ = make_cache(tmp_path, {BASE + name: ARCHIVES[name]})
    tree = cache.fetch_archive(BASE + name)
    assert tree_files(tree) == FILES
    assert os.access(tree / "code-server-1.0/bin/code-server", os.X_OK)
    assert (tree / "code-server-1.0/bin/code-server").stat().st_mode & 0o111
    assert not (tree / "code-server-1.0/README.md").stat().st_mode & 0o111
    assert (tree.parent / "complete.json").is_file()
    assert tree.parent.name == hashlib.sha256(ARCHIVES[name]).hexdigest()


def test_large_archive_streams_through_many_chunks(tmp_path: Path) -> None:
    """A multi-megabyte tar.gz (many download chunks) is extracted while streaming."""
    files = {f"pkg/f{n:03d}": os.urandom(40_000) for n in range(120)}
    data = tar_bytes(files)
    assert len(data) > 3 * (1 << 20)
    cache, _ = make_cache(tmp_path, {BASE + "big.tar.gz": data})
    assert tree_files(cache.fetch_archive(BASE + "big.tar.gz")) == files


def test_archive_is_idempotent_and_a_hit_needs_no_download(tmp_path: Path) -> None:
    """A second fetch_archive returns the same tree untouched and fetches nothing."""
    url = BASE + "pkg.tar.gz"
    cache, fetcher = make_cache(tmp_path, {url: ARCHIVES["pkg.tar.gz"]})
    tree = cache.fetch_archive(url)
    inode = tree.stat().st_ino
    assert cache.fetch_archive(url) == tree
    assert cache.fetch_archive(url, hashlib.sha256(ARCHIVES["pkg.tar.gz"]).hexdigest()) == tree
    assert tree.stat().st_ino == inode
    assert len(fetcher.opened) == 1
    [entry] = cache.entries()
    assert entry.extracted == tree and entry.extracted_size == sum(map(len, FILES.values()))


def test_fetch_then_fetch_archive_extracts_the_cached_blob(tmp_path: Path) -> None:
    """An archive first fetched as a file is extracted later without another download."""
    url = BASE + "pkg.zip"
    cache, fetcher = make_cache(tmp_path, {url: ARCHIVES["pkg.zip"]})
    cache.fetch(url)
    assert tree_files(cache.fetch_archive(url)) == FILES
    assert len(fetcher.opened) == 1


def test_tree_without_marker_is_not_accepted(tmp_path: Path) -> None:
    """A tree dir lacking its completeness marker (e.g. a partial copy) is replaced."""
    url = BASE + "pkg.tar.gz"
    cache, _ = make_cache(tmp_path, {url: ARCHIVES["pkg.tar.gz"]})
    tree = cache.fetch_archive(url)
    (tree.parent / "complete.json").unlink()
    (tree / "code-server-1.0/README.md").unlink()
    assert cache.verify()[0].message.startswith("extracted tree has no completeness marker")
    assert cache.fetch_archive(url) == tree
    assert tree_files(tree) == FILES
    assert cache.verify() == []
    assert [p.name for p in (tmp_path / "trees").iterdir()] == [tree.parent.name]


def test_verify_notices_a_changed_tree(tmp_path: Path) -> None:
    """verify() compares each tree with the file count and bytes in its marker."""
    url = BASE + "pkg.tar.gz"
    cache, _ = make_cache(tmp_path, {url: ARCHIVES["pkg.tar.gz"]})
    tree = cache.fetch_archive(url)
    (tree / "code-server-1.0/README.md").write_bytes(b"longer readme")
    [problem] = cache.verify(remove_bad=True)
    assert "extracted tree changed" in problem.message and problem.url == url
    assert not tree.exists()
    assert tree_files(cache.fetch_archive(url)) == FILES


UNSAFE_TARS = {
    "absolute": ({"/etc/evil": b"x"}, ()),
    "dotdot": ({"pkg/../../evil": b"x"}, ()),
    "symlink-absolute": ({}, (special_member("pkg/link", tarfile.SYMTYPE, "/etc/passwd"),)),
    "symlink-escapes": ({}, (special_member("pkg/link", tarfile.SYMTYPE, "../../outside"),)),
    "hardlink-outside": ({}, (special_member("pkg/hard", tarfile.LNKTYPE, "../etc/passwd"),)),
    "hardlink-missing": ({}, (special_member("pkg/hard", tarfile.LNKTYPE, "pkg/none"),)),
    "char-device": ({}, (special_member("pkg/null", tarfile.CHRTYPE),)),
    "block-device": ({}, (special_member("pkg/sda", tarfile.BLKTYPE),)),
    "fifo": ({}, (special_member("pkg/pipe", tarfile.FIFOTYPE),)),
}


@pytest.mark.parametrize("case", sorted(UNSAFE_TARS))
def test_unsafe_tar_members_are_refused(tmp_path: Path, case: str) -> None:
    """Absolute names, '..', escaping links and special files raise; nothing is published."""
    files, extra = UNSAFE_TARS[case]
    data = tar_bytes({"pkg/ok.txt": b"ok", **files}, extra=extra)
    cache, _ = make_cache(tmp_path / "cache", {BASE + "bad.tar.gz": data})
    with pytest.raises(ExtractionError) as caught:
        cache.fetch_archive(BASE + "bad.tar.gz")
    assert caught.value.member and caught.value.member in str(caught.value)
    assert BASE + "bad.tar.gz" in str(caught.value)
    assert_nothing_published(tmp_path / "cache")
    assert not (tmp_path / "outside").exists() and not (tmp_path / "evil").exists()


def test_member_written_through_a_symlink_is_refused(tmp_path: Path) -> None:
    """An inside symlink to '..' cannot be used to place a later file outside."""
    link = special_member("pkg/up", tarfile.SYMTYPE, "..")
    data = tar_bytes({}, extra=(link, _file_member("pkg/up/escaped")), compression="")
    cache, _ = make_cache(tmp_path / "cache", {BASE + "u.tar": data})
    with pytest.raises(ExtractionError, match="through a symlink"):
        cache.fetch_archive(BASE + "u.tar")
    assert_nothing_published(tmp_path / "cache")
    assert not (tmp_path / "cache" / "trees" / "escaped").exists()


def _file_member(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 0
    return info


def test_links_inside_the_archive_are_kept(tmp_path: Path) -> None:
    """Relative symlinks and hard links that stay inside are extracted as links."""
    extra = (
        special_member("pkg/bin/tool", tarfile.SYMTYPE, "../lib/tool.js"),
        special_member("pkg/lib/copy.js", tarfile.LNKTYPE, "pkg/lib/tool.js"),
    )
    data = tar_bytes({"pkg/lib/tool.js": b"js"}, extra=extra)
    cache, _ = make_cache(tmp_path, {BASE + "links.tar.gz": data})
    tree = cache.fetch_archive(BASE + "links.tar.gz")
    assert (tree / "pkg/bin/tool").readlink() == Path("../lib/tool.js")
    assert (tree / "pkg/bin/tool").read_bytes() == b"js"
    assert (tree / "pkg/lib/copy.js").stat().st_ino == (tree / "pkg/lib/tool.js").stat().st_ino
    assert cache.verify() == []


@pytest.mark.parametrize(
    ("files", "symlinks"),
    [
        ({"../evil": b"x"}, {}),
        ({"/abs": b"x"}, {}),
        ({}, {"extension/link": "../../../etc"}),
    ],
)
def test_unsafe_zip_members_are_refused(
    tmp_path: Path, files: dict[str, bytes], symlinks: dict[str, str]
) -> None:
    """A .vsix with '..', absolute names or escaping symlinks publishes nothing."""
    data = zip_bytes({"extension/package.json": b"{}", **files}, symlinks=symlinks)
    cache, _ = make_cache(tmp_path, {BASE + "x.vsix": data})
    with pytest.raises(ExtractionError):
        cache.fetch_archive(BASE + "x.vsix")
    assert_nothing_published(tmp_path)


def test_zip_device_member_is_refused(tmp_path: Path) -> None:
    """A zip entry whose unix mode is a FIFO is refused."""
    data = zip_bytes({"extension/fifo": b""}, modes={"extension/fifo": 0o010644})
    cache, _ = make_cache(tmp_path, {BASE + "x.zip": data})
    with pytest.raises(ExtractionError, match="special file"):
        cache.fetch_archive(BASE + "x.zip")
    assert_nothing_published(tmp_path)


def test_not_an_archive_is_an_extraction_error(tmp_path: Path) -> None:
    """Bytes that are neither tar nor zip raise ExtractionError naming the URL."""
    cache, _ = make_cache(tmp_path, {BASE + "x.tar.gz": b"<html>not found</html>" * 50})
    with pytest.raises(ExtractionError, match="not a readable tar/zip archive"):
        cache.fetch_archive(BASE + "x.tar.gz")
    assert_nothing_published(tmp_path)


def test_truncated_gzip_is_an_extraction_error(tmp_path: Path) -> None:
    """A cut-off .tar.gz (served whole, so the hash is what it is) fails cleanly."""
    data = tar_bytes({"pkg/f": os.urandom(50_000)})[:-2000]
    cache, _ = make_cache(tmp_path, {BASE + "x.tar.gz": data})
    with pytest.raises(ExtractionError):
        cache.fetch_archive(BASE + "x.tar.gz")
    assert_nothing_published(tmp_path)


def test_archive_hash_mismatch_leaves_no_partial_tree(tmp_path: Path) -> None:
    """A wrong pin aborts the streaming extraction: no tree, no temp dir, no blob."""
    url = BASE + "pkg.tar.gz"
    cache, _ = make_cache(tmp_path, {url: ARCHIVES["pkg.tar.gz"]})
    with pytest.raises(HashMismatchError):
        cache.fetch_archive(url, "f" * 64)
    assert_nothing_published(tmp_path)
    assert list((tmp_path / "blobs").iterdir()) == []


def test_member_parts_rules() -> None:
    """Names are split into parts; absolute, '..' and NUL are refused; '.' is dropped."""
    assert member_parts("./a//b/./c") == ("a", "b", "c")
    assert member_parts("./") == ()
    for bad in ("/a", "a/../b", "..", "a\x00b"):
        with pytest.raises(ValueError, match=r"absolute|\.\.|NUL"):
            member_parts(bad)


def test_link_stays_inside_rules() -> None:
    """Relative link targets are walked from the link's directory."""
    assert link_stays_inside(("a", "b", "link"), "../c")
    assert link_stays_inside(("a", "link"), "..")
    assert link_stays_inside(("link",), "a/./b")
    assert not link_stays_inside(("link",), "..")
    assert not link_stays_inside(("a", "link"), "../../x")
    assert not link_stays_inside(("a", "link"), "/etc")
    assert not link_stays_inside(("a", "link"), "")


# -- a cut-off or empty first download is not trusted (issue 18, point 2) ----------------------


@pytest.mark.parametrize("first", ["cut-off", "empty"])
def test_a_bad_first_download_is_not_trusted_and_the_next_call_downloads_again(
    tmp_path: Path, first: str
) -> None:
    """A cut-off (no Content-Length) or empty first answer keeps no record and no blob; once
    the server serves the archive, the next call downloads and extracts it."""
    url = BASE + "pkg.tar.gz"
    good = ARCHIVES["pkg.tar.gz"]
    bad = good[: len(good) // 2] if first == "cut-off" else b""
    cache, fetcher = make_cache(tmp_path, {url: bad})
    fetcher.report_size = False
    with pytest.raises(CacheError) as raised:
        cache.fetch_archive(url)
    if first == "cut-off":
        assert isinstance(raised.value, ExtractionError)
        assert "the next call downloads it again" in str(raised.value)
    else:
        assert isinstance(raised.value, DownloadError) and "no bytes" in str(raised.value)
    assert cache.recorded_sha256(url) is None and cache.entries() == []
    assert list((tmp_path / "blobs").rglob("*.gz")) == []
    fetcher.content[url] = good
    tree = cache.fetch_archive(url)
    assert tree_files(tree) == {name: data for name, data in FILES.items()}
    assert cache.recorded_sha256(url) == hashlib.sha256(good).hexdigest()


def test_an_empty_first_download_of_a_plain_file_is_not_trusted(tmp_path: Path) -> None:
    """An unpinned file that arrives empty is an error, not the hash trusted from then on."""
    url = BASE + "tool.bin"
    cache, fetcher = make_cache(tmp_path, {url: b""})
    with pytest.raises(DownloadError, match="no bytes; nothing was kept"):
        cache.fetch(url)
    assert cache.recorded_sha256(url) is None
    fetcher.content[url] = b"the tool"
    assert cache.fetch(url).read_bytes() == b"the tool"


def _poisoned(root: Path, url: str, data: bytes) -> Cache:
    """A cache as an earlier version left it: an unextractable archive trusted on first use."""
    cache, _ = make_cache(root, {url: data})
    cache.fetch(url)  # a plain fetch records and keeps it, as the archive path once did
    return cache


def test_verify_reports_a_trusted_archive_that_cannot_be_extracted(tmp_path: Path) -> None:
    """verify names such an entry and the way out; remove_bad drops its record and blob."""
    url = BASE + "pkg.tar.gz"
    good = ARCHIVES["pkg.tar.gz"]
    cache = _poisoned(tmp_path, url, good[: len(good) // 2])
    [problem] = cache.verify()
    assert problem.url == url and "cannot be extracted" in problem.message
    assert f"vscode-interactive cache forget {url}" in problem.message
    assert len(cache.verify(remove_bad=True)) == 1
    assert cache.verify() == [] and cache.recorded_sha256(url) is None


def test_extracting_a_trusted_unextractable_archive_names_cache_forget(tmp_path: Path) -> None:
    """The error for an entry an earlier version poisoned says how to get out of it."""
    url = BASE + "pkg.tar.gz"
    good = ARCHIVES["pkg.tar.gz"]
    cache = _poisoned(tmp_path, url, good[: len(good) // 2])
    with pytest.raises(ExtractionError, match=f"vscode-interactive cache forget {url}"):
        cache.fetch_archive(url)
