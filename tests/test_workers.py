"""Classical methods spread a batch over processes (`run --workers`), with the same outputs."""
import os
import time

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from inpaintbench import registry
from inpaintbench.cli import app
from inpaintbench.data import get_dataset
from inpaintbench.masks import DEFAULT_MASK_DIR, MaskSet
from inpaintbench.method import PerImageMethod, pair_key
from inpaintbench.runner import read_records


class WhereFilled(PerImageMethod):
    """Fills the hole white where a worker process filled it, black where the caller did."""

    name = "where-filled"
    parallel = True

    def __init__(self, device="cpu", weights=None, **options):
        super().__init__(device, weights, **options)
        self.caller = os.getpid()

    def inpaint_one(self, image, hole):
        return np.full(image.shape, 255 * (os.getpid() != self.caller), np.uint8)


class SlowFill(PerImageMethod):
    """Fills the hole with the image's negative, after `delay` seconds."""

    name = "slow-fill"
    parallel = True
    delay = 0.0

    def inpaint_one(self, image, hole):
        time.sleep(self.delay)
        return 255 - image


def _batch(n=3):
    ds, ms = get_dataset("demo"), MaskSet(DEFAULT_MASK_DIR)
    gt = torch.stack([torch.from_numpy(np.array(ds.load(i))).permute(2, 0, 1) for i in ds.ids()[:n]]).float() / 255
    hole = torch.stack([torch.from_numpy(ms.load(ms.pick("30-40", k), 256))[None] for k in range(n)]).float()
    return gt * (1 - hole), hole


@pytest.mark.parametrize("name", ["patchmatch", "biharmonic"])
def test_a_batch_spread_over_workers_gives_the_outputs_bit_for_bit(name):
    masked, hole = _batch()
    method = registry.create(name)
    alone = method.inpaint(masked, hole)
    assert method.worker_pids() == []  # --workers 1: every image in this process, no pool
    method.workers = 2
    spread = method.inpaint(masked, hole)
    assert torch.equal(alone, spread)
    # and the work was done elsewhere: the pool is this method's, started by that call
    assert len(method.worker_pids()) == 2


def test_the_run_command_passes_workers_and_refuses_none(tmp_path, monkeypatch):
    registry.register("where-filled", WhereFilled)
    common = ["--method", "where-filled", "--limit", "1", "--buckets", "20-30", "--buckets", "40-50", "--no-deep-metrics"]
    monkeypatch.setattr("inpaintbench.workers.usable_cores", lambda: 2)  # the default, on a machine of any size
    fills = {}
    for name, flags in {"one": ["--workers", "1"], "two": ["--workers", "2"], "default": []}.items():
        r = CliRunner().invoke(app, ["run", *common, *flags, "--out", str(tmp_path / name)])
        assert r.exit_code == 0, r.output
        fills[name] = [rec["l1"] for rec in read_records(tmp_path / name / "records.jsonl")]
    assert fills["two"] == fills["default"] and fills["one"] != fills["two"]
    r = CliRunner().invoke(app, ["run", *common, "--workers", "0", "--out", str(tmp_path / "none")])
    assert r.exit_code == 2 and "--workers must be at least 1, got 0" in r.output, r.output
    # the number of workers is no part of a run's identity: the run resumes under another
    r = CliRunner().invoke(app, ["run", *common, "--workers", "1", "--out", str(tmp_path / "two")])
    assert r.exit_code == 0 and "0 to do" in r.output, r.output
    assert len(read_records(tmp_path / "two" / "records.jsonl")) == 2


def test_the_report_and_the_demo_spread_the_grids_fills_over_workers(tmp_path, monkeypatch):
    """The image grids fill their pairs again (a run without --save-images): PatchMatch's took 9 s
    of the demo report in one process while the other core idled."""
    from inpaintbench import grids

    registry.register("where-filled", WhereFilled)
    monkeypatch.setattr("inpaintbench.workers.usable_cores", lambda: 2)
    common = ["--method", "where-filled", "--limit", "1", "--buckets", "20-30", "--buckets", "40-50", "--no-deep-metrics"]
    r = CliRunner().invoke(app, ["run", *common, "--workers", "1", "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    shown, real = [], grids.run_outputs
    monkeypatch.setattr(grids, "run_outputs", lambda *a, **kw: shown.append(real(*a, **kw)) or shown[-1])

    def hole_fills(run_dir):
        """Every value in the shown pairs' holes (the known pixels are the photo's): 255 where a
        worker filled the pair, 0 where the report's own process did."""
        holes = {pair_key(r["image_id"], r["mask_file"]): np.asarray(Image.open(DEFAULT_MASK_DIR / r["mask_file"])) > 127
                 for r in read_records(run_dir / "records.jsonl")}
        return {int(v) for o in shown for k, img in o.items() for v in np.unique(img[holes[k]])}

    def grid_fills(*flags):
        shown.clear()
        r = CliRunner().invoke(app, ["report", str(tmp_path / "run"), "--out", str(tmp_path / "rep"), "-f", "html", *flags])
        assert r.exit_code == 0, r.output
        return hole_fills(tmp_path / "run")

    assert grid_fills("--workers", "1") == {0}
    assert grid_fills("--workers", "2") == {255} and grid_fills() == {255}  # the default: every usable core
    r = CliRunner().invoke(app, ["report", str(tmp_path / "run"), "--out", str(tmp_path / "rep"), "--workers", "0"])
    assert r.exit_code == 2 and "--workers must be at least 1, got 0" in r.output, r.output
    shown.clear()
    r = CliRunner().invoke(app, ["demo", "--method", "where-filled", "--limit", "1", "--workers", "2", "--out", str(tmp_path / "demo")])
    assert r.exit_code == 0, r.output
    assert shown and hole_fills(tmp_path / "demo" / "where-filled") == {255}


def test_a_run_killed_outright_leaves_no_worker_behind(tmp_path):
    """A run ended by kill -9 or the OOM killer cannot stop its pool; the workers, children of the
    fork server and not of the run, waited for work forever (0.6 GB each)."""
    import subprocess
    import sys
    import time

    script = tmp_path / "killed.py"
    script.write_text(
        "import os, signal, torch\n"
        "from inpaintbench import registry\n"
        "if __name__ == '__main__':\n"
        "    m = registry.create('biharmonic'); m.workers = 2\n"
        "    hole = torch.zeros(2, 1, 32, 32); hole[:, :, 8:20, 8:20] = 1\n"
        "    m.inpaint(torch.rand(2, 3, 32, 32) * (1 - hole), hole)\n"
        "    workers = m.worker_pids()\n"
        "    server = {open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[1] for p in workers}\n"
        "    print(*workers, *server, flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == -9, done.stderr
    pids = [int(p) for p in done.stdout.split()]
    assert len(pids) == 3 and os.getpid() not in pids  # two workers and the fork server, which holds torch for them

    def alive(pid):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    deadline = time.monotonic() + 15
    while any(map(alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(alive, pids)), pids


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"), reason="private memory is read from Linux's /proc")
def test_workers_share_the_fork_servers_torch_instead_of_importing_their_own(tmp_path):
    """Each worker imported torch itself, 300 MiB of memory of its own (9.6 GiB on 32 cores, the
    default --workers there); forks of a fork server that has imported it share those pages. In a
    fresh interpreter, so that no earlier test's pool has started this process's fork server."""
    import subprocess
    import sys

    script = tmp_path / "measure.py"
    script.write_text(
        "import os, subprocess, sys, torch\n"
        "from inpaintbench import registry\n"
        "from inpaintbench.workers import private_mib\n"
        "if __name__ == '__main__':\n"
        "    alone = subprocess.run([sys.executable, '-c', 'import os, torch; from inpaintbench.workers import private_mib; '\n"
        "                           'print(private_mib(os.getpid()))'], capture_output=True, text=True, check=True)\n"
        "    method = registry.create('biharmonic'); method.workers = 2\n"
        "    x = torch.rand(2, 3, 32, 32); hole = torch.zeros(2, 1, 32, 32); hole[..., 8:20, 8:20] = 1\n"
        "    method.inpaint(x * (1 - hole), hole)\n"
        "    print(float(alone.stdout), max(private_mib(pid) for pid in method.worker_pids()))\n")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    alone, worker = map(float, r.stdout.split())
    assert alone > 100  # torch's import is what is shared, and it is this large
    assert worker < alone / 4, (worker, alone)


def test_the_method_bench_times_a_batch_over_the_workers_too(tmp_path, monkeypatch):
    import json

    from inpaintbench.bench import bench_method

    monkeypatch.setattr("inpaintbench.bench.usable_cores", lambda: 2)
    bench_method("biharmonic", tmp_path / "b.json", repeats=1, log=lambda s: None)
    spread = json.loads((tmp_path / "b.json").read_text())["cpu"]["batch8_workers"]
    assert spread["workers"] == 2 and spread["speedup_over_one"] > 0
    assert 0 < spread["worker_private_mib"] < 100  # forks of the fork server: torch's pages are shared
    bench_method("telea", tmp_path / "t.json", repeats=1, log=lambda s: None)  # 15 ms an image: no pool
    telea = json.loads((tmp_path / "t.json").read_text())
    assert "batch8_workers" not in telea["cpu"]
    # OpenCV's work is not torch's: it had "0" FLOPs and its tensor conversions' bytes as its traffic
    assert telea["flops_per_image_forward"] is None and telea["bytes_per_image_forward_eager_fp32"] is None
    assert "outside torch" in telea["forward_note"]


def test_workers_that_cannot_start_say_why_and_what_to_do(tmp_path):
    """Each worker runs the calling script again; from `python -` there is no script to run, and
    the run ended in concurrent.futures' 'A child process terminated abruptly'."""
    import subprocess
    import sys

    code = ("import torch\n"
            "from inpaintbench import registry\n"
            "m = registry.create('biharmonic'); m.workers = 2\n"
            "hole = torch.zeros(2, 1, 32, 32); hole[:, :, 8:20, 8:20] = 1\n"
            "m.inpaint(torch.rand(2, 3, 32, 32) * (1 - hole), hole)\n")
    done = subprocess.run([sys.executable, "-"], input=code, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1 and last.startswith("inpaintbench.errors.InputError: biharmonic: a worker process "
                                                    "(--workers 2) ended abruptly"), done.stderr[-2000:]
    assert "--workers 1 fills every image in this process" in last


INTERRUPTED = """\
import os, signal, sys, time, torch
from inpaintbench.method import PerImageMethod
MOMENT, MARKS = os.environ["MOMENT"], os.environ["MARKS"]
# as a terminal's foreground command has it, whatever the tests inherit (a CI job started as `cmd &`
# ignores SIGINT); "ignored": such a background run, whose workers must ignore it too. Not where the
# fork server imports this script: Python's handler there would undo the run's ignoring it, and a
# Ctrl-C while the server imported printed its traceback now and then (at once on Python 3.14)
if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN if MOMENT == "ignored" else signal.default_int_handler)
if MOMENT == "filling, slow to end" and __name__ == "__main__":
    # Python's exit hook wakes the pool's thread through a pipe, unlocked, that the thread closes as
    # it ends: on a loaded machine they met now and then, and a traceback followed "interrupted".
    # A thread slow to close its pipe and a hook slow to write to it make that meeting certain
    import concurrent.futures.process as cfp
    close = cfp._ThreadWakeup.close

    def slow_close(self):
        time.sleep(0.2)
        close(self)

    def slow_wakeup(self):
        if not self._closed:
            time.sleep(0.5)
            self._writer.send_bytes(b"")

    cfp._ThreadWakeup.close, cfp._ThreadWakeup.wakeup = slow_close, slow_wakeup


def mark(name):
    open(os.path.join(MARKS, name), "w").close()


class Slow(PerImageMethod):
    name, parallel = "slow", True

    def inpaint_one(self, image, hole):
        mark(f"worker{os.getpid()}")
        time.sleep({"filling": 600, "filling, slow to end": 600, "ignored": 3}.get(MOMENT, 0))
        return image


if __name__ != "__main__" and MOMENT == "starting":  # the fork server importing this script first
    mark("starting")
    time.sleep(5)
if __name__ == "__main__":
    m = Slow()
    m.workers = 2
    hole = torch.zeros(4, 1, 32, 32)
    hole[:, :, 8:20, 8:20] = 1
    try:
        m.inpaint(torch.rand(4, 3, 32, 32) * (1 - hole), hole)
        if MOMENT == "ignored":
            print("filled", file=sys.stderr)
            sys.exit(0)
        mark("idle")
        time.sleep(600)  # the run scoring the batch, its workers waiting for the next
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
"""


@pytest.mark.parametrize("moment", ["starting", "filling", "filling, slow to end", "idle", "ignored"])
def test_ctrl_c_ends_a_run_and_its_workers_at_once_and_lets_it_alone_say_so(tmp_path, moment):
    """Ctrl-C reaches every process of the terminal's group. Workers waiting for their next image
    printed a KeyboardInterrupt traceback of concurrent.futures' internals each (one per core)
    above the run's line that nothing is lost, the fork server importing torch printed that import,
    and a run whose workers were filling ended only once they had filled every image already handed
    to them (two queued per worker)."""
    import signal
    import subprocess
    import sys
    import time

    marks = tmp_path / "marks"
    marks.mkdir()
    (tmp_path / "interrupted.py").write_text(INTERRUPTED)
    # a session of its own: the process group a terminal's Ctrl-C is sent to
    proc = subprocess.Popen([sys.executable, "interrupted.py"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, cwd=tmp_path, env={**os.environ, "MOMENT": moment, "MARKS": str(marks)})
    def ready(have):
        if moment in ("starting", "idle"):
            return moment in have
        return sum(n.startswith("worker") for n in have) == 2  # both filling

    deadline = time.monotonic() + 120
    while not ready({p.name for p in marks.iterdir()}) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready({p.name for p in marks.iterdir()}), proc.communicate(timeout=60)
    time.sleep(0.5)  # idle: each worker back at its queue
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=60)  # a fill takes 600 s
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError(f"Ctrl-C while {moment}: the run did not end") from None
    if moment == "ignored":  # a background run: the batch is filled, by the same two workers
        assert proc.returncode == 0 and stderr.strip() == "filled", stderr
        assert sum(p.name.startswith("worker") for p in marks.iterdir()) == 2
        return
    assert proc.returncode == 130 and stderr.strip() == "interrupted", stderr
    workers = [int(p.name[len("worker"):]) for p in marks.iterdir() if p.name.startswith("worker")]
    deadline = time.monotonic() + 15
    while any(os.path.exists(f"/proc/{p}") for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(os.path.exists(f"/proc/{p}") for p in workers)


def test_a_batch_after_an_interrupted_one_starts_its_pool_anew():
    """An interrupted notebook cell, then another: the next batch found the fork server, killed with
    the interrupted pool, still dying, and failed with EOFError."""
    import signal
    import threading

    m = SlowFill()
    m.workers, m.delay = 2, 60.0
    hole = torch.zeros(4, 1, 32, 32)
    hole[:, :, 8:20, 8:20] = 1
    masked = torch.rand(4, 3, 32, 32) * (1 - hole)
    # Ctrl-C, starting the pool or filling; a signal to the thread waiting, as a terminal's reaches it
    # (with Python's own handler, which a test run started as `cmd &` would not have)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Timer(3, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT)).start()
        with pytest.raises(KeyboardInterrupt):
            m.inpaint(masked, hole)
    finally:
        signal.signal(signal.SIGINT, previous)
    m.delay = 0.0
    expected = 1 - (masked * 255).round() / 255
    assert torch.allclose(m.inpaint(masked, hole), expected) and len(m.worker_pids()) == 2
