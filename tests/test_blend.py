import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from inpaintbench.blend import blend_fill, poisson_fill
from inpaintbench.errors import InputError
from inpaintbench.report import caption_for, load_runs
from inpaintbench.cli import app
from inpaintbench.runner import RECORDS, read_records, run
from tests.test_runner import MeanFill, cfg


def _holes(rng, h=40, w=48):
    """An irregular hole that touches the image border, as the mask set's strokes do."""
    hole = np.zeros((h, w), bool)
    hole[5:30, 0:20] = True
    hole[12:14, :] = True
    hole[rng.random((h, w)) < 0.08] = True
    return hole


def test_fill_with_the_ground_truths_gradients_gives_the_ground_truth():
    # a fill off by a constant level everywhere has the right gradients: blending must remove the step
    rng = np.random.default_rng(0)
    gt = rng.random((3, 40, 48))
    hole = _holes(rng)
    out = poisson_fill(gt + 0.2, gt * ~hole, hole)
    np.testing.assert_allclose(out, gt, atol=1e-9)


def test_constant_fill_between_two_known_rows_is_the_straight_line():
    # hand-computed: rows 1..5 unknown across the whole width, a above and b below; a flat fill has
    # no gradients and the side borders add no terms, so every column is a + (b - a) * i / 6
    a, b = 0.2, 0.8
    known = np.zeros((1, 7, 5))
    known[0, 0], known[0, 6] = a, b
    hole = np.zeros((7, 5), bool)
    hole[1:6] = True
    out = poisson_fill(np.full((1, 7, 5), 0.5), known, hole)
    np.testing.assert_allclose(out[0, :, 2], a + (b - a) * np.arange(7) / 6, atol=1e-12)
    assert np.ptp(out[0], axis=1).max() < 1e-12


def test_solution_is_the_minimum_of_the_poisson_energy():
    # independent of how the system is assembled: the gradient of
    # E(x) = sum over 4-neighbour pairs touching the hole of ((x_p - x_q) - (f_p - f_q))^2
    # with respect to the hole pixels must vanish at the returned image
    rng = np.random.default_rng(1)
    fill, known = rng.random((2, 40, 48)), rng.random((2, 40, 48))
    hole = _holes(rng)
    out = poisson_fill(fill, known * ~hole, hole)
    np.testing.assert_array_equal(out[:, ~hole], (known * ~hole)[:, ~hole])
    x = torch.tensor(out, requires_grad=True)
    f, m = torch.tensor(fill), torch.tensor(hole)
    energy = 0
    for axis in (1, 2):
        dx, df = torch.diff(x, dim=axis), torch.diff(f, dim=axis)
        touch = (m[1:] | m[:-1]) if axis == 1 else (m[:, 1:] | m[:, :-1])
        energy = energy + (((dx - df) ** 2) * touch).sum()
    energy.backward()
    assert x.grad[:, m].abs().max() < 1e-9
    assert x.grad[:, ~m].abs().max() > 1e-3  # known pixels are held, not solved for


def test_batch_blend_keeps_known_pixels_and_clips():
    rng = np.random.default_rng(2)
    gt = torch.tensor(rng.random((2, 3, 40, 48)), dtype=torch.float32)
    hole = torch.tensor(np.stack([_holes(rng), np.zeros((40, 48), bool)]))[:, None].float()
    masked = gt * (1 - hole)
    fill = (gt * 4 - 1.5).clamp(0, 1)  # steep gradients: the solution overshoots [0, 1] unless clipped
    out = blend_fill("poisson", fill, masked, hole)
    assert out.shape == gt.shape and out.dtype == torch.float32
    assert 0 <= float(out.min()) and float(out.max()) <= 1
    known = hole == 0
    assert torch.equal(out[known.expand_as(out)], masked[known.expand_as(out)])  # the method's known pixels are dropped
    assert not torch.equal(out[0], fill[0])
    assert torch.equal(blend_fill("none", fill, masked, hole), fill)
    with pytest.raises(InputError, match="unknown blend"):
        blend_fill("laplace", fill, masked, hole)


def test_blended_run_is_its_own_named_row(tmp_path):
    plain, blended = tmp_path / "plain", tmp_path / "blended"
    run(cfg(), plain, log=lambda s: None)
    run(cfg(blend="poisson"), blended, log=lambda s: None)
    a, b = read_records(plain / RECORDS), read_records(blended / RECORDS)
    assert {r["method"] for r in b} == {"meanfill+poisson"}
    # a flat fill blended is a membrane over the hole's border: far better than the flat colour
    assert all(rb["psnr"] > ra["psnr"] for ra, rb in zip(a, b))
    manifest = json.loads((blended / "manifest.json").read_text())
    assert manifest["config"]["blend"] == "poisson" and manifest["config_identity"]["blend"] == "poisson"
    assert "meanfill+poisson (method meanfill, weights: none, fill blended: poisson)" in caption_for(load_runs([blended])[1])
    with pytest.raises(InputError, match="different method"):
        run(cfg(), blended, log=lambda s: None)
    with pytest.raises(InputError, match="--blend must be one of"):
        run(cfg(blend="laplace"), tmp_path / "bad", log=lambda s: None)


def test_demo_runs_blended_entries_as_their_own_runs(tmp_path):
    MeanFill.calls = 0
    res = CliRunner().invoke(app, ["demo", "--method", "meanfill", "--method", "meanfill+poisson", "--limit", "1",
                                   "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    # 6 pairs, one batch, computed once for both runs (the blended run reuses the plain run's outputs:
    # 2 without), and once for each of the report's 2 grids, shared by both runs' columns (2 each without)
    assert MeanFill.calls == 1 + 2
    manifest = json.loads((tmp_path / "meanfill+poisson" / "manifest.json").read_text())
    assert (manifest["config"]["method"], manifest["config"]["blend"]) == ("meanfill", "poisson")
    header = (tmp_path / "table1.md").read_text().splitlines()[2]
    assert "| meanfill " in header and "| meanfill+poisson " in header
    # a name given twice ran twice into one folder, then the report refused "appears in more than one run directory"
    res = CliRunner().invoke(app, ["demo", "--method", "meanfill", "--method", "meanfill", "--limit", "1",
                                   "--out", str(tmp_path / "twice")])
    assert res.exit_code == 2 and "--method gives meanfill more than once" in res.output and not (tmp_path / "twice").exists()
    # the demo's runs take --device (they ran on the CPU whatever the machine had)
    assert manifest["config"]["device"] == "cpu"
    res = CliRunner().invoke(app, ["demo", "--method", "meanfill", "--limit", "1", "--device", "cuda:99",
                                   "--out", str(tmp_path / "gpu")])
    assert res.exit_code == 2 and "--device cuda:99: PyTorch sees" in " ".join(res.output.split()), res.output


def test_a_shorter_demo_into_a_longer_ones_folder_says_what_the_demo_takes(tmp_path):
    """`demo --limit 1` after a `--limit 2` demo was refused with run's advice, "give a --limit and
    --buckets that cover them": the demo takes no --buckets."""
    res = CliRunner().invoke(app, ["demo", "--method", "meanfill", "--limit", "2", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["demo", "--method", "meanfill", "--limit", "1", "--out", str(tmp_path)])
    assert res.exit_code == 2 and res.output == (f"error: {tmp_path / 'meanfill'} holds a demo of 2 images, more than "
                                                 f"--limit 1: --limit 2 or more resumes it (none: all 32); a smaller "
                                                 f"look takes another --out\n"), res.output


def test_run_takes_a_run_name_for_its_method(tmp_path):
    """`run --method meanfill+poisson` is `--method meanfill --blend poisson` (a report column's name
    typed back); a contradicting flag and a misordered name are refused."""
    res = CliRunner().invoke(app, ["run", "--method", "meanfill+poisson", "--limit", "1", "--buckets", "10-20",
                                   "--no-deep-metrics", "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    config = json.loads((tmp_path / "r" / "manifest.json").read_text())["config"]
    assert (config["method"], config["blend"], config["self_ensemble"]) == ("meanfill", "poisson", "none")
    assert {r["method"] for r in read_records(tmp_path / "r" / RECORDS)} == {"meanfill+poisson"}
    res = CliRunner().invoke(app, ["run", "--method", "meanfill", "--blend", "none", "--self-ensemble", "hflip", "--limit", "1",
                                   "--buckets", "10-20", "--no-deep-metrics", "--out", str(tmp_path / "plain")])
    assert res.exit_code == 0, res.output
    config = json.loads((tmp_path / "plain" / "manifest.json").read_text())["config"]
    assert (config["method"], config["blend"], config["self_ensemble"]) == ("meanfill", "none", "hflip")
    for argv, message in ((["--method", "meanfill+poisson", "--blend", "laplace"], "says poisson, --blend says laplace"),
                          # `none` given is a contradiction too (it was the flag's default, and so kept the poisson)
                          (["--method", "meanfill+poisson", "--blend", "none"], "says poisson, --blend says none"),
                          (["--method", "meanfill+hflip", "--self-ensemble", "none"], "says hflip, --self-ensemble says none"),
                          (["--method", "meanfill+poisson+hflip"], "self-ensemble comes before the blend")):
        res = CliRunner().invoke(app, ["run", *argv, "--limit", "1", "--out", str(tmp_path / "bad")])
        assert res.exit_code == 2 and message in " ".join(res.output.split()), res.output
        assert not (tmp_path / "bad").exists()


def test_runs_sharing_a_memo_compute_each_input_once_and_score_as_alone(tmp_path, monkeypatch):
    """The demo's rwconv, rwconv+poisson and rwconv+hflip+poisson ran the network four times on
    the same inputs; with one memo the method runs once per distinct input, and every run's
    records equal those of the same run alone, their seconds per image included."""
    import time

    from inpaintbench.runner import Memo

    fill = MeanFill.inpaint

    def slow_fill(self, masked, hole):
        time.sleep(0.02)
        return fill(self, masked, hole)

    monkeypatch.setattr(MeanFill, "inpaint", slow_fill)
    memo = Memo()
    MeanFill.calls = 0
    run(cfg(), tmp_path / "plain", log=lambda s: None, memo=memo)
    batches = MeanFill.calls  # 9 pairs at batch 2
    run(cfg(blend="poisson"), tmp_path / "blended", log=lambda s: None, memo=memo)
    assert MeanFill.calls == batches  # the same inputs: nothing computed again
    # a reused output counts the time it took (0.02 s per batch of 2): the run's time is its own
    assert min(r["seconds"] for r in read_records(tmp_path / "blended" / RECORDS)) >= 0.01
    run(cfg(self_ensemble="hflip", blend="poisson"), tmp_path / "both", log=lambda s: None, memo=memo)
    assert MeanFill.calls == 2 * batches  # the mirrored inputs only
    run(cfg(limit=2, buckets=["10-20"]), tmp_path / "other", log=lambda s: None, memo=memo)
    assert MeanFill.calls == 2 * batches + 1  # other masks: computed, not another pair's output
    for name, kw in (("blended", dict(blend="poisson")), ("both", dict(self_ensemble="hflip", blend="poisson")),
                     ("other", dict(limit=2, buckets=["10-20"]))):
        run(cfg(**kw), tmp_path / f"{name}-alone", log=lambda s: None)
        shared, alone = (read_records(tmp_path / d / RECORDS) for d in (name, f"{name}-alone"))
        assert [(r["image_id"], r["mask_file"], r["psnr"], r["ssim"]) for r in shared] == \
               [(r["image_id"], r["mask_file"], r["psnr"], r["ssim"]) for r in alone], name
