from types import TracebackType
from typing import Any

from .spec import AbstractBufferedFile, AbstractFileSystem

class OpenFile:
    fs: AbstractFileSystem
    path: str
    def __enter__(self) -> AbstractBufferedFile: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...
    def open(self) -> AbstractBufferedFile: ...

def url_to_fs(url: str, **kwargs: Any) -> tuple[AbstractFileSystem, str]: ...
