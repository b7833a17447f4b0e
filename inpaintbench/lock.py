"""One writer per folder, and files replaced whole.

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
from pathlib import Path

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


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` whole through a temporary file beside it: a kill or a full disk part way
    leaves the file as it was (a baseline, a run's manifest or records) and no partial copy."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
