"""Checked by mypy, never run: ``@vscode``, ``Session.run`` and ``Session.arun`` keep the
function's type, for plain and ``async def`` functions.

Each ``# type: ignore[...]`` below marks a call that must be rejected; mypy's
``warn_unused_ignores`` (part of ``--strict``) fails the build if it is accepted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from typing_extensions import assert_type

from vscode_interactive import (
    AsyncVscodeTask,
    Session,
    SessionConfig,
    VscodeConfig,
    VscodeOptions,
    VscodeTask,
    vscode,
)


@vscode
def plain(x: int, y: str = "a") -> float:
    return float(x)


@vscode(run_task_first=True, max_idle_seconds=60, port=0)
def configured(rows: list[int], *, scale: float) -> list[float]:
    return [r * scale for r in rows]


def signatures() -> None:
    as_callable: Callable[[int, str], float] = plain
    as_task: VscodeTask[[int, str], float] = plain
    assert_type(as_task(3, "d"), float)
    assert_type(as_callable(2, "c"), float)
    assert_type(plain.task_function(3), float)
    assert_type(plain(1), float)
    assert_type(plain(1, y="b"), float)
    assert_type(configured([1], scale=2.0), list[float])
    plain("not an int")  # type: ignore[arg-type]
    plain(1, z=2)  # type: ignore[call-arg]
    configured([1], 2.0)  # type: ignore[call-arg]
    assert_type(plain.get_extra_config(), dict[str, str])
    assert_type(plain.__name__, str)


def session_run() -> None:
    session = Session(SessionConfig(max_idle_seconds=10))
    assert_type(session.run(plain.task_function, 1, "b"), float)
    assert_type(Session().run(configured.task_function, [1], scale=1.0), list[float])
    session.run(plain.task_function, "x")  # type: ignore[arg-type]


def options() -> None:
    """The keyword options are checked by name and type (declared once, VscodeOptions)."""
    every = vscode(
        max_idle_seconds=60.0,
        port=0,
        enable=True,
        run_task_first=False,
        pre_execute=lambda: None,
        post_execute=print,
        config=VscodeConfig(),
        host="127.0.0.1",
        auth="none",
        allow_unauthenticated=False,
        workspace_dir=Path(),
        cache_dir="/tmp/cache",
        start_timeout=30,
        max_lifetime_seconds=None,
        session_config=SessionConfig(),
    )
    task: VscodeTask[[int, str], float] = every(plain.task_function)
    assert_type(task(1, "b"), float)
    spelled: VscodeOptions = {"port": 0, "auth": "password"}
    assert_type(vscode(**spelled)(plain.task_function)(1), float)
    vscode(prot=8080)  # type: ignore[call-overload]
    vscode(port="8080")  # type: ignore[call-overload]
    vscode(auth="basic")  # type: ignore[call-overload]
    vscode(pre_execute=42)  # type: ignore[call-overload]
    vscode(plain.task_function, port=0)  # type: ignore[call-overload]


@vscode
async def fetch(url: str, retries: int = 3) -> bytes:
    return url.encode()


@vscode(run_task_first=True, port=0)
async def fetch_all(urls: list[str], *, timeout: float) -> dict[str, bytes]:
    return {url: await fetch(url) for url in urls}


async def coroutine_signatures() -> None:
    """An async def stays a coroutine function with the same parameters."""
    as_async_task: AsyncVscodeTask[[str, int], bytes] = fetch
    pending: Coroutine[Any, Any, bytes] = fetch("u")
    assert_type(await pending, bytes)
    assert_type(await as_async_task("u", 1), bytes)
    assert_type(await fetch("u", retries=1), bytes)
    assert_type(await fetch_all(["u"], timeout=1.0), dict[str, bytes])
    as_callable: Callable[[str, int], Awaitable[bytes]] = fetch
    as_task: VscodeTask[[str, int], Coroutine[Any, Any, bytes]] = fetch
    assert_type(await as_callable("u", 1), bytes)
    assert_type(await as_task("u", 1), bytes)
    inner: Callable[[str, int], Coroutine[Any, Any, bytes]] = fetch.task_function
    assert_type(await inner("u", 1), bytes)
    assert_type(await fetch.execute("u"), bytes)
    await fetch(1)  # type: ignore[arg-type]
    await fetch("u", tries=2)  # type: ignore[call-arg]
    await fetch_all(["u"], 1.0)  # type: ignore[call-arg]
    assert_type(fetch.get_extra_config(), dict[str, str])


async def session_arun() -> None:
    """arun is run's async twin: awaited, it returns what the coroutine returns."""
    session = Session(SessionConfig(max_idle_seconds=10))
    assert_type(await session.arun(fetch.task_function, "u"), bytes)
    assert_type(await Session().arun(fetch.task_function, "u", retries=2), bytes)
    await session.arun(fetch.task_function, 1)  # type: ignore[arg-type]
    await session.arun(plain.task_function, 1)  # type: ignore[arg-type]
