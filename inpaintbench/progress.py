"""A progress bar that is drawn only once there is work to show (the harness's commands and the trainer)."""
from __future__ import annotations

import datetime
import time

from rich.console import Console
from rich.progress import Progress


def message_console(stderr: bool = True) -> Console:
    """The console messages go to (the harness's commands and the trainer). soft_wrap: a message is one
    line wherever it goes, a terminal wraps it and a log keeps it whole (rich folded at 80 columns where
    the output is no terminal, cutting paths in two and refusals into several lines). markup off:
    messages carry users' paths and names, and rich read '[photos]' in one as a style and dropped it."""
    return Console(stderr=stderr, soft_wrap=True, markup=False)


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


class LogLines:
    """Where the output is not a terminal (a batch job's log, `cmd > log 2>&1 &`) rich draws a bar
    only when it ends: hours of a Places2 run or of training showed nothing. `line` writes the bar's
    state as a line instead, at most every `every_s` seconds."""

    every_s = 60.0

    def __init__(self, progress: Progress, unit: str):
        self.p, self.unit = progress, unit
        self.last = time.monotonic()

    def line(self, task_id, label: str, extra: str = "") -> None:
        if self.p.console.is_terminal or time.monotonic() - self.last < self.every_s:
            return
        self.last = time.monotonic()
        t = next(t for t in self.p.tasks if t.id == task_id)
        rate = ""
        if t.speed and t.time_remaining is not None:
            rate = f", {t.speed:.2f} {self.unit}/s, {datetime.timedelta(seconds=round(t.time_remaining))} left"
        # soft_wrap: one line of the log per report, whatever the console's width, for grep and tail
        self.p.console.print(f"{label}: {t.completed:.0f}/{t.total:.0f} {self.unit} ({t.percentage:.0f}%){rate}{extra}",
                             highlight=False, soft_wrap=True)
