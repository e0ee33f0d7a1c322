"""Pure pieces of launching code-server: options checks, argv, env, URL, banner."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vscode_interactive import ConfigError
from vscode_interactive._layout import StateLayout
from vscode_interactive._supervision._server import (
    EXIT_CODE_SUCCESS,
    MAX_IDLE_SECONDS,
    ServerOptions,
    base_url,
    build_argv,
    build_env,
    guardian_argv,
    is_loopback,
    looks_like_port_taken,
    render_banner,
    validate_options,
)

LAYOUT = StateLayout.for_workspace("/work/project")
OPTIONS = ServerOptions(
    executable=Path("/opt/cs/bin/code-server"),
    layout=LAYOUT,
    user_data_dir=Path("/data/user"),
    extensions_dir=Path("/data/ext"),
)


def test_reference_constants() -> None:
    """MAX_IDLE_SECONDS is 10 hours and EXIT_CODE_SUCCESS is 0, as in the reference."""
    assert (MAX_IDLE_SECONDS, EXIT_CODE_SUCCESS) == (36000, 0)
    assert OPTIONS.max_idle_seconds == MAX_IDLE_SECONDS


def test_secure_defaults() -> None:
    """By default: loopback, password auth, a check interval of at most 10 s."""
    assert (OPTIONS.host, OPTIONS.auth, OPTIONS.port) == ("127.0.0.1", "password", 0)
    assert OPTIONS.check_interval <= 10
    assert validate_options(OPTIONS) == []


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
        ("::", False),
        ("my-pod.internal", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    """Only names and addresses that stay on this machine count as loopback."""
    assert is_loopback(host) is expected


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"port": 70000}, "port must be 0"),
        ({"max_idle_seconds": 0}, "max_idle_seconds must be positive"),
        ({"check_interval": -1}, "check_interval must be positive"),
        ({"grace_seconds": -1}, "grace_seconds must be >= 0"),
        ({"max_lifetime_seconds": 0}, "max_lifetime_seconds must be positive"),
        ({"auth": "token"}, "auth must be 'password' or 'none'"),
        ({"host": ""}, "host must not be empty"),
    ],
)
def test_bad_options_raise_config_error(changes: dict[str, object], message: str) -> None:
    """Each unusable value is named in a ConfigError (also a ValueError)."""
    with pytest.raises(ConfigError, match=message) as info:
        validate_options(replace(OPTIONS, **changes))  # type: ignore[arg-type]  # deliberately wrong types
    assert isinstance(info.value, ValueError)


def test_no_auth_off_loopback_needs_explicit_opt_in() -> None:
    """auth='none' on a public address is refused unless allowed, then it warns."""
    public = replace(OPTIONS, host="0.0.0.0", auth="none")
    with pytest.raises(ConfigError, match="allow_unauthenticated=True"):
        validate_options(public)
    warnings = validate_options(replace(public, allow_unauthenticated=True))
    assert len(warnings) == 1 and "WITHOUT authentication on 0.0.0.0" in warnings[0]
    assert validate_options(replace(OPTIONS, auth="none")) == []  # loopback: fine
    assert validate_options(replace(OPTIONS, host="0.0.0.0")) == []  # password: fine


def test_argv_folder_last_and_ipv6_bind_addr() -> None:
    """The workspace folder is the last argument; IPv6 hosts are bracketed in --bind-addr."""
    argv = build_argv(replace(OPTIONS, host="::1", folder=Path("/elsewhere")), 9000)
    assert argv[0] == "/opt/cs/bin/code-server"
    assert argv[argv.index("--bind-addr") + 1] == "[::1]:9000"
    assert argv[-1] == "/elsewhere"
    assert build_argv(OPTIONS, 1)[-1] == "/work/project"


def test_argv_names_the_config_file_only_for_password_auth() -> None:
    """Password auth reads the password from the state dir's config file (--config);
    without auth there is no config file to read."""
    argv = build_argv(OPTIONS, 1)
    assert argv[argv.index("--config") + 1] == str(LAYOUT.server_config)
    assert "--config" not in build_argv(replace(OPTIONS, auth="none"), 1)


def test_argv_opens_the_workspace_file_when_there_is_one() -> None:
    """A .code-workspace file replaces the folder as the last argument; code-server still
    runs in the folder."""
    file = Path("/work/project/.vscode-interactive/project.code-workspace")
    options = replace(OPTIONS, workspace_file=file)
    assert build_argv(options, 1)[-1] == str(file)
    assert options.workspace_folder == Path("/work/project")


def test_env_drops_hijacking_variables_and_any_password_and_sets_xdg() -> None:
    """No PASSWORD/HASHED_PASSWORD at all (the password goes through --config), not even
    from extra_env; PORT/VSCODE_IPC_HOOK_CLI are dropped."""
    base = {
        "PATH": "/bin",
        "PASSWORD": "old",
        "HASHED_PASSWORD": "h",
        "PORT": "1",
        "VSCODE_IPC_HOOK_CLI": "/tmp/sock",
        "CODE_SERVER_PARENT_PID": "9",
    }
    options = replace(OPTIONS, extra_env={"EXTRA": "1", "PASSWORD": "nope"})
    env = build_env(base, options)
    assert env == {
        "PATH": "/bin",
        "EXTRA": "1",
        "XDG_DATA_HOME": "/work/project/.vscode-interactive/xdg-data",
    }


def test_heartbeat_file_follows_data_home() -> None:
    """The heartbeat file is $XDG_DATA_HOME/code-server/heartbeat of the child."""
    assert OPTIONS.heartbeat_file == LAYOUT.root / "xdg-data" / "code-server" / "heartbeat"
    moved = replace(OPTIONS, data_home=Path("/x"))
    assert moved.heartbeat_file == Path("/x/code-server/heartbeat")


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:80"),
        ("0.0.0.0", "http://127.0.0.1:80"),
        ("::", "http://[::1]:80"),
        ("::1", "http://[::1]:80"),
    ],
)
def test_base_url(host: str, url: str) -> None:
    """A wildcard bind address is shown as the matching loopback URL."""
    assert base_url(host, 80) == url


def test_port_taken_detection() -> None:
    """Node's EADDRINUSE and the plain wording are recognised; other errors are not."""
    assert looks_like_port_taken("Error: listen EADDRINUSE: address already in use :::8080")
    assert looks_like_port_taken("OSError: [Errno 98] Address already in use")
    assert not looks_like_port_taken("Error: EACCES: permission denied")


def test_banner_with_failure_summary_and_no_kubernetes() -> None:
    """The banner shows the failure next to the URL and omits kubectl outside a pod."""
    text = render_banner(
        url="http://127.0.0.1:8080",
        port=8080,
        password_file=Path("/s/password"),
        state_dir=Path("/s"),
        in_kubernetes=False,
        failure_summary="ZeroDivisionError: division by zero in train() line 12",
        max_idle_seconds=36000,
    )
    lines = text.splitlines()
    why = next(i for i, line in enumerate(lines) if "Why you are here: ZeroDivisionError" in line)
    url = next(i for i, line in enumerate(lines) if "Open:      http://127.0.0.1:8080" in line)
    assert why < url
    assert "kubectl" not in text
    assert "/s/password" in text and "--state-dir /s" in text
    assert "after 10 h without activity" in text


def test_banner_in_kubernetes_without_hostname_uses_placeholder() -> None:
    """Without a known pod name the hint keeps $HOSTNAME for the user to fill in."""
    text = render_banner(
        url="http://127.0.0.1:5",
        port=5,
        password_file=None,
        state_dir=Path("/s"),
        in_kubernetes=True,
    )
    assert "kubectl port-forward pod/$HOSTNAME 5:5" in text
    assert "Password:  none" in text and "kubectl exec" not in text


def test_guardian_argv() -> None:
    """The guardian gets isolated mode, the grace period, our pid, then the command."""
    argv = guardian_argv(
        "/py", Path("/g.py"), grace=2.5, parent_pid=42, argv=["code-server", "--x"]
    )
    expected = [
        "/py",
        "-I",
        "-S",
        "/g.py",
        "--grace",
        "2.5",
        "--parent",
        "42",
        "--",
        "code-server",
        "--x",
    ]
    assert argv == expected


def test_argv_names_the_window_registry_before_the_folder() -> None:
    """A session socket becomes --session-socket, still before the folder; none, no flag."""
    argv = build_argv(OPTIONS, 1, session_socket=Path("/s/ipc.sock"))
    assert argv[argv.index("--session-socket") + 1] == "/s/ipc.sock"
    assert argv[-1] == "/work/project"
    assert "--session-socket" not in build_argv(OPTIONS, 1)


def test_banner_says_what_the_url_lands_on() -> None:
    """With a landing target, the line after the URL names the file and line it opens."""
    text = render_banner(
        url="http://127.0.0.1:8080/?folder=%2Fw&payload=x",
        port=8080,
        password_file=None,
        state_dir=Path("/s"),
        in_kubernetes=False,
        lands_on="/w/train.py:12",
    )
    lines = text.splitlines()
    url = lines.index("  Open:      http://127.0.0.1:8080/?folder=%2Fw&payload=x")
    assert lines[url + 1] == "  Lands on:  /w/train.py:12"
    assert "Lands on" not in render_banner(
        url="u", port=1, password_file=None, state_dir=Path("/s"), in_kubernetes=False
    )


def test_banner_says_where_edits_are_saved() -> None:
    """The edits note gets its own line; without one the banner says nothing about edits."""
    note = "a patch goes to /w/.vscode-interactive/changes.patch and s3://b/x/ at the end"
    text = render_banner(
        url="u",
        port=1,
        password_file=None,
        state_dir=Path("/s"),
        in_kubernetes=False,
        edits_note=note,
    )
    assert f"  Your edits: {note}" in text.splitlines()
    plain = render_banner(
        url="u", port=1, password_file=None, state_dir=Path("/s"), in_kubernetes=False
    )
    assert "Your edits" not in plain


def test_banner_first_step_is_the_post_mortem_when_the_job_holds_the_failure() -> None:
    """With a post-mortem, one line says F5 inspects the failure where it happened."""
    common: dict[str, Any] = {
        "url": "http://127.0.0.1:8080",
        "port": 8080,
        "password_file": None,
        "state_dir": Path("/s"),
        "in_kubernetes": False,
    }
    with_pm = render_banner(**common, post_mortem=True)
    first = [line for line in with_pm.splitlines() if "First:" in line]
    assert first == ["  First:     press F5: inspect the failure where it happened (live locals)"]
    assert "First:" not in render_banner(**common)
