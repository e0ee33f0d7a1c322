# Minimal stubs for the part of fsspec that vscode_interactive calls.
# fsspec ships no type information; keep these in step with the calls we make.
from typing import Any

from .core import OpenFile as OpenFile
from .core import url_to_fs as url_to_fs
from .spec import AbstractFileSystem as AbstractFileSystem

__version__: str

def open(
    urlpath: str,
    mode: str = "rb",
    compression: str | None = None,
    encoding: str = "utf8",
    errors: str | None = None,
    protocol: str | None = None,
    newline: bytes | None = None,
    **kwargs: Any,
) -> OpenFile: ...
def filesystem(protocol: str, **storage_options: Any) -> AbstractFileSystem: ...
def register_implementation(
    name: str, cls: type[AbstractFileSystem] | str, clobber: bool = False, errtxt: str | None = None
) -> None: ...
