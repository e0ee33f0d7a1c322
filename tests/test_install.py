"""ensure_installed on fakes: source order, fetching, which extensions get installed."""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.artifacts import build_release_archive, build_vsix, sha256_hex
from tests.fakes import FakeArtifactStore, FakeCommandRunner, FakeEnvironment
from vscode_interactive import Installation, ensure_installed
from vscode_interactive._errors import ConfigError, HashMismatchError, InstallError
from vscode_interactive._install._arch import Arch, current_arch
from vscode_interactive._install._config import ENV_CODE_SERVER, VscodeConfig
from vscode_interactive._install._extensions import read_installed, read_vsix_identity
from vscode_interactive._ports import CommandResult

HOST = current_arch()
OTHER = next(arch for arch in Arch if arch is not HOST)
CS_URL = "https://mirror.test/code-server-9.9.9-linux-{arch}.tar.gz"
EXT_A = "https://vsx.test/pub.alpha-1.0.0.vsix"
EXT_B = "https://vsx.test/pub.beta-2.0.0.vsix"


def _installing(argv: list[str]) -> CommandResult:
    """What code-server does for --install-extension: record each .vsix in extensions.json."""
    if "--version" in argv:
        return CommandResult(0, "7.7.7 abcdef with Code 1.0.0\n", "")
    directory = Path(argv[argv.index("--extensions-dir") + 1])
    path = directory / "extensions.json"
    entries = json.loads(path.read_text()) if path.exists() else []
    for i, arg in enumerate(argv):
        if arg == "--install-extension":
            identity = read_vsix_identity(Path(argv[i + 1]))
            entries = [e for e in entries if e["identifier"]["id"].lower() != identity.key]
            entries.append({"identifier": {"id": identity.id}, "version": identity.version})
    path.write_text(json.dumps(entries))
    return CommandResult(0, "Extensions installed.\n", "")


@dataclass
class World:
    tmp: Path
    store: FakeArtifactStore
    env: FakeEnvironment
    runner: FakeCommandRunner = field(default_factory=lambda: FakeCommandRunner(_installing))
    on_path: Path | None = None
    config: VscodeConfig = field(default_factory=VscodeConfig)

    def which(self, name: str) -> str | None:
        return str(self.on_path) if self.on_path is not None and name == "code-server" else None

    def install(self, *, arch: str | None = None, data_dir: Path | None = None) -> Installation:
        return ensure_installed(
            self.config,
            cache=self.store,
            env=self.env,
            runner=self.runner,
            which=self.which,
            arch=arch,
            data_dir=data_dir,
        )

    def installs(self) -> list[list[str]]:
        return [argv for argv in self.runner.calls if "--install-extension" in argv]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def make_world(tmp_path: Path) -> World:
    """Two extensions to download and a code-server archive per arch, all on fakes."""
    store = FakeArtifactStore(tmp_path / "store")
    for arch in Arch:
        store.content[CS_URL.format(arch=arch.value)] = build_release_archive(
            "9.9.9", "#!/bin/sh\nexit 0\n", arch=arch.value
        )
    store.content[EXT_A] = build_vsix("pub", "alpha", "1.0.0")
    store.content[EXT_B] = build_vsix("pub", "beta", "2.0.0")
    config = VscodeConfig(
        code_server_remote_paths={a.value: CS_URL.format(arch=a.value) for a in Arch},
        code_server_dir_names={a.value: f"code-server-9.9.9-linux-{a.value}" for a in Arch},
        extension_remote_paths=[EXT_A, EXT_B],
        own_extension=False,  # tests/test_install_own_extension.py covers it
    )
    (tmp_path / "home").mkdir()
    env = FakeEnvironment({"HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path / "tmp")})
    return World(tmp_path, store, env, config=config)


def _executable(path: Path, package_version: str | None = None) -> Path:
    """An executable file at path/bin/code-server, with a release package.json if asked."""
    exe = path / "bin" / "code-server"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    if package_version:
        (path / "package.json").write_text(
            json.dumps({"name": "code-server", "version": package_version})
        )
    return exe


def test_cold_install_downloads_everything_and_installs_in_one_call(world: World) -> None:
    """Nothing present: archive and both extensions are downloaded, the version comes from
    the archive's package.json, and one code-server call installs both extensions."""
    installation = world.install()
    cs_url = CS_URL.format(arch=HOST.value)
    assert installation.source == "download"
    assert installation.executable.name == "code-server" and os.access(
        installation.executable, os.X_OK
    )
    assert installation.version == "9.9.9"
    assert sorted(world.store.downloads) == sorted([cs_url, EXT_A, EXT_B])
    assert world.runner.calls == world.installs()  # no --version run: package.json sufficed
    assert len(world.installs()) == 1
    assert read_installed(installation.extensions_dir) == {
        "pub.alpha": "1.0.0",
        "pub.beta": "2.0.0",
    }
    assert installation.installed_extensions == ("pub.alpha", "pub.beta")
    assert installation.pins == {
        url: sha256_hex(world.store.content[url]) for url in (cs_url, EXT_A, EXT_B)
    }


def test_warm_install_downloads_nothing_and_starts_nothing(world: World) -> None:
    """Everything present: the second call is a cache hit and code-server is not run."""
    first = world.install()
    calls, downloads = list(world.runner.calls), list(world.store.downloads)
    second = world.install()
    assert second.source == "cache"
    assert (second.executable, second.extensions_dir) == (first.executable, first.extensions_dir)
    assert world.runner.calls == calls
    assert world.store.downloads == downloads


def test_vsix_identity_is_remembered_by_sha256(world: World) -> None:
    """After the first call a .vsix's identity comes from the memo keyed by its sha256, so
    warm calls do not open the zip again (here: a zip made unreadable is not noticed)."""
    installation = world.install()
    memo = json.loads((installation.extensions_dir.parent / "vsix-identities.json").read_text())
    assert memo[sha256_hex(world.store.content[EXT_A])] == ["pub.alpha", "1.0.0"]
    world.store.fetch(EXT_A).write_bytes(b"not a zip any more")
    assert world.install().installed_extensions == ("pub.alpha", "pub.beta")
    assert len(world.installs()) == 1


def test_extension_added_later_is_the_only_one_installed(world: World) -> None:
    """Adding one extension to the config installs just that one on the next call."""
    world.install()
    ext_c = "https://vsx.test/pub.gamma-3.0.0.vsix"
    world.store.content[ext_c] = build_vsix("pub", "gamma", "3.0.0")
    world.config.add_extensions(ext_c)
    world.install()
    last = world.installs()[-1]
    assert [Path(last[i + 1]).name for i, a in enumerate(last) if a == "--install-extension"] == [
        "pub.gamma-3.0.0.vsix"
    ]


def test_outdated_extension_is_reinstalled(world: World) -> None:
    """An extension installed at another version than the .vsix is installed again."""
    installation = world.install()
    (installation.extensions_dir / "extensions.json").write_text(
        json.dumps(
            [
                {"identifier": {"id": "pub.alpha"}, "version": "0.9.0"},
                {"identifier": {"id": "PUB.BETA"}, "version": "2.0.0"},
            ]
        )
    )
    world.install()
    last = world.installs()[-1]
    assert [Path(last[i + 1]).name for i, a in enumerate(last) if a == "--install-extension"] == [
        "pub.alpha-1.0.0.vsix"
    ]


def test_env_executable_comes_first(world: World, tmp_path: Path) -> None:
    """VSCODE_INTERACTIVE_CODE_SERVER beats the config's executable, PATH and the archive."""
    env_exe = _executable(tmp_path / "env-cs", "1.2.3")
    world.config.code_server_path = str(_executable(tmp_path / "config-cs", "4.5.6"))
    world.on_path = _executable(tmp_path / "path-cs", "7.8.9")
    world.env.values[ENV_CODE_SERVER] = str(env_exe)
    installation = world.install()
    assert (installation.source, installation.executable, installation.version) == (
        "env",
        env_exe,
        "1.2.3",
    )
    assert sorted(world.store.requests) == [EXT_A, EXT_B]  # no archive fetched
    assert world.installs()[0][0] == str(env_exe)


def test_config_executable_beats_path(world: World, tmp_path: Path) -> None:
    """Without the variable, VscodeConfig.code_server_path beats code-server on PATH."""
    config_exe = _executable(tmp_path / "config-cs", "4.5.6")
    world.config.code_server_path = str(config_exe)
    world.on_path = _executable(tmp_path / "path-cs", "7.8.9")
    assert (world.install().source, world.install().executable) == ("config", config_exe)


def test_path_beats_the_cache(world: World, tmp_path: Path) -> None:
    """code-server on PATH is used before the cached archive; its version comes from the
    release's package.json next to bin/."""
    world.store.seed(CS_URL.format(arch=HOST.value))
    world.on_path = _executable(tmp_path / "path-cs", "7.8.9")
    installation = world.install()
    assert (installation.source, installation.version) == ("path", "7.8.9")
    assert CS_URL.format(arch=HOST.value) not in world.store.requests


def test_path_executable_without_package_json_runs_version_once(
    world: World, tmp_path: Path
) -> None:
    """Without a package.json beside it, the version is asked from `code-server --version`."""
    world.on_path = _executable(tmp_path / "path-cs")
    world.config.extension_remote_paths = []
    installation = world.install()
    assert installation.version == "7.7.7"
    assert world.runner.calls == [[str(world.on_path), "--version"]]


def test_cache_beats_download(world: World) -> None:
    """An archive already in the cache is used without a download and reported as such."""
    cs_url = CS_URL.format(arch=HOST.value)
    world.store.seed(cs_url)
    installation = world.install()
    assert installation.source == "cache"
    assert cs_url not in world.store.downloads


def test_missing_explicit_executable_names_the_variable(world: World, tmp_path: Path) -> None:
    """A variable pointing at nothing is a ConfigError naming it; nothing is fetched."""
    world.env.values[ENV_CODE_SERVER] = str(tmp_path / "nope" / "code-server")
    with pytest.raises(ConfigError, match=f"{ENV_CODE_SERVER}=.*nope"):
        world.install()
    assert world.store.requests == []


def test_pin_mismatch_installs_nothing(world: World) -> None:
    """A wrong archive pin raises HashMismatchError and no extension gets installed."""
    world.config.code_server_sha256 = {HOST.value: "0" * 64}
    with pytest.raises(HashMismatchError):
        world.install()
    assert world.runner.calls == []
    assert not (
        world.tmp / "home" / ".local/share/vscode-interactive/extensions/extensions.json"
    ).exists()


def test_archive_and_extensions_are_fetched_concurrently(world: World) -> None:
    """All three fetches are in flight at once: a barrier for three would time out if
    they ran one after another."""
    barrier = threading.Barrier(3, timeout=10)

    def wait_for_the_others(url: str) -> None:
        barrier.wait()

    world.store.on_request = wait_for_the_others
    installation = world.install()
    assert installation.source == "download"
    assert len(world.store.requests) == 3


def test_failed_extension_install_reports_code_server_output(world: World) -> None:
    """A non-zero exit of the install call raises InstallError carrying code-server's output."""
    world.runner = FakeCommandRunner(
        lambda argv: CommandResult(1, "Installing extensions...", "Failed: pub.beta is broken")
    )
    with pytest.raises(InstallError) as info:
        world.install()
    assert "Failed: pub.beta is broken" in str(info.value)
    assert "pub.beta is broken" in info.value.output


def test_install_that_did_not_install_is_an_error(world: World) -> None:
    """Exit code 0 without the extension recorded is still reported as a failed install."""
    world.runner = FakeCommandRunner(lambda argv: CommandResult(0, "nothing happened", ""))
    with pytest.raises(InstallError, match=r"(?s)pub\.alpha@1\.0\.0.*nothing happened"):
        world.install()


def test_vsix_without_suffix_is_passed_with_one(world: World) -> None:
    """A cached file not named *.vsix is handed to code-server through a .vsix link
    (code-server would read any other argument as a marketplace id)."""
    odd = "https://vsx.test/download?item=pub.delta"
    world.store.content[odd] = build_vsix("pub", "delta", "0.1.0")
    world.config.extension_remote_paths = [odd]
    world.install()
    passed = Path(world.installs()[0][-1])
    assert passed.name == "pub.delta-0.1.0.vsix"
    assert passed.resolve().read_bytes() == world.store.content[odd]


def test_other_arch_fetches_without_running(world: World, tmp_path: Path) -> None:
    """For another arch (image baking) PATH is ignored, the archive and extensions are
    fetched, nothing is run and the extensions are reported as pending."""
    world.on_path = _executable(tmp_path / "path-cs", "7.8.9")
    installation = world.install(arch=OTHER.value)
    assert installation.source == "download" and installation.arch is OTHER
    assert f"linux-{OTHER.value}" in str(installation.executable)
    assert world.runner.calls == []
    assert installation.pending_extensions == ("pub.alpha@1.0.0", "pub.beta@2.0.0")
    assert installation.installed_extensions == ()


def test_unusable_home_falls_back_and_tells_code_server(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """HOME below a regular file cannot be created: a writable fallback is used, a warning
    says so, and code-server gets HOME/XDG_* pointing into it."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    world.env.values["HOME"] = str(blocker / "home")
    with caplog.at_level(logging.WARNING, logger="vscode_interactive"):
        installation = world.install()
    fallback = tmp_path / "tmp" / f"vscode-interactive-{os.getuid()}"
    assert installation.env["HOME"] == str(fallback / "home")
    assert installation.env["XDG_CONFIG_HOME"].startswith(str(fallback))
    assert installation.extensions_dir.is_relative_to(fallback)
    assert installation.heartbeat_path.is_relative_to(fallback)
    assert str(blocker / "home") in caplog.text and str(fallback) in caplog.text
    child_env = world.runner.envs[-1]
    assert child_env is not None and child_env["HOME"] == installation.env["HOME"]


def test_usable_home_changes_nothing_for_children(world: World) -> None:
    """With a writable HOME no override is returned and dirs live under XDG data."""
    installation = world.install()
    assert installation.env == {}
    assert (
        installation.extensions_dir == world.tmp / "home/.local/share/vscode-interactive/extensions"
    )
    assert installation.heartbeat_path == world.tmp / "home/.local/share/code-server/heartbeat"


def test_data_dir_argument_places_dirs(world: World, tmp_path: Path) -> None:
    """data_dir chooses where the user-data and extensions directories go."""
    installation = world.install(data_dir=tmp_path / "d")
    assert (installation.user_data_dir, installation.extensions_dir) == (
        tmp_path / "d" / "user-data",
        tmp_path / "d" / "extensions",
    )


def test_default_cache_follows_the_home_fallback(tmp_path: Path) -> None:
    """Without VSCODE_INTERACTIVE_CACHE and with HOME unusable, the default cache lives in
    the fallback directory (even when data_dir is elsewhere); the variable still wins."""
    from vscode_interactive._install._ensure import default_store
    from vscode_interactive._install._locations import resolve_locations
    from vscode_interactive.cache import Cache

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = FakeEnvironment({"HOME": str(blocker / "home"), "TMPDIR": str(tmp_path / "tmp")})
    locations = resolve_locations(env, tmp_path / "data")
    store = default_store(env, locations)
    assert isinstance(store, Cache) and locations.fallback_dir is not None
    assert store.root == locations.fallback_dir / "cache"
    env.values["VSCODE_INTERACTIVE_CACHE"] = str(tmp_path / "chosen")
    store = default_store(env, locations)
    assert isinstance(store, Cache) and store.root == tmp_path / "chosen"
