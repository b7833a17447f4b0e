"""Paths as a run's records write them.

A manifest, a report caption or a model card names files inside this checkout by their path in
the repository, so the same run reads the same in every clone (and a committed report does not
carry the machine it was made on); files elsewhere keep the path given.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from .errors import InputError

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_METHODS = ("telea", "navier-stokes", "biharmonic", "patchmatch", "pconv", "gated", "edgeconnect", "rwconv",
                "rwconv+poisson", "rwconv+hflip+poisson")
#: the paired comparisons and worst-case grids of the demo report are made against the paper's method
DEMO_REFERENCE = "rwconv"


def git_commit() -> str | None:
    """The checkout's commit, where the code runs from one (a run's manifest, `--version`). Only
    this repository's: an installed copy under a venv inside another git repository had been given
    that repository's commit."""
    if not (REPO_ROOT / ".git").exists():
        return None
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def home_expanded(argv: list[str]) -> list[str]:
    """Command-line arguments with `~` expanded after `--option=`, as the shell expands it after
    `--option `: bash and zsh leave `--data-root=~/photos` as typed, and a run looked for a folder
    named `~` under the working folder."""
    out = []
    for arg in argv:
        option, eq, value = arg.partition("=")
        out.append(f"{option}={os.path.expanduser(value)}" if option.startswith("--") and eq and value.startswith("~") else arg)
    return out


def url_refusal(argv: list[str]) -> str | None:
    """The line for a URL given where a path goes (`--weights https://.../rwconv.pt`, a release's
    link copied whole): nothing is downloaded at run time, and pathlib had read it as the local path
    `https:/...`, answered "not found" or "no such folder". No option of these commands takes a URL."""
    for i, arg in enumerate(argv):
        option, eq, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
        if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", value):
            continue
        flag = option if eq else argv[i - 1] if i and argv[i - 1].startswith("-") else ""
        fetch = (f"download it first (`curl -LO {value}` for a file)" if value.lower().startswith(("http://", "https://", "ftp://"))
                 else "copy it to this machine first")
        return (f"{flag + ' ' if flag else ''}{value}: a URL, and inpaintbench reads local files only (it downloads "
                f"nothing at run time): {fetch} and give its path")
    return None


def repo_path(path: str | Path) -> str:
    try:
        return Path(path).resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def from_repo_path(text: str) -> Path:
    """Inverse of repo_path: a relative path is read against the repository when it exists there
    (it was written by repo_path), else against the working directory."""
    p = Path(text)
    if not p.is_absolute() and (REPO_ROOT / p).exists():
        return REPO_ROOT / p
    return p


def safe_name(name: str) -> str:
    """A run's name as one file or folder name. A name is a label a user chose ("my method/v2",
    ".."), which as a path would nest folders or climb out of the one meant."""
    safe = "".join(c if c.isalnum() or c in "._+-" else "_" for c in name)
    return safe if safe.strip(".") else safe.replace(".", "_") or "_"


RUN_FOLDER = "run's folder"


def runs_in(folder: Path) -> list[Path]:
    """The runs a folder holds one level down (a demo's --out, reports/demo/runs), the demo's methods
    first in its order, then the others by name; none where `folder` is itself a run."""
    folder = Path(folder)
    if (folder / "manifest.json").is_file() or not folder.is_dir():
        return []
    found = {d.name: d for d in folder.iterdir() if (d / "manifest.json").is_file()}
    return [found[m] for m in DEMO_METHODS if m in found] + [d for m, d in sorted(found.items()) if m not in DEMO_METHODS]


def run_folders(runs: list[Path]) -> list[Path]:
    """Each folder of runs given as a run stands for its runs (`report runs/demo MINE` tables a
    method beside the demo's; so does `write_report(["runs/demo", "MINE"], ...)`). A shell's
    `runs/demo/*` also gave the demo's tables and plots as runs, each refused as not a run: that one
    is answered with the folder to give."""
    # imported here: the command line reads this module at its start, the data package only to read images
    from .data.image_io import archive_note

    out = []
    for d in map(Path, runs):
        if d.is_file() and (packed := archive_note(d, RUN_FOLDER)):  # runs sent as they were packed (runs.tar.gz)
            raise InputError(f"{d}: {packed}")
        inner = runs_in(d)
        if d.exists() and not inner and not (d / "manifest.json").is_file() and runs_in(d.parent):  # not a typo's
            raise InputError(f"{d}: not a run directory (no manifest.json); {d.parent} holds runs beside its report's "
                             f"files: give {d.parent} for all its runs, or the runs' folders alone")
        out.extend(inner or [d])
    return out
