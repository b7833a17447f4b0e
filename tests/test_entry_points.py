"""The `python -m methods...` entry points the README and .device scripts name."""
import os
import subprocess
import sys
from pathlib import Path


def test_every_runnable_module_answers_help_without_side_effects(tmp_path):
    """Each `python -m methods...` entry point prints its usage for --help and writes nothing
    (photo_pack once took --help for its destination folder)."""
    repo = Path(__file__).resolve().parents[1]
    modules = sorted(".".join(f.relative_to(repo).with_suffix("").parts) for f in (repo / "methods").rglob("*.py")
                     if '__name__ == "__main__"' in f.read_text())
    assert len(modules) >= 10 and "methods.training.photo_pack" in modules
    for m in modules:
        r = subprocess.run([sys.executable, "-m", m, "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PYTHONPATH": str(repo)})
        assert r.returncode == 0 and "usage:" in r.stdout, (m, r.stderr[-500:])
        assert not list(tmp_path.iterdir()), (m, list(tmp_path.iterdir()))
