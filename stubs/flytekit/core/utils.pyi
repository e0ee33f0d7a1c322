from abc import ABC, abstractmethod
from typing import Any, ClassVar

class ClassDecorator(ABC):
    LINK_TYPE_KEY: ClassVar[str]
    PORT_KEY: ClassVar[str]
    def __init__(self, task_function: Any = None, **kwargs: Any) -> None: ...
    @abstractmethod
    def execute(self, *args: Any, **kwargs: Any) -> Any: ...
    @abstractmethod
    def get_extra_config(self) -> dict[str, str]: ...
