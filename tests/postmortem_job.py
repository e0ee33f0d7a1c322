"""A job process for the post-mortem tests, driven line by line over stdin/stdout.

Its task raises; the job opens a post-mortem on the failure and prints ``port <n>``. Then
it obeys one command per stdin line, answering one stdout line each, from the thread that
opened the post-mortem (the one the supervisor would run in)::

    ping      -> pong                      (the job's own thread still runs)
    state     -> state <json>              (tracing, threads, signal handlers)
    close     -> closed                    (release the failure, end the listener)
    fail <n>  -> port <n>                  (round n: the task raises again, new post-mortem)
    exit      -> (exits 0)
"""

from __future__ import annotations

import json
import signal
import sys
import threading

from vscode_interactive._debug._postmortem import open_post_mortem


def train(batch: list[int], scale: int) -> float:
    total = sum(batch)
    weight = scale - 3
    return total / weight  # RAISING LINE


def retrain(round_number: int) -> None:
    attempt = round_number * 10
    raise ValueError(f"round {round_number} failed at {attempt}")  # ROUND LINE


def _state() -> dict[str, object]:
    return {
        "gettrace": repr(sys.gettrace()),
        "threads": sorted(thread.name for thread in threading.enumerate()),
        "sigint": repr(signal.getsignal(signal.SIGINT)),
        "sigterm": repr(signal.getsignal(signal.SIGTERM)),
        "debugpy_loaded": "debugpy" in sys.modules,
    }


def main() -> int:
    before = _state()
    print("before " + json.dumps(before), flush=True)
    try:
        train([1, 2, 3], 3)
    except ZeroDivisionError as error:
        failure: BaseException = error
    post_mortem = open_post_mortem(failure)
    print(f"port {post_mortem.port}", flush=True)
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "ping":
            print("pong", flush=True)
        elif command == "state":
            print("state " + json.dumps(_state()), flush=True)
        elif command == "close":
            post_mortem.close()
            print("closed", flush=True)
        elif command == "fail":
            try:
                retrain(int(argument))
            except ValueError as error:
                failure = error
            post_mortem = open_post_mortem(failure)
            print(f"port {post_mortem.port}", flush=True)
        elif command == "exit":
            post_mortem.close()
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
