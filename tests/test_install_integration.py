"""ensure_installed for real: artifact cache, HTTP on 127.0.0.1, a stand-in code-server.

The release archive (``code-server-X-linux-ARCH/bin/code-server`` + ``package.json``) wraps
the stand-in from ``tests/artifacts.py``, which logs every start, so "code-server was not
started" is a fact read from its log; the server counts requests, so "nothing was
downloaded" is one too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.artifacts import (
    build_release_archive,
    build_vsix,
    fake_code_server_script,
    read_invocations,
    sha256_hex,
)
from tests.fakes import FakeEnvironment
from tests.httpserver import LoopbackServer
from tests.waiting import wait_until
from vscode_interactive import Installation, VscodeConfig, ensure_installed
from vscode_interactive._errors import CacheError, HashMismatchError, InstallError
from vscode_interactive._extension._pack import own_extension
from vscode_interactive._install._arch import Arch, current_arch
from vscode_interactive._install._extensions import read_installed
from vscode_interactive._system._processes import SubprocessRunner
from vscode_interactive.cache import Cache
from vscode_interactive.cache._store import url_key

pytestmark = pytest.mark.integration

HOST = current_arch()
OTHER = next(arch for arch in Arch if arch is not HOST)
VERSION = "4.200.0"
REFUSAL = "engine ^9.0.0 not satisfied"


def _installs(log: Path) -> list[list[str]]:
    """The --install-extension file names of each logged install call."""
    return [
        [Path(argv[i + 1]).name for i, arg in enumerate(argv) if arg == "--install-extension"]
        for argv in read_invocations(log)
        if "--install-extension" in argv
    ]


@dataclass
class Setup:
    tmp: Path
    server: LoopbackServer
    log: Path
    archive: bytes
    vsix: dict[str, bytes] = field(default_factory=dict)
    paths: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.env = FakeEnvironment(
            {
                "HOME": str(self.tmp / "home"),
                "TMPDIR": str(self.tmp / "tmp"),
                "PATH": str(self.tmp / "empty-path"),
            }
        )
        self.serve(self.archive_path, self.archive)
        for name, data in self.vsix.items():
            self.serve(f"/vsx/{name}", data)

    def serve(self, path: str, data: bytes) -> str:
        self.paths.add(path)
        return self.server.add(path, data)

    def total(self) -> int:
        """Requests received for every path served so far."""
        return sum(self.server.count(path) for path in self.paths)

    @property
    def archive_path(self) -> str:
        return f"/releases/code-server-{VERSION}-linux-{HOST.value}.tar.gz"

    def config(self, *, pinned: bool = False) -> VscodeConfig:
        urls = [self.server.url(f"/vsx/{name}") for name in self.vsix]
        return VscodeConfig(
            code_server_remote_paths={HOST.value: self.server.url(self.archive_path)},
            code_server_dir_names={HOST.value: f"code-server-{VERSION}-linux-{HOST.value}"},
            extension_remote_paths=urls,
            code_server_sha256={HOST.value: sha256_hex(self.archive)} if pinned else {},
            extension_sha256=(
                {url: sha256_hex(data) for url, data in zip(urls, self.vsix.values(), strict=True)}
                if pinned
                else {}
            ),
            own_extension=False,  # tests/test_install_own_extension.py covers it
        )

    def cache(self) -> Cache:
        return Cache(self.tmp / "cache", env=self.env)

    def install(self, config: VscodeConfig, **kwargs: object) -> Installation:
        arch = kwargs.get("arch")
        return ensure_installed(
            config,
            cache=self.cache(),
            env=self.env,
            runner=SubprocessRunner(),
            arch=arch if isinstance(arch, str) else None,
        )


@pytest.fixture
def setup(tmp_path: Path, http_server: LoopbackServer) -> Setup:
    log = tmp_path / "code-server-starts.log"
    archive = build_release_archive(VERSION, fake_code_server_script(log, VERSION), arch=HOST.value)
    return Setup(
        tmp_path,
        http_server,
        log,
        archive,
        {
            "pub.alpha-1.0.0.vsix": build_vsix("pub", "alpha", "1.0.0"),
            "pub.beta-2.0.0.vsix": build_vsix("pub", "beta", "2.0.0"),
        },
    )


def test_cold_install_with_pins(setup: Setup) -> None:
    """Pinned archive and extensions are downloaded once each, the release's bin/code-server
    is executable and reports its version, and one code-server call installs both."""
    installation = setup.install(setup.config(pinned=True))
    assert installation.source == "download"
    assert installation.version == VERSION
    done = subprocess.run(
        [str(installation.executable), "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith(VERSION)
    assert setup.server.count(setup.archive_path) == 1
    assert all(setup.server.count(f"/vsx/{name}") == 1 for name in setup.vsix)
    assert _installs(setup.log) == [["pub.alpha-1.0.0.vsix", "pub.beta-2.0.0.vsix"]]
    assert read_installed(installation.extensions_dir) == {
        "pub.alpha": "1.0.0",
        "pub.beta": "2.0.0",
    }
    assert installation.pins[setup.server.url(setup.archive_path)] == sha256_hex(setup.archive)


def test_warm_install_downloads_nothing_and_starts_nothing(setup: Setup) -> None:
    """With everything present, a second call makes no request and starts no code-server."""
    first = setup.install(setup.config())
    requests, starts = setup.total(), len(read_invocations(setup.log))
    second = setup.install(setup.config())
    assert setup.total() == requests
    assert len(read_invocations(setup.log)) == starts
    assert (second.source, second.executable) == ("cache", first.executable)


def test_extension_added_later_installs_only_it(setup: Setup) -> None:
    """Adding an extension later downloads and installs just that one."""
    setup.install(setup.config())
    setup.serve("/vsx/pub.gamma-3.0.0.vsix", build_vsix("pub", "gamma", "3.0.0"))
    config = setup.config()
    config.add_extensions(setup.server.url("/vsx/pub.gamma-3.0.0.vsix"))
    installation = setup.install(config)
    assert _installs(setup.log)[-1] == ["pub.gamma-3.0.0.vsix"]
    assert len(_installs(setup.log)) == 2
    assert setup.server.count("/vsx/pub.alpha-1.0.0.vsix") == 1
    assert set(read_installed(installation.extensions_dir)) == {
        "pub.alpha",
        "pub.beta",
        "pub.gamma",
    }


def test_corrupted_archive_is_a_clear_error_and_installs_nothing(setup: Setup) -> None:
    """A damaged archive fails with a cache error naming its URL; no code-server runs and
    no extension is installed."""
    setup.serve(setup.archive_path, setup.archive[: len(setup.archive) // 2])
    with pytest.raises(CacheError) as info:
        setup.install(setup.config())
    assert setup.server.url(setup.archive_path) in str(info.value)
    assert read_invocations(setup.log) == []
    extensions_dir = setup.tmp / "home/.local/share/vscode-interactive/extensions"
    assert read_installed(extensions_dir) == {}


def test_wrong_bytes_for_a_pin_then_recovery(setup: Setup) -> None:
    """Bytes that do not match the pin are refused; once the mirror serves the right ones
    the next call installs normally."""
    good = setup.archive
    setup.serve(setup.archive_path, good[:-1] + bytes([good[-1] ^ 0xFF]))
    with pytest.raises(HashMismatchError):
        setup.install(setup.config(pinned=True))
    assert read_invocations(setup.log) == []
    setup.serve(setup.archive_path, good)
    assert setup.install(setup.config(pinned=True)).version == VERSION


def test_failed_extension_install_reports_code_server_output(setup: Setup) -> None:
    """When code-server refuses an extension, InstallError carries what it printed."""
    setup.serve(
        "/vsx/pub.bad-1.0.0.vsix",
        build_vsix("pub", "bad", "1.0.0", manifest_extra={"fakeInstallFails": REFUSAL}),
    )
    config = setup.config()
    config.add_extensions(setup.server.url("/vsx/pub.bad-1.0.0.vsix"))
    with pytest.raises(InstallError) as info:
        setup.install(config)
    assert REFUSAL in str(info.value)
    assert "Failed Installing Extensions" in info.value.output


def test_fetches_run_concurrently(setup: Setup) -> None:
    """The archive and both extensions are requested at the same time: the server holds
    every response, and all three requests still arrive before any is released."""
    paths = sorted(setup.paths)
    gates = [setup.server.stall(path, after=0) for path in paths]
    all_arrived = threading.Event()

    def release_when_all_arrived() -> None:
        try:
            wait_until(
                lambda: all(setup.server.count(path) == 1 for path in paths),
                timeout=60,
                what=f"a request for each of {paths}",
            )
            all_arrived.set()
        finally:
            for gate in gates:
                gate.set()

    watcher = threading.Thread(target=release_when_all_arrived)
    watcher.start()
    try:
        setup.install(setup.config())
    finally:
        watcher.join()
    assert all_arrived.is_set()


def test_code_server_on_path_is_used_before_the_cache(setup: Setup) -> None:
    """A code-server found on PATH is used as is; only the extensions are fetched."""
    first = setup.install(setup.config())  # puts a release tree in the cache
    setup.env.values["PATH"] = str(first.executable.parent)
    before = setup.server.count(setup.archive_path)
    installation = setup.install(setup.config(), arch=HOST.value)
    assert (installation.source, installation.version) == ("path", VERSION)
    assert setup.server.count(setup.archive_path) == before


def test_unwritable_home_still_installs(setup: Setup, tmp_path: Path) -> None:
    """With HOME below a regular file the stand-in code-server (which, like the real one,
    creates ~/.config/code-server) fails on its own, but succeeds through ensure_installed
    because it gets the fallback HOME/XDG variables."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    setup.env.values["HOME"] = str(blocker / "home")
    installation = setup.install(setup.config())
    assert read_installed(installation.extensions_dir) == {
        "pub.alpha": "1.0.0",
        "pub.beta": "2.0.0",
    }
    assert Path(installation.env["XDG_CONFIG_HOME"], "code-server").is_dir()
    alone = subprocess.run(
        [str(installation.executable), "--list-extensions"],
        env={"HOME": str(blocker / "home")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert alone.returncode == 1 and "EACCES" in alone.stderr


def _cli_env(setup: Setup, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        "HOME": str(setup.tmp / "home"),
        "PATH": os.environ["PATH"],
        "TMPDIR": str(setup.tmp / "tmp"),
        "VSCODE_INTERACTIVE_CACHE": str(setup.tmp / "cli-cache"),
        "VSCODE_INTERACTIVE_DATA_DIR": str(setup.tmp / "cli-data"),
        "VSCODE_INTERACTIVE_CODE_SERVER_URL": setup.server.url(setup.archive_path),
        "VSCODE_INTERACTIVE_EXTENSIONS": " ".join(
            setup.server.url(f"/vsx/{name}") for name in setup.vsix
        ),
    }
    env.update(extra or {})
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vscode_interactive", "install", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_cli_print_pins_round_trip(setup: Setup) -> None:
    """`install --print-pins` prints only pin lines on stdout; fed back as the environment
    they are verified, and a mirror serving other bytes is then refused."""
    env = _cli_env(setup)
    done = _cli(env, "--print-pins")
    assert done.returncode == 0, done.stderr
    pins = dict(line.split("=", 1) for line in done.stdout.splitlines() if not line.startswith("#"))
    assert pins["VSCODE_INTERACTIVE_CODE_SERVER_SHA256"] == sha256_hex(setup.archive)
    extensions = pins["VSCODE_INTERACTIVE_EXTENSIONS"].strip("'")
    for name, data in setup.vsix.items():
        assert f"{setup.server.url('/vsx/' + name)}#sha256={sha256_hex(data)}" in extensions
    assert "code-server 4.200.0" in done.stderr and "extensions installed" in done.stderr

    pinned = {**env, **pins, "VSCODE_INTERACTIVE_EXTENSIONS": extensions}
    again = _cli(pinned)
    assert again.returncode == 0, again.stderr
    assert "from cache" in again.stdout

    setup.serve(setup.archive_path, build_release_archive(VERSION, "#!/bin/sh\n"))
    fresh = _cli({**pinned, "VSCODE_INTERACTIVE_CACHE": str(setup.tmp / "other-cache")})
    assert fresh.returncode == 1
    assert sha256_hex(setup.archive) in fresh.stderr


def test_cli_other_arch_fetches_without_installing(setup: Setup) -> None:
    """`install --arch <other>` downloads that arch's archive and the extensions, runs
    nothing, and says the extensions were not installed."""
    other_path = f"/releases/code-server-{VERSION}-linux-{OTHER.value}.tar.gz"
    setup.serve(
        other_path,
        build_release_archive(
            VERSION, fake_code_server_script(setup.log, VERSION), arch=OTHER.value
        ),
    )
    env = _cli_env(setup, {"VSCODE_INTERACTIVE_CODE_SERVER_URL": setup.server.url(other_path)})
    done = _cli(env, "--arch", OTHER.value)
    assert done.returncode == 0, done.stderr
    assert f"({OTHER.value}) from download" in done.stdout
    assert "extensions NOT installed: pub.alpha@1.0.0, pub.beta@2.0.0" in done.stdout
    assert read_invocations(setup.log) == []
    assert setup.server.count(other_path) == 1


def test_install_killed_mid_download_is_not_mistaken_for_done(setup: Setup) -> None:
    """SIGKILL during the archive download leaves nothing a later call accepts as
    installed: the next call downloads again and installs."""
    half = len(setup.archive) // 2
    gate = setup.server.stall(setup.archive_path, after=half)
    child = subprocess.Popen(
        [sys.executable, "-m", "vscode_interactive", "install"],
        env=_cli_env(setup),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # The archive's own temporary file (the .vsix downloads have theirs, as big as half
    # the archive): <cache>/tmp/<first 16 hex of the URL's key>.<unique>.part
    temp = f"{url_key(setup.server.url(setup.archive_path))[:16]}.*.part"
    temp_dir = setup.tmp / "cli-cache" / "tmp"

    def first_half_on_disk() -> bool:
        assert child.poll() is None, "the install ended before the download was held"
        return any(part.stat().st_size >= half for part in temp_dir.glob(temp))

    try:
        wait_until(first_half_on_disk, timeout=60, what=f"{half} bytes in {temp_dir}/{temp}")
        assert setup.server.count(setup.archive_path) == 1
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        gate.set()
    done = _cli(_cli_env(setup))
    assert done.returncode == 0, done.stderr
    assert "from download" in done.stdout
    assert setup.server.count(setup.archive_path) == 2
    own = own_extension().file_name  # the library's own extension, in the same one call
    assert _installs(setup.log) == [["pub.alpha-1.0.0.vsix", "pub.beta-2.0.0.vsix", own]]


def test_download_vscode_puts_code_server_on_path(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reference's download_vscode installs and makes `code-server` resolve by name."""
    import shutil

    from vscode_interactive import download_vscode, get_installed_extensions

    for name, value in _cli_env(setup).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PATH", str(setup.tmp / "empty-path"))
    download_vscode(VscodeConfig())
    found = shutil.which("code-server")
    assert found is not None and Path(found).parent.parent.name.endswith(HOST.value)
    assert get_installed_extensions() == ["pub.alpha", "pub.beta", "vscode-interactive.session"]
