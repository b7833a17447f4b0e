"""One writer per folder, files replaced whole, and appended files cut back to whole lines.

A run folder's records and feature rows, and a training folder's checkpoints and logs, are
appended by one process at a time: two `inpaintbench run`s into one folder (a job launched twice)
numbered the same feature rows twice, or stopped one of them with a traceback half way. The lock
is the kernel's (flock on FOLDER/.lock), so a killed process never leaves a stale one behind and
resuming needs nothing removed.
"""
from __future__ import annotations

import contextlib
import errno
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import InputError

LOCK = ".lock"
#: what flock says on a filesystem that has no locks, as against one that another process holds
UNSUPPORTED = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


@contextlib.contextmanager
def exclusive(folder: Path, what: str):
    """Hold FOLDER for this process while the block runs; InputError at once if another holds it."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before
        yield
        return
    with open(Path(folder) / LOCK, "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"{folder}: another {what} is writing there now; let it finish (a second one would mix "
                             f"its output in) or give another --out") from None
        except OSError as e:
            if e.errno not in UNSUPPORTED:
                raise
            # a cluster filesystem mounted without locks (Lustre without -o flock, some NFS and FUSE
            # mounts) refused every run and training outright; it runs, unguarded, and says so
            logging.getLogger("inpaintbench").warning(
                "%s: this filesystem has no file locks (%s); nothing stops a second %s writing there at once",
                folder, e.strerror, what)
            yield
            return
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def write_atomic(path: Path, content: str | bytes | Callable[[BinaryIO], object]) -> None:
    """Replace `path` whole through a temporary file beside it: a kill or a full disk part way
    leaves the file as it was (a baseline, a run's manifest or records, a checkpoint) and no partial
    copy. `content`: text, bytes, or a function that writes into the open binary file (torch.save)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:  # a Python file, so that a failed write's OSError is there to be read
            if callable(content):
                content(f)
            else:
                f.write(content.encode() if isinstance(content, str) else content)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as e:
        tmp.unlink(missing_ok=True)  # a partial file held the space the next try needs
        # torch.save reports a failed write as RuntimeError("... unexpected pos 680128 vs 680016"), a
        # traceback that said nothing of a full disk; the OSError it was raised from says why
        cause = e.__context__ if isinstance(e, RuntimeError) else e
        if isinstance(cause, OSError):
            raise OSError(cause.errno, cause.strerror, cause.filename or str(tmp)) from None
        raise
    tmp.replace(path)


def whole_lines(path: Path, cut: bool = False) -> bytes:
    """A file appended line by line, up to its last newline; `cut`: a torn last line (a kill or a
    full disk part way through a write) is cut off the file too, so the next line appended does not
    join it (run records, a trainer's logs)."""
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if cut and end != len(data):
        with open(path, "r+b") as f:
            f.truncate(end)
    return data[:end]
