"""``.vscode/launch.json`` and ``.vscode/settings.json``: what we add, and how we merge.

Pure: configuration in, ``dict``/``str`` out. The user's files are shared with us, so a
merge keeps every configuration and setting the user wrote; ours are added, or replace a
user entry of the same name. Two exceptions make the session pleasant without overruling
anyone: the start-up-noise settings (:data:`NOISE_SETTINGS`) are only added where the
user has not chosen a value, and a file we cannot parse is never rewritten (the caller
writes ours beside it and warns).

Output is ``json.dumps(indent=4)`` in a stable order: the user's keys and configurations
first, in their order, ours after them in the order rendered here.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ._jsonc import parse_jsonc

__all__ = [
    "DEBUG_CONFIGURATION_NAME",
    "LAUNCH_VERSION",
    "NOISE_SETTINGS",
    "POST_MORTEM_CONFIGURATION_NAME",
    "RESUME_CONFIGURATION_NAME",
    "MergeResult",
    "dump_json",
    "merge_launch",
    "merge_settings",
    "render_launch_configurations",
    "render_settings",
    "workspace_relative",
]

DEBUG_CONFIGURATION_NAME = "Interactive Debugging"
POST_MORTEM_CONFIGURATION_NAME = "Post-mortem: inspect the failure"
RESUME_CONFIGURATION_NAME = "Resume Task"
LAUNCH_VERSION = "0.2.0"

# Settings that keep the first screen on the failure rather than on VS Code's own
# onboarding. All are window- or resource-scoped, so VS Code honours them in workspace
# settings (machine-scoped ones such as walkthroughs.openOnInstall would be ignored
# there). The user's own value always wins over these.
NOISE_SETTINGS: Mapping[str, object] = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "chat.disableAIFeatures": True,
}

JsonObject = dict[str, object]


def workspace_relative(path: Path, workspace: Path) -> str:
    """``${workspaceFolder}/...`` for a path inside ``workspace``, else the absolute path."""
    try:
        relative = path.relative_to(workspace)
    except ValueError:
        return str(path)
    return "${workspaceFolder}/" + relative.as_posix()


def render_launch_configurations(
    *,
    entry_script: Path,
    resume_script: Path,
    workspace: Path,
    python: str,
    debug_type: str = "debugpy",
    post_mortem: tuple[str, int] | None = None,
) -> list[JsonObject]:
    """Our launch configurations: inspect the failure where it happened (when the job holds
    one: ``post_mortem`` is its debugger's ``(host, port)``), debug the function again, and
    resume the job.

    ``debug_type`` is ``"debugpy"`` (served by the Python Debugger extension, or by the
    library's own extension when that is absent); ``"python"`` is the older, deprecated
    name for the same debugger.
    """

    def configuration(name: str, program: Path) -> JsonObject:
        return {
            "name": name,
            "type": debug_type,
            "request": "launch",
            "program": workspace_relative(program, workspace),
            "python": python,
            "cwd": "${workspaceFolder}",
            "console": "integratedTerminal",
            "justMyCode": True,
        }

    ours = [
        configuration(DEBUG_CONFIGURATION_NAME, entry_script),
        configuration(RESUME_CONFIGURATION_NAME, resume_script),
    ]
    if post_mortem is None:
        return ours
    host, port = post_mortem
    attach: JsonObject = {
        "name": POST_MORTEM_CONFIGURATION_NAME,
        "type": debug_type,
        "request": "attach",
        "connect": {"host": host, "port": port},
        # The failure may be raised inside a library: show every frame of it.
        "justMyCode": False,
    }
    return [attach, *ours]


FRONT_PAGE_GLOB = "**/.vscode-interactive/*.md"
MARKDOWN_PREVIEW = "vscode.markdown.preview.editor"


def render_settings(python: str) -> JsonObject:
    """Our workspace settings: the job's interpreter, the front page opened as rendered
    Markdown (VS Code's built-in preview editor), then the start-up-noise settings."""
    return {
        "python.defaultInterpreterPath": python,
        "workbench.editorAssociations": {FRONT_PAGE_GLOB: MARKDOWN_PREVIEW},
        **NOISE_SETTINGS,
    }


@dataclass(frozen=True, slots=True)
class MergeResult:
    """Outcome of merging our entries into a user's file.

    ``text`` is the new file content, or ``None`` when the existing text could not be
    parsed (``error`` then says why and where, and ``side_text`` holds our entries
    alone). ``changed`` is False when the file already holds exactly ``text``.
    ``kept_user`` names the entries where the user's value won.
    """

    text: str | None
    changed: bool
    error: str | None = None
    kept_user: tuple[str, ...] = ()
    side_text: str | None = None  # when text is None: our entries alone, for a side file


def dump_json(value: object) -> str:
    return json.dumps(value, indent=4, ensure_ascii=False) + "\n"


def _parse_object(existing_text: str | None, what: str) -> tuple[JsonObject | None, str | None]:
    """The existing file as a dict (``{}`` if absent or empty), or an error message."""
    if existing_text is None:
        return {}, None
    try:
        value = parse_jsonc(existing_text)
    except json.JSONDecodeError as error:
        return None, f"{error.msg} at line {error.lineno} column {error.colno}"
    if value is None:
        return {}, None
    if not isinstance(value, dict):
        return None, f"{what} must be a JSON object, found {type(value).__name__}"
    return value, None


def _result(existing_text: str | None, merged: object, kept: Sequence[str] = ()) -> MergeResult:
    text = dump_json(merged)
    return MergeResult(text=text, changed=text != existing_text, kept_user=tuple(kept))


def merge_launch(
    existing_text: str | None,
    ours: Sequence[Mapping[str, object]],
    *,
    lead: Collection[str] = (POST_MORTEM_CONFIGURATION_NAME,),
    retire: Collection[str] = (POST_MORTEM_CONFIGURATION_NAME,),
) -> MergeResult:
    """Add our launch configurations to ``existing_text``, replacing same-named ones in place.

    Every other configuration and top-level key (``compounds``, ...) is kept as it was.
    Ours named in ``lead`` go first (F5's default is the first configuration); a
    configuration named in ``retire`` that is not among ``ours`` is removed (a post-mortem
    of an earlier failure, whose port is gone).
    """
    data, error = _parse_object(existing_text, "launch.json")
    configurations = data.get("configurations", []) if data is not None else None
    if data is not None and not isinstance(configurations, list):
        error = f'"configurations" must be a list, found {type(configurations).__name__}'
    if data is None or not isinstance(configurations, list):
        alone = {"version": LAUNCH_VERSION, "configurations": [dict(item) for item in ours]}
        return MergeResult(text=None, changed=False, error=error, side_text=dump_json(alone))
    by_name = {str(item["name"]): dict(item) for item in ours}
    leading = [by_name.pop(name) for name in list(by_name) if name in lead]
    merged: list[object] = list(leading)
    for item in configurations:
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and name in by_name:
            merged.append(by_name.pop(name))
        elif not (isinstance(name, str) and (name in retire or name in lead)):
            merged.append(item)
    merged.extend(by_name.values())
    result: JsonObject = {"version": LAUNCH_VERSION} if "version" not in data else {}
    result.update(data)
    result["configurations"] = merged
    return _result(existing_text, result)


def merge_settings(
    existing_text: str | None,
    ours: Mapping[str, object],
    *,
    user_wins: Collection[str] = tuple(NOISE_SETTINGS),
) -> MergeResult:
    """Add our settings to ``existing_text``.

    Keys in ``user_wins`` are only added where the user has no value (``kept_user`` lists
    those the user had); every other key of ours replaces the user's value (an object
    is merged into the user's object of the same key, ours winning per entry).
    """
    data, error = _parse_object(existing_text, "settings.json")
    if data is None:
        return MergeResult(text=None, changed=False, error=error, side_text=dump_json(ours))
    kept: list[str] = []
    for key, value in ours.items():
        if key in user_wins and key in data:
            if data[key] != value:
                kept.append(key)
            continue
        theirs = data.get(key)
        if isinstance(value, dict) and isinstance(theirs, dict):
            value = {**theirs, **value}  # e.g. editorAssociations: keep the user's entries
        data[key] = value
    return _result(existing_text, data, kept)
