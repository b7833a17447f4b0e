"""A progress bar that is drawn only once there is work to show (the harness's commands and the trainer)."""
from __future__ import annotations

from rich.progress import Progress


class LazyProgress(Progress):
    """Drawn from its first task on: a command refused before any work printed an empty bar's
    blank line above its error."""

    drawn = False

    def __enter__(self):
        return self

    def add_task(self, *args, **kwargs):
        if not self.drawn:
            self.drawn = True
            self.start()
        return super().add_task(*args, **kwargs)

    def stop(self):
        if self.drawn:  # rich ends a bar in a log with a line break, drawn or not
            super().stop()
