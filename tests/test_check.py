import json

import pytest

import torch.nn.functional as F
from typer.testing import CliRunner

from inpaintbench import registry
from inpaintbench.cli import app
from inpaintbench.method import InpaintingMethod
from inpaintbench.runner import RunConfig, run


class BlurredTelea(InpaintingMethod):
    """Telea followed by a 9x9 box blur: the deliberate regression CI must catch."""

    name = "blurred-telea"

    def inpaint(self, masked, hole):
        out = registry.create("telea").inpaint(masked, hole)
        return F.avg_pool2d(F.pad(out, [4] * 4, mode="replicate"), 9, stride=1)


registry.register("blurred-telea", BlurredTelea)


def _run(method, out):
    cfg = RunConfig(method=method, limit=2, buckets=["10-20", "40-50"], deep_metrics=False)
    run(cfg, out, log=lambda s: None)
    return out


def test_check_passes_on_itself_fails_on_a_blur_and_refuses_other_setups(tmp_path):
    base = tmp_path / "baseline.json"
    good = _run("telea", tmp_path / "good")
    cli = CliRunner()
    r = cli.invoke(app, ["check", str(good), "--baseline", str(base), "--update"])
    assert r.exit_code == 0 and json.loads(base.read_text())["method"] == "telea"
    assert cli.invoke(app, ["check", str(good), "--baseline", str(base)]).exit_code == 0
    # the blurred run is a different method name; compare it as if it were the same method
    bad = _run("blurred-telea", tmp_path / "bad")
    b = json.loads(base.read_text())
    b["method"] = "blurred-telea"
    base.write_text(json.dumps(b))
    r = cli.invoke(app, ["check", str(bad), "--baseline", str(base)])
    assert r.exit_code == 1 and "REGRESSED" in r.output and "ssim" in r.output  # blur costs structure first
    # a loose enough tolerance lets it pass: tolerances are real thresholds
    loose = sum([["--tolerance", f"{m}=1000"] for m in ("psnr", "ssim", "l1", "l2", "psnr_hole", "ssim_hole", "l1_hole", "l2_hole")], [])
    assert cli.invoke(app, ["check", str(bad), "--baseline", str(base), *loose]).exit_code == 0
    # a misspelt metric would leave psnr at its default tolerance without a word
    r = cli.invoke(app, ["check", str(bad), "--baseline", str(base), *loose, "--tolerance", "pnsr=1000"])
    assert r.exit_code == 2 and "--tolerance 'pnsr': no such metric" in " ".join(r.output.split())
    # NaN never compares worse, so psnr=nan passed every regression; a negative one failed unchanged values
    for given, message in (("psnr=nan", "'psnr=nan': a tolerance is a number at least 0"),
                           ("psnr=-0.1", "'psnr=-0.1': a tolerance is a number at least 0"),
                           ("ssim=1", "--tolerance gives ssim more than once"),
                           # several in one, as other tools take them: the fix was left to be guessed
                           ("psnr=0.1,ssim=0.01", "got 'psnr=0.1,ssim=0.01' (one per --tolerance: --tolerance psnr=0.1 "
                                                  "--tolerance ssim=0.01)"),
                           # another separator than '=' was "no such metric 'psnr:0.1' (did you mean 'psnr'?)"
                           ("psnr:0.1", "--tolerance expects METRIC=NUMBER, got 'psnr:0.1' (--tolerance psnr=0.1?)"),
                           ("PSNR 0.1", "--tolerance expects METRIC=NUMBER, got 'PSNR 0.1' (--tolerance psnr=0.1?)"),
                           ("psnr", "--tolerance expects METRIC=NUMBER, got 'psnr'")):
        r = cli.invoke(app, ["check", str(bad), "--baseline", str(base), *loose, "--tolerance", given])
        assert r.exit_code == 2 and message in " ".join(r.output.split()), r.output
    # a tolerance of a metric the baseline's run did not score (deep metrics off) gates nothing: said
    r = cli.invoke(app, ["check", str(bad), "--baseline", str(base), *loose, "--tolerance", "fid=inf"])
    assert r.exit_code == 0 and ("note: --tolerance fid: the baseline's run did not score it (deep metrics off, or their "
                                 "network absent), so it gates nothing") in " ".join(r.output.split()), r.output
    assert "did not score" not in cli.invoke(app, ["check", str(bad), "--baseline", str(base), *loose]).output
    r = cli.invoke(app, ["check", str(good), "--baseline", str(tmp_path / "other.json"), "--update", "--tolerance", "psnr=1"])
    assert r.exit_code == 0 and "--tolerance is not stored in the baseline; give it to each check" in " ".join(r.output.split())
    # from Python, tolerances as the command takes them or as a dict, each checked alike: a str had
    # ended in an AttributeError, and a dict's misspelt metric or negative value went unchecked
    from inpaintbench.check import check
    from inpaintbench.errors import InputError

    strings = [t for t in loose if t != "--tolerance"]
    as_dict = {t.split("=")[0]: float(t.split("=")[1]) for t in strings}
    assert not any(r["regressed"] for r in check(bad, base, strings)) and not any(r["regressed"] for r in check(bad, base, as_dict))
    assert any(r["regressed"] for r in check(bad, base, "psnr=1000"))  # one, as a str: the others at their defaults
    for tol, message in (({"pnsr": 1}, "--tolerance 'pnsr': no such metric"), ({"psnr": -1}, "'psnr=-1': a tolerance is a number at least 0"),
                         ({"FID": 2}, r"^--tolerance 'FID': no such metric \(did you mean 'fid'\?\); metrics: psnr, "),
                         ({"psnr": "x"}, "expects METRIC=NUMBER, got 'psnr=x'")):
        with pytest.raises(InputError, match=message):
            check(bad, base, tol)
    for command in (["report", str(bad)], ["compare", str(good), str(bad)]):  # and so would report and compare
        r = cli.invoke(app, [*command, "--metrics", "psnr", "--metrics", "pnsr"])
        assert r.exit_code == 2 and "--metrics 'pnsr': no such metric" in " ".join(r.output.split()), r.output
    b["protocol"] = "ib0-deadbeef"
    base.write_text(json.dumps(b))
    r = cli.invoke(app, ["check", str(bad), "--baseline", str(base)])
    assert r.exit_code == 2 and "protocol" in r.output
    r = cli.invoke(app, ["check", str(bad), "--baseline", str(tmp_path / "none.json")])
    assert r.exit_code == 2 and "no baseline" in r.output


def test_the_default_baseline_missing_names_the_folder_it_was_looked_for_in(tmp_path, monkeypatch):
    """The default, reports/baseline.json, is relative: run from outside the checkout it said only
    "no baseline; make one with --update", which would have made one in that folder."""
    run_dir = _run("telea", tmp_path / "run")
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["check", str(run_dir)])
    assert r.exit_code == 2, r.output
    assert f"reports/baseline.json (in {tmp_path}): no baseline; give --baseline FILE" in " ".join(r.output.split()), r.output


def test_a_baseline_of_another_method_or_no_baseline_at_all_is_named_and_update_writes_over_baselines_only(tmp_path):
    """A baseline with merge-conflict markers ended in a JSONDecodeError traceback; a run's
    manifest.json given as --baseline was refused as a baseline of method None, and --update wrote
    over it; a run of another method was told to `--update`, which would replace the other
    method's baseline, and a refusal named one difference of several."""
    cli = CliRunner()
    said = lambda r: " ".join(r.output.split())
    good, blurred = _run("telea", tmp_path / "good"), _run("blurred-telea", tmp_path / "blurred")
    base = tmp_path / "baseline.json"
    r = cli.invoke(app, ["check", str(good), "--baseline", str(base), "--update"])
    assert r.exit_code == 0 and f"baseline written to {base}: telea on demo" == said(r), r.output
    r = cli.invoke(app, ["check", str(blurred), "--baseline", str(base)])
    assert r.exit_code == 2 and "method 'telea'; this run has method 'blurred-telea'" in said(r), r.output
    assert "give this run its own with --baseline FILE --update" in said(r) and "use --update" not in said(r)
    b = json.loads(base.read_text())
    b.update(evaluated_images=3, masks="other@123")
    base.write_text(json.dumps(b))
    r = cli.invoke(app, ["check", str(good), "--baseline", str(base)])
    assert r.exit_code == 2 and ("baseline was made with evaluated_images 3, masks 'other@123'; this run has "
                                 "evaluated_images 2, masks 'irregular256@") in said(r), r.output
    assert "use --update to make a new baseline deliberately" in said(r)
    r = cli.invoke(app, ["check", str(blurred), "--baseline", str(base), "--update"])
    assert r.exit_code == 0 and said(r).endswith("blurred-telea on demo (replacing the baseline of telea on demo)"), r.output
    conflicted = "<<<<<<< HEAD\n" + base.read_text() + "=======\n{}\n>>>>>>> branch\n"
    base.write_text(conflicted)
    r = cli.invoke(app, ["check", str(blurred), "--baseline", str(base)])
    assert r.exit_code == 2 and f"{base}: not JSON (line 1: Expecting value); it holds merge-conflict markers" in said(r), r.output
    assert cli.invoke(app, ["check", str(blurred), "--baseline", str(base), "--update"]).exit_code == 0
    assert json.loads(base.read_text())["method"] == "blurred-telea"
    manifest = good / "manifest.json"
    before = manifest.read_bytes()
    for extra in ([], ["--update"]):
        r = cli.invoke(app, ["check", str(good), "--baseline", str(manifest), *extra])
        assert r.exit_code == 2 and f"{manifest}: a run's manifest, not a baseline" in said(r), r.output
    assert manifest.read_bytes() == before
    (tmp_path / "other.json").write_text('{"method": "telea"}')
    r = cli.invoke(app, ["check", str(good), "--baseline", str(tmp_path / "other.json")])
    assert r.exit_code == 2 and "not a baseline (no method and dataset by name with metrics per bucket)" in said(r)


def test_a_metric_that_became_nan_is_a_regression():
    from inpaintbench.check import compare

    head = {"protocol": "p", "dataset": "d", "evaluated_images": 2, "masks": "m", "method": "x"}
    base = {**head, "metrics": {"10-20": {"psnr": 30.0, "ssim": 0.9}}}
    rows = compare({**head, "metrics": {"10-20": {"psnr": float("nan"), "ssim": 0.95}}}, base, {})
    assert [(r["metric"], r["regressed"]) for r in rows] == [("psnr", True), ("ssim", False)]
    assert rows[0]["why"] == "now NaN"
    # a metric NaN in the baseline too (nothing to compare) is not a regression
    nan_base = {**head, "metrics": {"10-20": {"psnr": float("nan")}}}
    assert not compare({**head, "metrics": {"10-20": {"psnr": float("nan")}}}, nan_base, {})[0]["regressed"]


def test_a_run_stopped_before_its_end_fails_the_gate(tmp_path):
    """Same images, fewer pairs in a bucket (a killed run): its means are over other pairs, and
    with one pair of two they passed within tolerance."""
    good = _run("telea", tmp_path / "good")
    base = tmp_path / "baseline.json"
    cli = CliRunner()
    assert cli.invoke(app, ["check", str(good), "--baseline", str(base), "--update"]).exit_code == 0
    assert json.loads(base.read_text())["pairs"] == {"10-20": 2, "40-50": 2}
    recs = (good / "records.jsonl").read_text().splitlines(keepends=True)
    (good / "records.jsonl").write_text("".join(r for r in recs if not ('"40-50"' in r and '"image_index": 1' in r)))
    loose = sum([["--tolerance", f"{m}=1000"] for m in ("psnr", "ssim", "l1", "l2", "psnr_hole", "ssim_hole", "l1_hole", "l2_hole")], [])
    r = cli.invoke(app, ["check", str(good), "--baseline", str(base), *loose])
    assert r.exit_code == 1 and "1 pair scored, the baseline has 2" in " ".join(r.output.split()), r.output
    # nor can such a run become the baseline (every whole run would then fail on its pair counts)
    r = cli.invoke(app, ["check", str(good), "--baseline", str(tmp_path / "new.json"), "--update"])
    assert r.exit_code == 2 and "telea is UNFINISHED (3 of 4 pairs scored" in " ".join(r.output.split()), r.output
    assert not (tmp_path / "new.json").exists()
    # a baseline written before pairs were recorded still gates on the metrics alone
    b = json.loads(base.read_text())
    del b["pairs"]
    base.write_text(json.dumps(b))
    assert cli.invoke(app, ["check", str(good), "--baseline", str(base), *loose]).exit_code == 0


def test_a_run_scored_by_other_network_weights_is_refused(tmp_path):
    """The baseline named no network: a run scored with --fid-network inception-pytorch-fid (or
    other VGG16 weights) was gated against TF-Inception numbers as if they were the same metric."""
    good = _run("telea", tmp_path / "good")
    manifest = json.loads((good / "manifest.json").read_text())
    manifest["metrics"] = {"networks": {"fid": {"network": "inception-tf", "sha256": "a" * 64}}, "unavailable": {}}
    (good / "manifest.json").write_text(json.dumps(manifest))
    base, cli = tmp_path / "baseline.json", CliRunner()
    assert cli.invoke(app, ["check", str(good), "--baseline", str(base), "--update"]).exit_code == 0
    assert json.loads(base.read_text())["networks"] == {"fid": ["a" * 64]}
    assert cli.invoke(app, ["check", str(good), "--baseline", str(base)]).exit_code == 0
    manifest["metrics"]["networks"]["fid"]["sha256"] = "b" * 64
    (good / "manifest.json").write_text(json.dumps(manifest))
    r = cli.invoke(app, ["check", str(good), "--baseline", str(base)])
    assert r.exit_code == 2 and "the baseline's fid numbers come from network weights sha256 aaaaaaaaaaaa, this run's from bbbbbbbbbbbb" in " ".join(r.output.split()), r.output


def test_a_run_over_another_list_of_images_is_refused(tmp_path):
    """A folder dataset with one file swapped for another has as many images, and was gated as the
    same data: the numbers moved for the images, not the method."""
    good = _run("telea", tmp_path / "good")
    base, cli = tmp_path / "baseline.json", CliRunner()
    assert cli.invoke(app, ["check", str(good), "--baseline", str(base), "--update"]).exit_code == 0
    assert len(json.loads(base.read_text())["ids_sha256"]) == len(json.loads(base.read_text())["evaluated_ids_sha256"]) == 64
    assert cli.invoke(app, ["check", str(good), "--baseline", str(base)]).exit_code == 0
    manifest = json.loads((good / "manifest.json").read_text())
    # a file added past the images a --limit run scored: the same pairs, checked alike
    manifest["dataset"]["ids_sha256"] = "c" * 64
    (good / "manifest.json").write_text(json.dumps(manifest))
    assert cli.invoke(app, ["check", str(good), "--baseline", str(base)]).exit_code == 0
    manifest["dataset"]["evaluated_ids_sha256"] = "c" * 64  # one of the scored images another file
    (good / "manifest.json").write_text(json.dumps(manifest))
    r = cli.invoke(app, ["check", str(good), "--baseline", str(base)])
    assert r.exit_code == 2 and "another list of the dataset's images" in " ".join(r.output.split()), r.output
    # a run made before the evaluated images were hashed: the whole list decides
    del manifest["dataset"]["evaluated_ids_sha256"]
    (good / "manifest.json").write_text(json.dumps(manifest))
    r = cli.invoke(app, ["check", str(good), "--baseline", str(base)])
    assert r.exit_code == 2 and "another list of the dataset's images" in " ".join(r.output.split()), r.output
    del manifest["dataset"]["ids_sha256"]  # ... and one made before the list was hashed is taken at its word
    (good / "manifest.json").write_text(json.dumps(manifest))
    assert cli.invoke(app, ["check", str(good), "--baseline", str(base)]).exit_code == 0


def test_a_baseline_of_another_size_is_refused_by_its_size(tmp_path):
    """A run at --size 96 against the committed 256-px baseline was refused with two protocol ids
    ('ib1-c432ae1b' vs another), which do not say what differs; baselines made before they recorded
    the size are known to be 256 by the default protocol's id."""
    from PIL import Image

    from inpaintbench.masks.build import generate_set
    from inpaintbench.paths import REPO_ROOT

    generate_set(tmp_path / "m96", per_bucket=1, size=96)
    (tmp_path / "photos").mkdir()
    Image.new("RGB", (96, 96), (90, 120, 30)).save(tmp_path / "photos" / "a.png")
    run(RunConfig(method="telea", dataset="folder", data_root=str(tmp_path / "photos"), masks=str(tmp_path / "m96"),
                  size=96, buckets=["30-40"], deep_metrics=False), tmp_path / "r96", log=lambda s: None)
    committed = json.loads((REPO_ROOT / "reports" / "baseline.json").read_text())
    assert committed["protocol"] == "ib1-c432ae1b"
    legacy = tmp_path / "legacy.json"  # as the committed one was until it was regenerated with eval_size
    legacy.write_text(json.dumps({k: v for k, v in committed.items() if k != "eval_size"}))
    recorded = tmp_path / "recorded.json"
    recorded.write_text(json.dumps({**committed, "eval_size": 256}))
    for baseline in (legacy, recorded):
        r = CliRunner().invoke(app, ["check", str(tmp_path / "r96"), "--baseline", str(baseline)])
        assert r.exit_code == 2 and "baseline was scored at 256x256, this run at 96x96 (`run --size`)" in " ".join(r.output.split())
    base = tmp_path / "b96.json"
    assert CliRunner().invoke(app, ["check", str(tmp_path / "r96"), "--baseline", str(base), "--update"]).exit_code == 0
    assert json.loads(base.read_text())["eval_size"] == 96
    assert CliRunner().invoke(app, ["check", str(tmp_path / "r96"), "--baseline", str(base)]).exit_code == 0


def test_a_run_over_the_same_files_cropped_otherwise_is_refused(tmp_path):
    """`--resize center-crop` against a baseline made with resize-crop scores other ground truth from
    the same files; it was gated as the same data."""
    from PIL import Image
    from skimage import data as skdata

    (tmp_path / "photos").mkdir()
    Image.fromarray(skdata.coffee()).save(tmp_path / "photos" / "coffee.png")
    common = {"method": "telea", "dataset": "folder", "data_root": str(tmp_path / "photos"), "buckets": ["10-20"], "deep_metrics": False}
    run(RunConfig(**common), tmp_path / "rc", log=lambda s: None)
    run(RunConfig(resize="center-crop", **common), tmp_path / "cc", log=lambda s: None)
    base, cli = tmp_path / "baseline.json", CliRunner()
    assert cli.invoke(app, ["check", str(tmp_path / "rc"), "--baseline", str(base), "--update"]).exit_code == 0
    assert json.loads(base.read_text())["resize"] == "resize-crop"
    assert cli.invoke(app, ["check", str(tmp_path / "rc"), "--baseline", str(base)]).exit_code == 0
    r = cli.invoke(app, ["check", str(tmp_path / "cc"), "--baseline", str(base)])
    assert r.exit_code == 2 and "baseline was made with resize 'resize-crop'; this run has resize 'center-crop'" \
        in " ".join(r.output.split()), r.output


def test_a_run_over_images_edited_since_the_baseline_is_refused(tmp_path):
    """A folder image edited (or replaced under its name) after the baseline was made: the same list
    of names, so the run was gated as the same data and its numbers moved for the pixels."""
    from PIL import Image
    from skimage import data as skdata

    (tmp_path / "photos").mkdir()
    for name in ("coffee", "astronaut"):
        Image.fromarray(getattr(skdata, name)()).save(tmp_path / "photos" / f"{name}.png")
    common = {"method": "telea", "dataset": "folder", "data_root": str(tmp_path / "photos"), "buckets": ["10-20"], "deep_metrics": False}
    run(RunConfig(**common), tmp_path / "before", log=lambda s: None)
    base, cli = tmp_path / "baseline.json", CliRunner()
    assert cli.invoke(app, ["check", str(tmp_path / "before"), "--baseline", str(base), "--update"]).exit_code == 0
    Image.open(tmp_path / "photos" / "coffee.png").rotate(180).save(tmp_path / "photos" / "coffee.png")
    run(RunConfig(**common), tmp_path / "after", log=lambda s: None)
    r = cli.invoke(app, ["check", str(tmp_path / "after"), "--baseline", str(base)])
    assert r.exit_code == 2 and "the baseline was made over other pixels of the same images" in " ".join(r.output.split()), r.output
    assert cli.invoke(app, ["check", str(tmp_path / "before"), "--baseline", str(base)]).exit_code == 0


def test_an_update_that_fills_the_disk_leaves_the_baseline_as_it_was(tmp_path, monkeypatch):
    """--update wrote the baseline in place: a full disk part way left CI's reference half written."""
    import errno
    import io

    from inpaintbench import lock
    from inpaintbench.check import check

    good = _run("telea", tmp_path / "good")
    base = tmp_path / "baseline.json"
    check(good, base, update=True, log=lambda s: None)
    before = base.read_bytes()

    class FullDisk(io.FileIO):
        def write(self, b):
            super().write(bytes(b)[:100])  # what fitted
            raise OSError(errno.ENOSPC, "No space left on device")

    # where the baseline is written (write_atomic)
    monkeypatch.setattr(lock, "open", lambda path, mode, *a, **k: FullDisk(path, "w"), raising=False)
    with pytest.raises(OSError, match="No space left"):
        check(good, base, update=True, log=lambda s: None)
    assert base.read_bytes() == before and [p.name for p in tmp_path.iterdir() if p.is_file()] == ["baseline.json"]


def test_a_folder_of_runs_or_a_reports_folder_given_to_check_or_compare_names_its_runs(tmp_path):
    """`check runs/demo` (the demo's --out) and `compare reports/demo RUN` said "not a run directory
    (no manifest.json); make one with `inpaintbench run`", of a folder holding ten runs."""
    runs = tmp_path / "demo"
    _run("telea", runs / "telea")
    _run("navier-stokes", runs / "navier-stokes")
    report = tmp_path / "report"
    (report / "runs").mkdir(parents=True)
    (runs / "telea").rename(report / "runs" / "telea")
    _run("telea", runs / "telea")
    cli = CliRunner()
    for args in (["check", str(runs)], ["compare", str(runs), str(runs / "telea")], ["compare", str(runs / "telea"), str(runs)]):
        r = cli.invoke(app, args)
        assert r.exit_code == 2 and (f"error: {runs}: a folder of 2 runs (telea, navier-stokes), not one run: give one "
                                     f"run's folder, as {runs / 'telea'}") in " ".join(r.output.split()), r.output
    r = cli.invoke(app, ["check", str(report)])
    assert r.exit_code == 2 and (f"error: {report}: not one run; its runs/ holds 1 run (telea): give one run's "
                                 f"folder, as {report / 'runs' / 'telea'}") in " ".join(r.output.split()), r.output
    r = cli.invoke(app, ["check", str(tmp_path / "nothing")])  # the plain refusal where there are no runs at all
    assert "not a run directory (no manifest.json); make one with `inpaintbench run`" in " ".join(r.output.split()), r.output


def test_a_runs_file_or_a_run_sent_as_an_archive_is_named_as_such(tmp_path):
    """`report RUN/records.jsonl` (or its manifest.json), and a colleague's runs.tar.gz given as it
    came, were each "not a run directory (no manifest.json); make one with `inpaintbench run`"."""
    import tarfile

    run_dir = tmp_path / "telea"
    _run("telea", run_dir)
    with tarfile.open(tmp_path / "runs.tar.gz", "w:gz") as t:
        t.add(run_dir, "runs/telea")
    cli = CliRunner()
    for name in ("records.jsonl", "manifest.json"):
        for args in (["report", str(run_dir / name)], ["check", str(run_dir / name)],
                     ["compare", str(run_dir / name), str(run_dir)]):
            r = cli.invoke(app, args)
            assert r.exit_code == 2 and (f"error: {run_dir / name}: a file of the run {run_dir}; give the run's folder, "
                                         f"{run_dir}") in " ".join(r.output.split()), r.output
    r = cli.invoke(app, ["report", str(tmp_path / "runs.tar.gz")])
    assert r.exit_code == 2 and (f"error: {tmp_path / 'runs.tar.gz'}: a tar archive, not a run's folder: unpack it first "
                                 f"(`tar xf {tmp_path / 'runs.tar.gz'}`)") in " ".join(r.output.split()), r.output
