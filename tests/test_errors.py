"""The exception tree: one root, builtin bases, picklable with context."""

from __future__ import annotations

import pickle

import pytest

import vscode_interactive._errors as errors_module
from vscode_interactive import (
    CacheError,
    ConfigError,
    DownloadError,
    ExtractionError,
    HashMismatchError,
    IdleTimeoutError,
    InstallError,
    NotCachedError,
    ReloadError,
    ResumeError,
    ServerExitedError,
    ServerStartError,
    StateDirError,
    UnsupportedPlatformError,
    VscodeInteractiveError,
)

ALL_ERRORS: list[VscodeInteractiveError] = [
    ConfigError("bad"),
    UnsupportedPlatformError("arch", machine="ppc", supported=("amd64",)),
    CacheError("c", url="u"),
    DownloadError("d", url="http://x"),
    NotCachedError("n", url="http://y"),
    HashMismatchError("h", url="http://z", expected="aa", actual="bb"),
    ExtractionError("e", url="file:///a", member="../etc/passwd"),
    InstallError("i", output="npm said no"),
    ServerStartError("s", port=8080, exit_code=1, log_tail="boom"),
    ServerExitedError("x", port=1, exit_code=0, log_tail=""),
    IdleTimeoutError("idle", idle_seconds=12.5),
    StateDirError("not ours", path="/w/.vscode-interactive"),
    ResumeError("r"),
    ReloadError("syntax", source_path="/w/f.py", line=3),
]


@pytest.mark.parametrize("error", ALL_ERRORS, ids=lambda e: type(e).__name__)
def test_every_error_round_trips_through_pickle(error: VscodeInteractiveError) -> None:
    """Errors cross process boundaries with their message, class and attributes intact."""
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert str(clone) == str(error)
    assert vars(clone) == vars(error)


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (ConfigError("x"), ValueError),
        (UnsupportedPlatformError("x"), RuntimeError),
        (CacheError("x"), OSError),
        (NotCachedError("x"), FileNotFoundError),
        (HashMismatchError("x"), ValueError),
        (ExtractionError("x"), ValueError),
        (InstallError("x"), RuntimeError),
        (ServerStartError("x"), RuntimeError),
        (ServerExitedError("x"), RuntimeError),
        (IdleTimeoutError("x"), TimeoutError),
        (StateDirError("x"), PermissionError),
        (ResumeError("x"), RuntimeError),
        (ReloadError("x"), ImportError),
    ],
    ids=lambda v: type(v).__name__,
)
def test_errors_are_caught_by_the_builtin_callers_expect(
    error: VscodeInteractiveError, builtin: type[BaseException]
) -> None:
    """Existing ``except ValueError``-style handlers keep catching our errors."""
    assert isinstance(error, builtin)
    assert isinstance(error, VscodeInteractiveError)


def test_every_public_error_is_in_the_tree_and_docstring() -> None:
    """Each exported error class derives from the root and is drawn in the module docstring."""
    doc = errors_module.__doc__ or ""
    for name in errors_module.__all__:
        cls = getattr(errors_module, name)
        assert issubclass(cls, VscodeInteractiveError)
        assert name in doc


def test_os_error_subclass_keeps_plain_message() -> None:
    """OSError-based errors print our message, not an errno tuple."""
    error = DownloadError("GET http://h/x failed after 3 tries: refused", url="http://h/x")
    assert str(error) == "GET http://h/x failed after 3 tries: refused"
    assert error.args == ("GET http://h/x failed after 3 tries: refused",)


def test_cause_survives_raise_from() -> None:
    """Chaining keeps the original failure as __cause__."""

    def fail() -> None:
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError as zero:
            raise IdleTimeoutError("idle") from zero

    with pytest.raises(IdleTimeoutError) as info:
        fail()
    assert isinstance(info.value.__cause__, ZeroDivisionError)
