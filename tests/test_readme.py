"""The README's Python block, run as a script: what it shows has to work as shown."""
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_python_block_runs_and_writes_the_report_it_names(tmp_path):
    section = README.read_text().split("\n## From Python\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    (tmp_path / "example.py").write_text(block)
    r = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert re.search(r"^8 pairs; the first: \S+ 10-20/\d{4}\.png PSNR \d+\.\d+$", r.stdout, flags=re.M), r.stdout
    assert re.search(r"^0 regressions in [1-9]\d* checks$", r.stdout, flags=re.M), r.stdout
    header = (tmp_path / "runs" / "py" / "report" / "table1.md").read_text()
    assert "| meanfill " in header and "| telea " in header
    for name in ("per_image.csv", "comparisons.csv", "index.html"):
        assert (tmp_path / "runs" / "py" / "report" / name).is_file(), name
