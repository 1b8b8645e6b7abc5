"""An in-memory home for tasks, handed to the routes as a dependency."""

from typing import Annotated, Any

from fastapi import Depends

from app.models import TaskCreate, TaskPublic


# --8<-- [start:task-store]
class TaskStore:
    """Keeps tasks in a dict for as long as the process runs."""

    def __init__(self) -> None:
        self._tasks: dict[int, TaskPublic] = {}
        self._last_id = 0

    def add(self, task_in: TaskCreate) -> TaskPublic:
        self._last_id += 1
        task = TaskPublic(id=self._last_id, **task_in.model_dump())
        self._tasks[task.id] = task
        return task

    def list(self, completed: bool | None, offset: int, limit: int) -> list[TaskPublic]:
        tasks = [t for t in self._tasks.values() if completed is None or t.completed == completed]
        return tasks[offset : offset + limit]

    def get(self, task_id: int) -> TaskPublic | None:
        return self._tasks.get(task_id)

    def update(self, task_id: int, changes: dict[str, Any]) -> TaskPublic | None:
        task = self._tasks.get(task_id)
        if task is None:
            return None
        updated = task.model_copy(update=changes)
        self._tasks[task_id] = updated
        return updated

    def delete(self, task_id: int) -> bool:
        return self._tasks.pop(task_id, None) is not None
# --8<-- [end:task-store]


# --8<-- [start:store-dependency]
store = TaskStore()


def get_store() -> TaskStore:
    """The one store of this process. Tests override this to start empty."""
    return store


StoreDep = Annotated[TaskStore, Depends(get_store)]
# --8<-- [end:store-dependency]
