from enum import Enum

class ExecutionState:
    class Mode(Enum):
        TASK_EXECUTION = 1
        LOCAL_WORKFLOW_EXECUTION = 2
        LOCAL_TASK_EXECUTION = 3
        DYNAMIC_TASK_EXECUTION = 4
        EAGER_EXECUTION = 5
        EAGER_LOCAL_EXECUTION = 6
        LOCAL_DYNAMIC_TASK_EXECUTION = 7

    mode: ExecutionState.Mode | None
    def is_local_execution(self) -> bool: ...

class FlyteContext:
    @property
    def execution_state(self) -> ExecutionState | None: ...

class FlyteContextManager:
    @staticmethod
    def current_context() -> FlyteContext: ...
