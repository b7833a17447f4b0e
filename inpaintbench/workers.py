"""Worker processes for methods that fill one image at a time (`run --workers`, PerImageMethod).

concurrent.futures' process pool, with two things it does not do: start its workers from a fork
server, and end them when the run that started them is killed outright.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import signal
import threading
import time
import weakref
from concurrent.futures import ProcessPoolExecutor

import numpy as np

_method = None  # the method this worker fills images with


def usable_cores() -> int:
    """The cores this process may run on (a container's or `taskset`'s share, not the machine's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def workers_or_every_core(workers: int | None) -> int:
    """`--workers` as given, every usable core when not given (the commands' default)."""
    return usable_cores() if workers is None else workers


def start_pool(method, workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` processes, each holding a copy of `method`; shut down with it."""
    # forkserver, not fork: a fork of this process would copy torch's thread pools mid-state
    context = multiprocessing.get_context("forkserver" if "forkserver" in multiprocessing.get_all_start_methods()
                                          else "spawn")
    if context.get_start_method() == "forkserver":
        # the fork server imports the method's module, and torch with it, once, before any thread
        # pool exists; each worker is a fork of it sharing those pages, instead of importing torch
        # itself: ~30 MiB of private memory per worker instead of 300 and more (bench:
        # batch8_workers). inpaintbench.method (torch) as well, for a method module the fork server
        # fails to import (its preload skips those). Has no effect where this process's fork
        # server is already running (a second pool): its workers import what that one did not
        context.set_forkserver_preload(["__main__", "inpaintbench.method", type(method).__module__])
        _start_fork_server()
    # a run started as `cmd &` by a script ignores Ctrl-C (the shell's way of keeping background jobs
    # running): its workers do as well
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_adopt, initargs=(method, os.getpid(), ignored))
    weakref.finalize(method, pool.shutdown, wait=False, cancel_futures=True)
    return pool


def _start_fork_server() -> None:
    """Start this process's fork server, if not yet running, with Ctrl-C ignored: the server and the
    workers it forks keep that until `_adopt`. It imports torch first, for seconds, and a Ctrl-C
    then printed that import as a traceback below the run's line that it stopped."""
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread sets signal handlers
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited through exec, as Python keeps it
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


def kill_pool(pool: ProcessPoolExecutor | None) -> None:
    """End `pool` now, its workers' images unfinished (shutdown waits for every image handed out),
    and the fork server they come from: a worker the pool was still starting would be forked
    after this process has gone, and print the traceback of a queue it cannot reach."""
    if pool is not None:
        # concurrent.futures names its processes only in a private attribute (Python 3.14 adds
        # kill_workers); None once the pool has shut down
        for process in list((pool._processes or {}).values()):
            process.kill()
        thread = pool._executor_manager_thread  # shutdown forgets it
        pool.shutdown(wait=False, cancel_futures=True)
        # the pool's thread ends by itself once it sees its workers dead (milliseconds). Waited for:
        # Python's exit hook wakes it through a pipe, unlocked, that it closes as it ends, and when
        # the two met (a loaded machine, now and then) a Ctrl-C'd run printed "Exception ignored ...
        # Bad file descriptor" below its last line (CPython 3.11.7, 3.12.1, 3.13.0; 3.14 locks that pipe)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
    # multiprocessing keeps its fork server private too. Killed, it is also reaped and forgotten
    # (`_stop`, which its tests use), so that the next pool starts a new one: a pool started at once
    # found the dying one still there and failed with EOFError (an interrupted notebook cell, then another)
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    if getattr(server, "_forkserver_pid", None) is not None and hasattr(server, "_stop"):
        try:
            os.kill(server._forkserver_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        server._stop()


def private_mib(pid: int) -> float | None:
    """Memory that process `pid` alone holds (Linux: private pages of /proc/PID/smaps_rollup), in MiB."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return sum(int(line.split()[1]) for line in f if line.startswith(("Private_Clean:", "Private_Dirty:"))) / 1024
    except OSError:
        return None


def fill_in_worker(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    return _method.inpaint_one(image, hole)


def _adopt(method, caller: int, ctrl_c_ignored: bool = False) -> None:
    global _method
    _method = method
    # Ctrl-C reaches every process of the terminal's foreground group: each worker printed its own
    # KeyboardInterrupt traceback above the run's one line saying that nothing is lost. A worker
    # ends at once and says nothing; the run tells. (Ignored, it left a run stopped while its pool
    # was starting waiting forever on workers that never got the word to end)
    signal.signal(signal.SIGINT, signal.SIG_IGN if ctrl_c_ignored else _end_quietly)
    # a run killed outright (kill -9, the OOM killer) cannot stop its pool, whose workers waited
    # for work forever, holding their memory; their parent is the fork server, not the run, so
    # the run's end is watched here
    threading.Thread(target=_end_with, args=(caller,), daemon=True).start()


def _end_quietly(signum, frame) -> None:
    os._exit(128 + signum)


def _end_with(pid: int) -> None:
    while True:
        time.sleep(1)
        try:
            os.kill(pid, 0)
            # a killed run stays a zombie until its parent reaps it, which a parent reading the
            # run's output first (subprocess.run) does only once the workers, holding that output
            # too, are gone; Linux names the state, elsewhere the pid's end must do
            with open(f"/proc/{pid}/stat", "rb") as f:
                dead = f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
        except (ProcessLookupError, PermissionError):  # gone, or its pid reused by another user
            dead = True
        except OSError:
            dead = False
        if dead:
            os._exit(1)
