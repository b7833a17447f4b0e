"""Errors the CLI turns into one readable line instead of a traceback."""
from __future__ import annotations

import difflib
import functools
import json
import numbers
import sys
from pathlib import Path


class InputError(Exception):
    """Bad input named precisely: a file, a folder, a method or an argument, and what was expected."""


class MethodError(InputError):
    """A method broke the interface contract (wrong shape, NaN, wrong weights)."""


class BadSetting(InputError, ValueError):
    """A setting that cannot work (a crop size, a schedule name, weights of another network); also a
    ValueError, so library callers that catch that keep working."""


class MissingInput(InputError, FileNotFoundError):
    """A file or folder the user named, or the tool needs, is not there; also a FileNotFoundError."""


#: how PyTorch's CPU allocator refuses a request: a plain RuntimeError, where CUDA's is an OutOfMemoryError
CPU_ALLOC_FAILED = "DefaultCPUAllocator: can't allocate memory"


def is_out_of_memory(e: BaseException) -> bool:
    """Out of memory on any device: CUDA's OutOfMemoryError, Python's MemoryError, or the CPU
    allocator's RuntimeError (a training crop whose correlation gram, quadratic in positions,
    asked for 700 GB ended in its traceback)."""
    import torch

    return isinstance(e, (torch.OutOfMemoryError, MemoryError)) or (isinstance(e, RuntimeError) and CPU_ALLOC_FAILED in str(e))


def counted(n: int, noun: str) -> str:
    """'1 pair', '2 pairs': the messages' counts (regular plurals only)."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def did_you_mean(word: str, names) -> str:
    """' (did you mean 'telea'?)' where one of `names` is close to a mistyped `word` (case aside:
    'Telea', 'teela', 'Places2'), else ''. A word that begins several names (`--metrics lpips`: the
    metric of each network) is answered with all of them (up to four), not the one difflib likes best."""
    lowered = {n.lower(): n for n in names}
    typed = word.lower()
    begun = [n for low, n in lowered.items() if low.startswith(typed) and low != typed] if len(typed) >= 3 else []
    if 1 < len(begun) <= 4:
        return f" (did you mean {', '.join(map(repr, begun[:-1]))} or {begun[-1]!r}?)"
    close = difflib.get_close_matches(typed, list(lowered), n=1)
    return f" (did you mean {lowered[close[0]]!r}?)" if close else ""


def refuse_below(floor: int, *flags: tuple[str, int]) -> None:
    """The one line for a count or size under what it can be: refuse_below(1, ("--limit", limit)).
    Whole numbers only: from Python, size="256" was a TypeError from the comparison and limit=1.5 one
    from a slice, deep in the run."""
    for flag, value in flags:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise InputError(f"{flag} must be a whole number, got {value!r}")
        if value < floor:
            raise InputError(f"{flag} must be at least {floor}, got {value}")


def refuse_repeats(flag: str, names: list[str]) -> None:
    """The one line for a list flag naming something twice (two runs or scores where one was meant)."""
    if twice := sorted({n for n in names if names.count(n) > 1}):
        raise InputError(f"{flag} gives {', '.join(twice)} more than once")


def path_problem(e: OSError) -> str:
    """The one line for a path the file system refused (an --out naming a file, a read-only folder)."""
    if isinstance(e, (FileExistsError, NotADirectoryError)):  # mkdir over a file, or a file as a parent
        reason = "a file is in the way of a folder on this path"
    elif isinstance(e, IsADirectoryError):
        reason = "a folder is in the way of a file on this path"
    else:
        reason = e.strerror or str(e)
    return f"{e.filename}: {reason}" if e.filename else reason


def one_line(e: InputError | OSError) -> str:
    """What a command prints for bad input, after "error:": an InputError's own words (a MissingInput
    is an OSError too), else the path the file system refused and why."""
    return str(e) if isinstance(e, InputError) else path_problem(e)


def one_line_errors(main):
    """For a `python -m` tool's main(argv): bad input (an InputError, or a path the file system
    refused) ends in one line and exit 2, as the inpaintbench commands' do, not in a traceback."""
    @functools.wraps(main)
    def wrapped(argv=None):
        try:
            return main(argv)
        except (InputError, OSError) as e:
            print(f"error: {one_line(e)}", file=sys.stderr)
            sys.exit(2)
    return wrapped


def merge_conflicted(text: str) -> bool:
    """git's conflict markers: a run folder or baseline committed on two branches and merged."""
    return any(line.startswith(("<<<<<<< ", ">>>>>>> ")) for line in text.splitlines())


def conflict_note(text: str) -> str:
    """What a refusal of an unreadable file adds where git's conflict markers are the cause."""
    return "; it holds merge-conflict markers: resolve them" if merge_conflicted(text) else ""


def stand_in(path: Path | str, data: bytes | None = None) -> str | None:
    """What lies in a file's place, where its first bytes tell, for the refusal of a file that did not
    load: an empty file (a copy or download stopped at its start), the pointer a Git LFS or git-annex
    repository keeps until its large files are fetched (a dataset or weights repository cloned without
    them: each photo a few lines of text), or a web page a download link answered with (a sign-in, an
    error, Google Drive's virus-scan notice for large files). They had been "not an image format PIL
    knows" and torch's "invalid load key, 'v'". None where the bytes tell nothing. `data`: the bytes,
    where they were read already."""
    try:
        if data is None:
            with open(path, "rb") as f:
                data = f.read(1024)
    except OSError:
        return None
    head = data[:1024]
    if not head:
        return "an empty file, 0 bytes: a copy or download stopped at its start; copy it again"
    if head.startswith((b"version https://git-lfs.github.com/spec/", b"version https://hawser.github.com/spec/")):
        return "a Git LFS pointer, not the file it stands for: `git lfs pull` in its repository fetches the files"
    if head.startswith(b"/annex/objects/"):
        return "a git-annex pointer, not the file it stands for: `git annex get` in its repository fetches the files"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith((b"<!doctype html", b"<html")):
        return ("a web page (HTML), not the file: the download link answered with a page (a sign-in, an error, "
                "a virus-scan notice) in its place; download the file itself")
    return None


def torch_file_note(path: Path | str) -> str | None:
    """Why a file torch could not load is no weights file at all: one in another's place (`stand_in`),
    or none torch.save writes (a zip archive since torch 1.6, a pickle before), with its first bytes: a
    CSV, an image or an ONNX file given as weights had been "perhaps truncated (UnpicklingError: ...)".
    None for one that begins as torch's do (cut short, say)."""
    try:
        with open(path, "rb") as f:
            head = f.read(1024)
    except OSError:
        return None
    if note := stand_in(path, head):
        return note
    if head.startswith((b"PK\x03\x04", b"\x80")):
        return None
    return f"not a file torch.save writes (a zip archive or a pickle): it begins {head[:24]!r}"


def read_json(path: Path | str, hint: str = "") -> object:
    """A JSON file the tool wrote (a run's manifest, a baseline), or one line naming it and what is
    wrong with it: each is written whole, so only a merge, an edit or another file in its place
    makes it unreadable, and that had ended in a JSONDecodeError traceback. `hint`: what to do."""
    text = Path(path).read_text(errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not JSON (line {e.lineno}: {e.msg})"
                         + conflict_note(text)
                         + (f"; {hint}" if hint else "")) from None
