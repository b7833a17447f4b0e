"""The `python -m methods...` entry points the README and .device scripts name."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


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


def test_a_trainer_reached_through_the_cli_names_that_command(tmp_path):
    """`inpaintbench train rwconv --steps x` answered 'python -m methods.rwconv.train: error: ...',
    a command the user had not typed; its usage line too."""
    import shutil

    # beside the interpreter running the tests first: a venv's, called by its path, is not on PATH
    beside = Path(sys.executable).with_name("inpaintbench")
    exe = str(beside) if beside.is_file() else shutil.which("inpaintbench")
    assert exe, "the package's console script is installed with it"
    r = subprocess.run([exe, "train", "rwconv", "--steps", "x"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "inpaintbench train rwconv: error: argument --steps" in r.stderr, r.stderr[-500:]
    assert "usage: inpaintbench train rwconv" in r.stderr and not list(tmp_path.iterdir())


def test_a_refused_command_prints_its_error_line_first(tmp_path, monkeypatch):
    """In a log (not a terminal) rich ends a progress bar with a line break, drawn or not: each
    refused run and export printed a blank line above its one error line."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app

    monkeypatch.chdir(tmp_path)
    for command in (["run", "--method", "telea", "--limit", "0"], ["export-inputs", "--out", "e", "--limit", "0"]):
        r = CliRunner().invoke(app, command)
        assert r.exit_code == 2 and r.output.startswith("error: --limit must be at least 1"), repr(r.output)
    r = CliRunner().invoke(app, ["run", "--method", "telea", "--limit", "1", "--buckets", "10-20", "--no-deep-metrics",
                                 "--out", "r"])
    assert r.exit_code == 0 and "1/1" in r.output and r.output.endswith("records in r\n"), repr(r.output)


def test_the_weights_command_says_where_the_torch_cache_is_here(tmp_path, monkeypatch):
    """Each missing network says 'copy it to $TORCH_HOME/hub/checkpoints/'; the title said
    'TORCH_HOME = torch.hub.get_dir()/..', which names no folder a user can copy into."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "[th]"))  # brackets: printed as spelt, not read as markup
    r = CliRunner().invoke(app, ["weights"])
    assert r.exit_code == 0, r.output
    # one line, the path whole: rich had folded the title at the console's width, path and all
    assert f"pretrained networks (nothing is downloaded; $TORCH_HOME/hub/checkpoints here is " \
        f"{tmp_path / '[th]' / 'hub' / 'checkpoints'})" in r.output.splitlines(), r.output
    # a block per network: in 80 columns the table folded every path, name and piece of advice
    from inpaintbench.networks import locate

    lines = r.output.splitlines()
    assert f"  at: {locate('inception-tf')}" in lines and "vgg16  not found" in lines, r.output
    assert any(s.startswith("  to provide: copy torchvision's vgg16-397923af.pth") and s.endswith("--loss-net-weights F`)")
               for s in lines), r.output


def test_a_run_labelled_with_a_path_gets_one_folder_of_its_own(tmp_path, monkeypatch):
    """The default run folder is runs/DATASET/NAME: --label 'my method/v2' nested it as
    runs/demo/my method/v2 (a report of runs/demo/* then found no run there), and --label '..'
    wrote the records into runs/ itself."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app
    from inpaintbench.runner import read_records

    monkeypatch.chdir(tmp_path)
    for label, folder in (("my method/v2", "my_method_v2"), ("..", "__")):
        r = CliRunner().invoke(app, ["run", "--method", "telea", "--label", label, "--limit", "1", "--buckets", "10-20",
                                     "--no-deep-metrics"])
        assert r.exit_code == 0, r.output
        assert [x["method"] for x in read_records(tmp_path / "runs" / "demo" / folder / "records.jsonl")] == [label]
    assert sorted(p.name for p in (tmp_path / "runs" / "demo").iterdir()) == ["__", "my_method_v2"]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["demo"]


def test_the_wheel_lists_every_package_and_carries_what_runs_need(tmp_path):
    """pyproject.toml lists its packages (the frozen masks are mapped in from masks/, which no finder
    sees); a package left out of the list, the demo's manifest or the masks, and a `pip install`
    without -e (pip install git+URL) could not run the demo: it stopped at demo_manifest.csv."""
    import tomllib

    repo = Path(__file__).resolve().parents[1]
    listed = set(tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {".".join(f.parent.relative_to(repo).parts) for top in ("inpaintbench", "methods") for f in (repo / top).rglob("__init__.py")}
    assert listed - {"inpaintbench.frozen_masks"} == folders
    # the build backend from this environment (no network): Python 3.12+ venvs come without it
    pytest.importorskip("setuptools", minversion="61", reason="setuptools>=61 not installed: cannot build the wheel offline")
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-compile", "-q",
                        "--target", str(tmp_path / "site"), str(repo)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-1000:]
    run = subprocess.run([sys.executable, "-c", "import sys; from inpaintbench.cli import main; sys.argv = ['inpaintbench', "
                          "'run', '--method', 'telea', '--limit', '1', '--buckets', '30-40', '--no-deep-metrics', '--out', 'r']; main()"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(tmp_path / "site")})
    assert run.returncode == 0, run.stdout[-1000:] + run.stderr[-1000:]
    import json
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    from inpaintbench.masks import MaskSet, DEFAULT_MASK_DIR
    assert manifest["masks"]["id"] == MaskSet(DEFAULT_MASK_DIR).id  # the frozen set itself, carried whole
    assert manifest["masks"]["root"].endswith("frozen_masks/irregular256")


def test_the_bars_rate_column_names_its_unit_and_a_finished_tasks_rate():
    """The column said "it/s" for pairs (the batch-log line says pairs/s) and masks, and "– it/s"
    for a task that ended between rich's speed samples, whose rate rich keeps as finished_speed."""
    import time

    from rich.progress import Task

    from inpaintbench.cli import _Rate

    task = Task(0, "telea", 48, 48, _get_time=time.monotonic)
    assert _Rate("pairs").render(task).plain == "– pairs/s"
    task.finished_speed = 27.54
    assert _Rate("pairs").render(task).plain == "27.54 pairs/s"
    assert _Rate("masks").render(task).plain == "27.54 masks/s"
    # ended in its first batch, so rich has no sample (a --limit 2 run): the mean rate of this run's
    # own pairs, not of those a resumed run had before it started
    task = Task(0, "rwconv", 10, 10, _get_time=time.monotonic, fields={"first": 4})
    task.finished_time = 3.0  # as rich's Progress sets it: the task's elapsed seconds when it finished
    assert not task.speed and _Rate("pairs").render(task).plain == "2.00 pairs/s"


@pytest.mark.parametrize("args", [["run", "--method", "telea", "--buckets", "20-30", "30-40"],
                                  ["export-inputs", "--out", "x", "--buckets", "20-30", "30-40"],
                                  ["demo", "--method", "telea", "30-40"],
                                  ["compare", "a", "b", "--metrics", "psnr", "30-40"],
                                  ["check", "r", "--tolerance", "psnr=0.1", "30-40"]])
def test_several_values_after_one_option_are_answered_with_what_to_type(tmp_path, monkeypatch, args):
    """`--buckets 20-30 30-40` (as the README's table once read) ended in typer's "Got unexpected extra
    argument(s) (30-40)"; the commands now say how an option takes several values, before any work."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app

    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, args)
    said = " ".join(r.output.split())
    assert r.exit_code == 2 and "error: unexpected 30-40: an option that takes several values is given once per value " \
        "(--buckets 10-20 --buckets 20-30, --metrics psnr --metrics ssim)" in said, r.output
    assert not any(tmp_path.iterdir())  # nothing run, nothing written


@pytest.mark.parametrize("args", [["report", "--metrics", "psnr", "ssim"], ["compare", "--metrics", "psnr", "ssim", "r"]])
def test_a_metric_name_taken_for_a_run_folder_is_named_as_such(tmp_path, monkeypatch, args):
    """`report --metrics psnr ssim RUN` takes ssim for a run folder ("not a run directory (no
    manifest.json)"): the message now says what was meant."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app

    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, args + ["somewhere"] if args[0] == "report" else args)
    said = " ".join(r.output.split())
    assert r.exit_code == 2 and "error: ssim: not a run folder; an option that takes several values is given once " \
        "per value (--buckets 10-20 --buckets 20-30, --metrics psnr --metrics ssim)" in said, r.output


def test_an_error_is_one_line_with_its_path_whole_in_a_log(tmp_path, monkeypatch):
    """The README promises one line per refusal; where the output is no terminal (a CI log, a job's
    file) rich folded it at 80 columns, cutting a long path in two, so the path in the log was not
    the path on disk. Every message of the command line now leaves wrapping to the terminal. And rich
    read a folder named `[photos]` as markup, a style, and left it out of the path it printed."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app

    root = tmp_path / "[photos]" / "a_folder_with_a_name_long_enough_that_the_message_runs_past_eighty_columns"
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["run", "--method", "telea", "--dataset", "folder", "--data-root", str(root)])
    assert r.exit_code == 2 and r.output.count("\n") == 1, r.output
    assert r.output.startswith(f"error: --data-root {root}: no such folder"), r.output


def test_a_label_with_brackets_is_printed_as_spelt(tmp_path, monkeypatch):
    """rich read `[v2]` in `--label 'telea[v2]'` as a style: the run's bar said "telea" and `compare`
    titled its table "A = telea, B = telea", naming neither run."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app

    monkeypatch.chdir(tmp_path)
    for label in ("telea[v2]", "telea[v3]"):
        r = CliRunner().invoke(app, ["run", "--method", "telea", "--label", label, "--limit", "1", "--buckets", "10-20",
                                     "--no-deep-metrics", "--out", label])
        assert r.exit_code == 0 and any(s.startswith(f"{label} ━") for s in r.output.splitlines()), r.output
    r = CliRunner().invoke(app, ["compare", "telea[v2]", "telea[v3]", "--metrics", "psnr"])
    assert r.exit_code == 0 and "A = telea[v2], B = telea[v3]: A - B on the pairs both scored" in r.output, r.output


def test_a_label_with_a_pipe_keeps_its_markdown_column_and_one_with_a_line_break_is_refused(tmp_path, monkeypatch):
    """`--label 'a|b'` split its Markdown column in two (the rows then had one cell too few); a
    label with a line break broke the table's header over two rows."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app

    monkeypatch.chdir(tmp_path)
    args = ["run", "--method", "telea", "--limit", "1", "--buckets", "10-20", "--no-deep-metrics"]
    assert CliRunner().invoke(app, [*args, "--label", "telea|v2", "--out", "piped"]).exit_code == 0
    table = CliRunner().invoke(app, ["report", "piped"]).output.split("\n\n", 1)[1].splitlines()
    assert table[0].split(" | ")[-1].strip(" |") == "telea\\|v2"
    assert len({line.count("|") - line.count("\\|") for line in table if line}) == 1  # every row as many cells
    for label in ("two\nlines", "tab\there", "   "):
        r = CliRunner().invoke(app, [*args, "--label", label, "--out", "other"])
        assert r.exit_code == 2 and f"--label {label!r}: a run's name is one line of printable text" in r.output, r.output
    assert not (tmp_path / "other").exists()


def test_the_version_option_names_the_package_version_and_the_checkout():
    """`inpaintbench --version` was "No such option": which code made a number was in each run's
    manifest, not at hand."""
    from importlib.metadata import version

    from typer.testing import CliRunner

    from inpaintbench.cli import app
    from inpaintbench.paths import git_commit

    r = CliRunner().invoke(app, ["--version"])
    commit = git_commit()
    assert r.exit_code == 0 and r.output == f"inpaintbench {version('inpaintbench')}" + (f" (git {commit[:12]})" if commit else "") + "\n"


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed (a checkout has it; a bare chroot may not)")
def test_an_installed_copy_inside_another_git_repository_reports_no_commit(tmp_path, monkeypatch):
    """Run manifests took `git rev-parse HEAD` from the package's folder: a wheel installed in a venv
    inside a user's own repository recorded that repository's commit as the code's."""
    from inpaintbench import paths

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.email=u@x", "-c", "user.name=u", "commit", "-q",
                    "--allow-empty", "-m", "theirs"], check=True)
    (tmp_path / ".venv" / "site-packages").mkdir(parents=True)
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / ".venv" / "site-packages")
    assert paths.git_commit() is None
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path)  # a checkout of its own: its commit
    assert paths.git_commit() == subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True,
                                                text=True, check=True).stdout.strip()


def test_help_is_asked_for_as_h_or_help_of_every_command_train_included(tmp_path, monkeypatch):
    """`-h` was "No such option: -h" to every command but the trainers' (argparse's), and `inpaintbench
    train --help` answered "method '--help' has no trainer": the one command whose options live
    elsewhere could not say so."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app

    monkeypatch.chdir(tmp_path)
    for command in ([], ["run"], ["report"], ["masks"], ["masks", "import"], ["bench"]):
        for flag in ("-h", "--help"):
            r = CliRunner().invoke(app, [*command, flag], prog_name="inpaintbench")
            assert r.exit_code == 0 and "Usage: inpaintbench" in r.output, (command, flag, r.output[-300:])
    for flag in ("-h", "--help"):
        r = CliRunner().invoke(app, ["train", flag], prog_name="inpaintbench")
        said = " ".join(r.output.split())
        assert r.exit_code == 0 and "Usage: inpaintbench train" in said, (flag, r.output)
        assert "trainable: edgeconnect, gated, pconv, rwconv" in said and "inpaintbench train NAME --help" in said
    # usage lines name the arguments as the README's table does (they said {run_a} {run_b}, [runs]...)
    for command, named in ((["compare"], ("RUN_A", "RUN_B")), (["check"], ("RUN_DIR",)), (["report"], ("RUN_DIR",)),
                           (["train"], ("NAME",)), (["masks", "import"], ("SRC",)), (["masks", "verify"], ("DIR",))):
        usage = CliRunner().invoke(app, [*command, "-h"], prog_name="inpaintbench").output.split("Usage:")[1].split("\n")[0]
        assert all(n in usage for n in named) and not any(c.islower() for c in usage.split("[OPTIONS]")[1]), usage
    r = CliRunner().invoke(app, ["train", "rwconv", "-h"])  # the trainer's own options, as before
    assert r.exit_code == 0 and "--val-every" in r.output, r.output[-300:]
    assert not list(tmp_path.iterdir())


def test_a_home_folder_after_an_equals_sign_is_the_users_home(tmp_path, monkeypatch):
    """The shell expands `~` in `--data-root ~/photos` but not in `--data-root=~/photos`: that run
    looked for a folder named `~` under the working folder ("no such folder CWD/~/photos")."""
    import subprocess

    beside = Path(sys.executable).with_name("inpaintbench")
    exe = str(beside) if beside.is_file() else shutil.which("inpaintbench")
    home = tmp_path / "home"
    (home / "photos").mkdir(parents=True)
    from PIL import Image

    Image.new("RGB", (256, 256), (90, 120, 150)).save(home / "photos" / "a.png")
    env = {**os.environ, "HOME": str(home)}
    r = subprocess.run([exe, "run", "--method", "telea", "--dataset", "folder", "--data-root=~/photos", "--limit", "1",
                        "--buckets", "10-20", "--no-deep-metrics", "--out=~/runs/telea"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr[-500:]
    assert (home / "runs" / "telea" / "records.jsonl").read_text().count("\n") == 1
    assert not (tmp_path / "~").exists()
    r = subprocess.run([exe, "train", "rwconv", "--data=~/nothing-here", "--steps", "1", "--out", str(tmp_path / "t")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 2 and f"{home / 'nothing-here'}" in r.stderr, r.stderr[-500:]


@pytest.mark.parametrize("args,said", [
    (["run", "--method", "telea", "--buckets", "10-20,20-30"], ("--buckets '10-20,20-30': one value per --buckets: "
                                                                 "--buckets 10-20 --buckets 20-30")),
    (["export-inputs", "--out", "x", "--buckets", "10-20, 50-60"], "--buckets 10-20 --buckets 50-60"),
    (["demo", "--method", "telea,biharmonic"], ("--method 'telea,biharmonic': one value per --method: --method telea "
                                                "--method biharmonic")),
    (["report", "r", "--metrics", "psnr,ssim"], "--metrics 'psnr,ssim': one value per --metrics: --metrics psnr --metrics ssim"),
    (["compare", "a", "b", "--metrics", "psnr,ssim"], "--metrics psnr --metrics ssim")])
def test_several_values_joined_by_commas_are_answered_with_what_to_type(tmp_path, monkeypatch, args, said):
    """`--buckets 10-20,20-30`, as many tools take lists, was "unknown bucket '10-20,20-30'", and
    `--metrics psnr,ssim` "no such metric (did you mean 'ssim'?)": the form was left to be guessed."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app

    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and said in " ".join(r.output.split()), r.output
    assert not any(tmp_path.iterdir())


URL = "https://example.org/v1/rwconv.pt"


@pytest.mark.parametrize("argv,said", [
    (["inpaintbench", "run", "--method", "rwconv", "--weights", URL],
     (f"error: --weights {URL}: a URL, and inpaintbench reads local files only (it downloads nothing at run time): "
      f"download it first (`curl -LO {URL}` for a file) and give its path")),
    (["inpaintbench", "run", "--method", "telea", "--dataset", "places2", "--data-root=s3://bucket/places2"],
     ("error: --data-root s3://bucket/places2: a URL, and inpaintbench reads local files only (it downloads nothing "
      "at run time): copy it to this machine first and give its path")),
    (["inpaintbench", "report", "HTTPS://example.org/runs/demo"], "error: HTTPS://example.org/runs/demo: a URL"),
    (["inpaintbench", "train", "rwconv", "--data", "photos", "ftp://example.org/photos", "--steps", "1"],
     "error: ftp://example.org/photos: a URL"),
    (["python -m methods.rwconv.train", "--init-from", URL], f"error: --init-from {URL}: a URL")])
def test_a_url_given_where_a_path_goes_is_named_as_one(tmp_path, monkeypatch, capsys, argv, said):
    """A release's link copied whole (`--weights https://.../rwconv.pt`) was read as the local path
    `https:/...` and answered "not found" or "no such folder of images"; nothing is downloaded at run time."""
    from inpaintbench import cli
    from methods.rwconv import train

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as e:
        (train.main if argv[0].startswith("python") else cli.main)()
    err = capsys.readouterr().err
    assert e.value.code == 2 and said in err, err
    assert not list(tmp_path.iterdir())


def test_methods_lists_every_registered_method_on_stdout():
    """`inpaintbench methods | grep rwconv` found nothing and `> methods.txt` wrote an empty file: the
    list went to stderr, with the messages, where `weights`' listing and `report`'s table go to stdout."""
    from typer.testing import CliRunner

    from inpaintbench import registry
    from inpaintbench.cli import app

    r = CliRunner().invoke(app, ["methods"])
    assert r.exit_code == 0 and not r.stderr, r.stderr
    assert [line.split()[0] for line in r.stdout.splitlines()] == registry.available()
    assert "rwconv           Region-wise convolutions + non-local correlation" in r.stdout


def test_an_installed_plugin_that_cannot_load_or_takes_an_installed_name_is_named(tmp_path, monkeypatch):
    """Another package's method that failed on import in any other way than ImportError (a
    RuntimeError of its driver, a class name mistyped in its entry point) ended `inpaintbench
    methods`, which lists every method, in a traceback, and any run of it; one that declared
    `telea` too took the shipped Telea's place by the order of sys.path, its runs named telea."""
    from typer.testing import CliRunner

    from inpaintbench import registry
    from inpaintbench.cli import app
    from inpaintbench.errors import InputError

    dist = tmp_path / "otherplug-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: otherplug\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[inpaintbench.methods]\nplug-crash = otherplug_crash:Method\n"
                                           "plug-typo = otherplug_ok:Nope\nplug-ok = otherplug_ok:Method\n"
                                           "telea = otherplug_ok:Method\n")
    (tmp_path / "otherplug_crash.py").write_text('raise RuntimeError("CUDA driver initialization failed")\n')
    (tmp_path / "otherplug_ok.py").write_text(
        "from inpaintbench.method import InpaintingMethod\n\n\nclass Method(InpaintingMethod):\n"
        '    """A plugin\'s method."""\n\n    def inpaint(self, masked, hole):\n        return masked\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(InputError, match=r"method 'plug-crash' \(otherplug_crash:Method\) cannot be imported: "
                                         r"RuntimeError: CUDA driver initialization failed"):
        registry.method_class("plug-crash")
    with pytest.raises(InputError, match=r"method 'plug-typo' \(otherplug_ok:Nope\) cannot be imported: AttributeError"):
        registry.method_class("plug-typo")
    with pytest.raises(InputError, match=r"method 'telea' is declared by 2 installed packages, (otherplug \(otherplug_ok:"
                                         r"Method\)|inpaintbench \(methods.classical:Telea\)) and .*; uninstall one"):
        registry.method_class("telea")
    assert registry.method_class("plug-ok").__name__ == "Method"
    r = CliRunner().invoke(app, ["methods"])
    assert r.exit_code == 0, r.output
    # methods other tests registered at run time may have no docstring: a name alone on its line
    listed = {name: doc.strip() for name, _, doc in (line.partition(" ") for line in r.stdout.splitlines())}
    assert listed["plug-ok"] == "A plugin's method." and listed["rwconv"].startswith("Region-wise convolutions")
    assert listed["plug-crash"].startswith("[unavailable: method 'plug-crash'")
    assert listed["telea"].startswith("[unavailable: method 'telea' is declared by 2 installed packages")
