"""Paths as a run's records write them.

A manifest, a report caption or a model card names files inside this checkout by their path in
the repository, so the same run reads the same in every clone (and a committed report does not
carry the machine it was made on); files elsewhere keep the path given.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


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
