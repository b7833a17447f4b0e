import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
import pytest
import torch
import torch.nn.functional as F

from inpaintbench.errors import InputError
from inpaintbench.metrics.backbones import VGG16Pools
from methods.rwconv.losses import gram_channels, gram_positions, reconstruction_loss, seam_loss
from methods.rwconv.method import RegionWise, load_model
from methods.rwconv.model import RegionWiseConv, RegionWiseInpainter, RWConfig
from methods.rwconv.train import RWTrainConfig, train
from methods.training.loss_network import EfficientNetLite0Taps, load_loss_network
from methods.training.trainer import export_weights, load_checkpoint, lr_factor

from .conftest import held_out

REPO = Path(__file__).resolve().parents[1]


def conv_params(cin, cout, k=3):
    return cin * k * k * cout + cout


def test_parameter_count_equals_the_layer_list():
    c = 32
    encoder = (conv_params(4, c, 5) + conv_params(c, 2 * c) + conv_params(2 * c, 2 * c) + conv_params(2 * c, 4 * c)
               + 6 * conv_params(4 * c, 4 * c) + 2 * conv_params(8 * c, 4 * c))
    sinet = encoder + conv_params(8 * c + 4 * c, 4 * c) + 2 * conv_params(6 * c + 4 * c, 4 * c) \
        + conv_params(4 * c, c) + conv_params(c, c // 2) + conv_params(c // 2, 3)
    gpnet = encoder + conv_params(8 * c, 2 * c) + conv_params(4 * c, 2 * c) + conv_params(4 * c, c) \
        + conv_params(2 * c, c // 2) + conv_params(c // 2, 3)
    model = RegionWiseInpainter(RWConfig(cnum=32))
    n = lambda m: sum(p.numel() for p in m.parameters())
    print(f"rwconv cnum=32: SINet {n(model.sinet):,}  GPNet {n(model.gpnet):,}  total {n(model):,}")
    assert (n(model.sinet), n(model.gpnet)) == (sinet, gpnet)
    assert n(model) == 4_706_054  # "about 4.7 M" (REFERENCE.md s1)


def test_region_wise_conv_applies_separate_filters_per_region():
    torch.manual_seed(0)
    layer = RegionWiseConv(c_known=3, c_missing=2, cout=4)
    known, missing = torch.randn(1, 3, 12, 12), torch.randn(1, 2, 12, 12)
    m = torch.ones(1, 1, 12, 12)
    m[..., :, 6:] = 0  # right half missing
    with torch.no_grad():
        out = layer(known, missing, m)
        out2 = layer(known + 5, missing, m)
    w, b = layer.conv.conv.weight.detach(), layer.conv.conv.bias.detach()
    # a window entirely in the known region: W (first 3 input channels) on known features only
    y, x = 5, 2
    win = known[0, :, y - 1 : y + 2, x - 1 : x + 2]
    assert torch.allclose(out[0, :, y, x], F.elu((w[:, :3] * win).sum(dim=(1, 2, 3)) + b), atol=1e-5)
    # a window entirely in the missing region: W_hat (last 2) on missing features only
    y, x = 5, 9
    win = missing[0, :, y - 1 : y + 2, x - 1 : x + 2]
    assert torch.allclose(out[0, :, y, x], F.elu((w[:, 3:] * win).sum(dim=(1, 2, 3)) + b), atol=1e-5)
    # the missing-region output ignores the skip/known features entirely
    assert torch.allclose(out2[..., 2:10, 8:11], out[..., 2:10, 8:11])


def test_forward_keeps_known_pixels_and_checks_shapes():
    model = RegionWiseInpainter(RWConfig(cnum=4)).eval()
    img = torch.rand(2, 3, 128, 128)
    hole = torch.zeros(2, 1, 128, 128)
    hole[..., 30:70, 40:90] = 1
    out = model(img, hole)
    known = (1 - hole).bool().expand_as(img)
    assert torch.allclose(((out["c2"] + 1) / 2)[known], img[known], atol=1e-6)
    assert out["p2"].abs().max() <= 1
    with pytest.raises(ValueError, match="divisible by 4"):
        model(torch.rand(1, 3, 130, 130), torch.zeros(1, 1, 130, 130))
    # 64 px leaves a 16-px map at 1/4 scale, which the dilation-16 reflect pad cannot take (torch's
    # own error names neither the image nor the limit); 68 is the least that runs
    with pytest.raises(ValueError, match="under 68 px"):
        model(torch.rand(1, 3, 64, 128), torch.zeros(1, 1, 64, 128))
    assert model(torch.rand(1, 3, 68, 68), torch.zeros(1, 1, 68, 68))["c2"].shape == (1, 3, 68, 68)
    with pytest.raises(ValueError, match="hole must be"):
        model(img, torch.zeros(2, 1, 64, 64))


def test_ablation_variants_are_settings_of_the_same_code():
    n = lambda m: sum(p.numel() for p in m.parameters())
    full = RegionWiseInpainter(RWConfig(cnum=8))
    plain = RegionWiseInpainter(RWConfig(cnum=8, region_wise=False))
    coarse = RegionWiseInpainter(RWConfig(cnum=8, coarse_only=True))
    assert coarse.gpnet is None and n(coarse) == n(full.sinet)
    assert n(plain) < n(full)  # standard convs have no missing-region filters
    out = coarse(torch.rand(1, 3, 128, 128), torch.zeros(1, 1, 128, 128))
    assert out["c2"] is out["c1"]


def test_coarse_stage_weights_reproduce_the_full_models_stage_one(tmp_path):
    from methods.rwconv.coarse_stage import coarse_stage

    torch.manual_seed(0)
    full = RegionWiseInpainter(RWConfig(cnum=4)).eval()
    src = export_weights({"nets": {"model": full.state_dict()}, "model_config": full.config.as_dict(), "step": 7},
                         tmp_path / "full.pt")
    full, _ = load_model(src)  # the fp16 round trip on both sides
    full.to(memory_format=torch.channels_last)  # the layout the method holds its network in: the same kernels
    coarse = RegionWise(weights=str(coarse_stage(src, tmp_path / "coarse.pt")))
    assert coarse.model.gpnet is None and coarse.describe()["source"].startswith("coarse stage")
    img, hole = torch.rand(2, 3, 128, 128), (torch.rand(2, 1, 128, 128) > 0.7).float()
    with torch.no_grad():
        want = full(img, hole)
        got = coarse.model(img, hole)
    assert torch.equal(got["c2"], want["c1"]) and not torch.equal(want["c1"], want["c2"])
    with pytest.raises(InputError, match="already holds a coarse-only model"):
        coarse_stage(tmp_path / "coarse.pt", tmp_path / "again.pt")


def test_gram_matrices_by_hand():
    f = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # B=1, C=2, h=1, w=2
    # positions: p0 = (1,3), p1 = (2,4); f_ij = <p_i, p_j> / C
    assert torch.allclose(gram_positions(f)[0], torch.tensor([[10.0, 14.0], [14.0, 20.0]]) / 2)
    # channels: c0 = (1,2), c1 = (3,4); G = <c_a, c_b> / (h w)
    assert torch.allclose(gram_channels(f)[0], torch.tensor([[5.0, 11.0], [11.0, 25.0]]) / 2)


def test_reconstruction_loss_by_hand():
    gt = torch.zeros(1, 3, 2, 2)
    hole = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    out = {"p1": torch.full((1, 3, 2, 2), 0.5), "p2": torch.full((1, 3, 2, 2), 0.25)}
    assert reconstruction_loss(out, gt).item() == pytest.approx(0.75)  # the paper: plain means
    assert reconstruction_loss(out, gt, two_stage=False).item() == pytest.approx(0.5)
    # hole pixel counted 6 times, still divided by 4 pixels: (6 + 3) / 4 of each stage's error
    assert reconstruction_loss(out, gt, True, hole, 6.0).item() == pytest.approx(0.75 * 9 / 4)


def test_seam_loss_by_hand():
    gt = torch.zeros(1, 2, 3, 4)
    hole = torch.zeros(1, 1, 3, 4)
    hole[..., 1, 1] = 1
    comp = gt.clone()
    comp[..., 1, 1] = 0.3
    # one hole pixel: its 4 pairs each differ by 0.3, in both channels
    assert seam_loss(comp, gt, hole).item() == pytest.approx(0.3)
    hole[..., 1, 2] = 1
    comp[..., 1, 2] = 0.3
    # a 1x2 hole filled 0.3 too high: the pair inside it agrees, the 6 across its border do not
    assert seam_loss(comp, gt, hole).item() == pytest.approx(0.3 * 6 / 7)
    # the truth's own gradients cost nothing; a shift of the whole image neither
    gt2 = torch.rand(2, 3, 16, 16)
    hole2 = (torch.rand(2, 1, 16, 16) > 0.7).float()
    assert seam_loss(gt2 + 0.5, gt2, hole2).item() == pytest.approx(0, abs=1e-6)


def test_training_logs_a_seam_term_and_a_resume_keeps_the_log_columns(tmp_path, photo_dir):
    import csv

    train(tiny(tmp_path / "a", photo_dir, steps=10, val_every=0), log=lambda s: None)
    with open(tmp_path / "a" / "train_log.csv", "a") as f:
        f.write("11,0.99")  # a row cut off by a kill or a full disk: the next session's row was glued to it
    logs = []
    train(tiny(tmp_path / "a", photo_dir, steps=20, val_every=0, seam_weight=2.0), log=logs.append)
    assert any("seam_weight 0.0 -> 2.0" in s for s in logs)
    rows = list(csv.DictReader((tmp_path / "a" / "train_log.csv").read_text().splitlines()))
    assert [r["step"] for r in rows] == ["10", "20"] and all(None not in r for r in rows)  # no value without a column
    # the term the resume added has a column of its own, the rows before it empty there (the log file
    # is its only record: the screen shows the bar)
    assert rows[0]["seam"] == "" and float(rows[1]["seam"]) > 0
    assert float(rows[1]["total"]) > float(rows[1]["rec"]) and 0 < float(rows[1]["lr"]) < 1  # not shifted
    ck = load_checkpoint(tmp_path / "a" / "last.pt")
    assert ck["config"]["seam_weight"] == 2.0
    assert not (tmp_path / "a" / "val.csv").exists()  # --val-every 0 validates nothing: it left an empty val.csv


def test_vgg16_is_used_when_its_weights_are_in_the_torch_cache(tmp_path, monkeypatch):
    from torchvision.models import vgg16

    torch.manual_seed(1)
    ref = vgg16(weights=None).eval()
    ckpt = tmp_path / "hub" / "checkpoints" / "vgg16-397923af.pth"
    ckpt.parent.mkdir(parents=True)
    torch.save(ref.state_dict(), ckpt)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    net = load_loss_network("auto")
    assert isinstance(net, VGG16Pools)
    x = torch.rand(1, 3, 64, 64)
    norm = (x - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        assert torch.allclose(net(x)[2], ref.features[:17](norm), atol=1e-5)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    assert isinstance(load_loss_network("auto"), EfficientNetLite0Taps)
    with pytest.raises(FileNotFoundError, match="vgg16-397923af.pth .* --loss-net-weights"):
        load_loss_network("vgg16")


def tiny(out, photo_dir, **kw):
    base = dict(out=str(out), data=[str(photo_dir)], val_data=[str(held_out(photo_dir))], steps=4, batch_size=2, crop=128,
                val_size=128, cnum=4, val_every=2, ckpt_every=1, threads=1)
    base.update(kw)
    return RWTrainConfig(**base)


def test_a_second_trainer_on_a_folder_being_trained_is_refused(tmp_path, photo_dir):
    """Two trainers on one --out both wrote last.pt and the logs, each resuming from the other's steps."""
    from inpaintbench.errors import InputError
    from inpaintbench.lock import exclusive

    out = tmp_path / "t"
    out.mkdir()
    with exclusive(out, "training run"):
        with pytest.raises(InputError, match="another training run is writing there now"):
            train(tiny(out, photo_dir, steps=1), log=lambda s: None)
    assert not (out / "last.pt").exists()
    train(tiny(out, photo_dir, steps=1, val_every=0), log=lambda s: None)
    assert (out / "last.pt").is_file()


@pytest.mark.parametrize("error", [
    torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 4.00 GiB"),
    # the CPU's, a plain RuntimeError: `--crop 1088` asked for 700 GB (the correlation gram is quadratic in positions)
    RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried "
                 "to allocate 700624928768 bytes. Error code 12 (Cannot allocate memory)"),
])
def test_out_of_memory_in_training_says_what_to_change(tmp_path, photo_dir, monkeypatch, capsys, error):
    """A batch too big for the GPU, or a crop too big for the CPU, ended the job in a traceback; it says
    which settings take less and that the run resumes from its last checkpoint."""
    import methods.training.trainer as trainer
    from methods.rwconv.train import RWRecipe

    steps = []

    def step(*a, **k):
        steps.append(1)
        if len(steps) > 1:
            raise error
        return real(*a, **k)

    real = trainer.train_step
    monkeypatch.setattr(trainer, "train_step", step)
    args = ["--out", str(tmp_path / "t"), "--data", str(photo_dir), "--val-data", str(held_out(photo_dir)), "--steps", "3",
            "--batch-size", "2", "--crop", "128", "--val-size", "128", "--cnum", "4", "--val-every", "0", "--ckpt-every", "1"]
    with pytest.raises(SystemExit) as e:
        trainer.main(RWRecipe, args)
    err = " ".join(capsys.readouterr().err.split())
    assert e.value.code == 2 and "error: out of memory on cpu at --batch-size 2, --crop 128; a smaller either needs less, " \
        f"and the same command with it resumes from {tmp_path / 't' / 'last.pt'}" in err, err


def test_a_start_that_fails_prints_its_error_under_no_bar(tmp_path, photo_dir, capsys):
    """Settings pass their check, then a training photo does not decode: the one error line came
    under an empty progress bar ('train rwconv 0/3 0:00:00'), as a refused harness command once did."""

    from methods.rwconv.train import RWRecipe
    from methods.training.trainer import main

    data = tmp_path / "photos"
    shutil.copytree(photo_dir, data)
    (data / "zz_cut.jpg").write_bytes((data / sorted(p.name for p in data.iterdir())[0]).read_bytes()[:3000])
    args = ["--out", str(tmp_path / "t"), "--data", str(data), "--val-data", str(held_out(photo_dir)), "--steps", "3",
            "--batch-size", "2", "--crop", "128", "--val-size", "128", "--cnum", "4", "--val-every", "0"]
    with pytest.raises(SystemExit) as e:
        main(RWRecipe, args)
    err = capsys.readouterr().err
    assert e.value.code == 2 and "zz_cut.jpg: not a readable image" in err
    assert "train rwconv" not in err and err.lstrip().startswith("error:"), err


def test_training_resumes_exactly(tmp_path, photo_dir):
    """Killed during step 3 (after step 2's checkpoint), resumed; with a cosine schedule, so the
    learning rate after the resume must also be the uninterrupted one. The resumed half builds its
    batches in 2 worker processes, the straight run in-process: the weights must still be equal."""
    train(tiny(tmp_path / "straight", photo_dir, lr_schedule="cosine"), log=lambda s: None)

    def kill(step, total, terms):
        if step == 3:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        train(tiny(tmp_path / "split", photo_dir, lr_schedule="cosine"), log=lambda s: None, on_step=kill)
    assert load_checkpoint(tmp_path / "split" / "last.pt")["step"] == 2
    train(tiny(tmp_path / "split", photo_dir, lr_schedule="cosine", workers=2), log=lambda s: None)
    a, b = load_checkpoint(tmp_path / "straight" / "last.pt"), load_checkpoint(tmp_path / "split" / "last.pt")
    assert a["step"] == b["step"] == 4
    # the 4th step ran after 3 of 4 steps: lr * (1 + cos(3 pi / 4)) / 2
    assert a["optims"]["model"]["param_groups"][0]["lr"] == pytest.approx(a["config"]["lr"] * (1 - 0.5**0.5) / 2)
    for k in a["nets"]["model"]:
        assert torch.equal(a["nets"]["model"][k], b["nets"]["model"][k]), k
    assert "setting_changes" not in b  # more workers change nothing that is computed
    assert a["loss_network"]["name"] == "efficientnet-lite0-imagenet"
    assert (tmp_path / "straight" / "val.csv").read_text().count("\n") == 3  # header + steps 2, 4
    with pytest.raises(ValueError, match="trained with"):
        train(tiny(tmp_path / "split", photo_dir, cnum=8, steps=5), log=lambda s: None)


def test_bf16_precision_autocasts_on_cpu_and_keeps_fp32_weights(tmp_path, photo_dir):
    """--precision bf16 must really autocast on a CPU (the weights then differ from an fp32 run of
    the same crops, by little), while the weights and optimiser state stay fp32."""
    runs = {}
    for p in ("fp32", "bf16"):
        train(tiny(tmp_path / p, photo_dir, steps=2, val_every=0, precision=p), log=lambda s: None)
        runs[p] = load_checkpoint(tmp_path / p / "last.pt")
    a, b = runs["fp32"]["nets"]["model"], runs["bf16"]["nets"]["model"]
    assert all(v.dtype == torch.float32 for v in b.values())
    assert runs["bf16"]["optims"]["model"]["state"][0]["exp_avg"].dtype == torch.float32
    torch.manual_seed(0)  # the trainer seeds, then builds the model: this is both runs' start
    init = RegionWiseInpainter(RWConfig(cnum=4)).state_dict()
    moved = sum(float((a[k] - init[k]).abs().sum()) for k in a)
    diff = sum(float((a[k] - b[k]).abs().sum()) for k in a)
    assert 0 < diff < 0.5 * moved, (diff, moved)
    with pytest.raises(ValueError, match="--precision must be one of auto, bf16, fp32, got 'fp8'"):
        train(tiny(tmp_path / "bad", photo_dir, precision="fp8"), log=lambda s: None)


def test_channels_last_and_compile_train_the_same_steps(tmp_path, photo_dir, monkeypatch):
    """--channels-last and --compile (the model and the loss network) change how a step runs, not
    what it computes: the same loss terms step by step and the same weights, saved under the
    model's own keys (a compiled module's would carry an `_orig_mod.` prefix no loader expects) and
    in a layout any model loads."""
    compiled = []
    real = torch.compile

    def compile_with(backend):  # the trainer's call, on a backend that skips the C++ build (minutes on CI)
        def compile(model):
            compiled.append(model)
            return real(model, backend=backend)
        return compile

    def no_compiler(graph, inputs):
        raise RuntimeError("no C++ compiler")

    terms, runs = {}, {}
    # the trainer sets it; restored after by torch's own patch: pytest 9.2's monkeypatch restores an
    # attribute not in the module's __dict__ by deleting it, which hides a torch config entry for
    # good (every later torch.compile in the session then failed)
    with torch._dynamo.config.patch(suppress_errors=False):
        for name, opts, backend in (("eager", {}, None), ("nhwc_compiled", {"channels_last": True, "compile": True}, "aot_eager"),
                                    ("compile_fails", {"compile": True}, no_compiler)):
            monkeypatch.setattr(torch, "compile", compile_with(backend))
            rows = terms[name] = []
            train(tiny(tmp_path / name, photo_dir, steps=3, val_every=0, **opts), log=lambda s: None,
                  on_step=lambda step, total, t: rows.append({k: float(v.detach()) for k, v in t.items()}))
            runs[name] = load_checkpoint(tmp_path / name / "last.pt")
    torch._dynamo.reset()
    # each compiled run compiles the model and, in place (nn.Module.compile), the loss network's
    # call: the recipe keeps the module whose name and hash the checkpoint records (a torch.compile
    # wrapper there would have no truth value: the checkpoint's `loss_net and {...}` raises on one)
    owners = sorted(type(getattr(m, "__self__", m)).__name__ for m in compiled)
    assert owners == ["EfficientNetLite0Taps"] * 2 + ["RegionWiseInpainter"] * 2, owners
    assert all(isinstance(m.__self__, EfficientNetLite0Taps) for m in compiled if hasattr(m, "__self__"))
    for name in ("nhwc_compiled", "compile_fails"):
        net = runs[name]["loss_network"]
        assert net["name"] == "efficientnet-lite0-imagenet" and len(net["weights_sha256"]) == 64, net
    # a failing compiler leaves the run eager (a GPU session's run must not end on it)
    for other in ("nhwc_compiled", "compile_fails"):
        for a, b in zip(terms["eager"], terms[other], strict=True):
            assert a.keys() == b.keys() and all(b[k] == pytest.approx(a[k], rel=1e-4, abs=1e-6) for k in a), (other, a, b)
    a, b = runs["eager"]["nets"]["model"], runs["nhwc_compiled"]["nets"]["model"]
    assert list(a) == list(b)
    assert b["sinet.encoder.conv1.conv.weight"].is_contiguous(memory_format=torch.channels_last)
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-4
    fresh = RegionWiseInpainter(RWConfig(cnum=4))
    fresh.load_state_dict(b)
    assert fresh.sinet.encoder.conv1.conv.weight.is_contiguous()
    # a resume may switch either on or off: they are not settings that change the run
    train(tiny(tmp_path / "nhwc_compiled", photo_dir, steps=4, val_every=0), log=lambda s: None)
    assert load_checkpoint(tmp_path / "nhwc_compiled" / "last.pt")["setting_changes"] == [{"step": 3, "changed": {"steps": [3, 4]}}]


def test_channel_shuffle_permutes_colours_of_the_same_crops_and_holes(photo_dir):
    from methods.training.photos import PhotoPool
    from methods.training.trainer import make_batch

    pool = PhotoPool([str(photo_dir)])
    plain, plain_hole = make_batch(pool, np.random.default_rng(5), RWTrainConfig(), 24, 64)
    shuf, shuf_hole = make_batch(pool, np.random.default_rng(5), RWTrainConfig(shuffle_channels=True), 24, 64)
    assert torch.equal(plain_hole, shuf_hole)
    perms = []
    for a, b in zip(plain, shuf):
        match = [p for p in ([0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]) if torch.equal(a[p], b)]
        assert match, "a shuffled crop is not a channel permutation of the plain one"
        perms.append(tuple(match[0]))
    assert len(set(perms)) > 3  # 24 draws of 6 permutations


def test_a_photo_smaller_than_the_crop_is_enlarged_and_said(tmp_path, photo_dir):
    """A 100x120 photo among 256-px ones used to end training at its first crop (numpy: low >= high);
    now its crop is its whole short side enlarged, the log names it, and the other photos' crops
    are drawn exactly as before."""
    from methods.training.photos import PhotoPool

    rng = np.random.default_rng(0)
    (tmp_path / "photos").mkdir()
    Image.fromarray((rng.random((100, 120, 3)) * 255).astype(np.uint8)).save(tmp_path / "photos" / "small.png")
    pool = PhotoPool([str(tmp_path / "photos" / "small.png")])
    assert [f.name for f in pool.smaller_than(128)] == ["small.png"] and pool.smaller_than(100) == []
    crop = pool.crop(np.random.default_rng(1), 128)
    assert crop.shape == (128, 128, 3)
    squares = [np.asarray(Image.fromarray(pool.photos[0][:, x:x + 100]).resize((128, 128), Image.BICUBIC)) for x in range(21)]
    assert any(np.array_equal(crop, c) or np.array_equal(crop, c[:, ::-1]) for c in squares)  # a whole-height square, enlarged
    big = PhotoPool([str(photo_dir)])
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    for _ in range(5):  # the old draw, written out: side in [size, short side]
        img = big.photos[int(b.integers(len(big.photos)))]
        h, w = img.shape[:2]
        side = int(b.integers(64, min(h, w) + 1))
        y, x = int(b.integers(0, h - side + 1)), int(b.integers(0, w - side + 1))
        old = np.asarray(Image.fromarray(img[y:y + side, x:x + side]).resize((64, 64), Image.BICUBIC)) if side != 64 else img[y:y + 64, x:x + 64]
        old = old[:, ::-1] if b.random() < 0.5 else old
        assert np.array_equal(big.crop(a, 64), old)
    logs = []
    train(tiny(tmp_path / "run", tmp_path / "photos", steps=1, val_every=0), log=logs.append)
    assert any("1 training photo with a short side under --crop" in s and "small.png" in s for s in logs), logs


def test_a_photo_set_name_becomes_its_files_and_a_missing_set_names_its_package(tmp_path):
    from methods.training.photos import DEFAULT_TRAIN_PHOTOS, PHOTO_SETS, PhotoPool

    lomiri = PHOTO_SETS["lomiri-wallpapers-16.04"]
    cfg = RWTrainConfig(data=["mate-backgrounds", "lomiri-wallpapers-16.04", str(tmp_path)])
    assert cfg.data == PHOTO_SETS["mate-backgrounds"] + lomiri + [str(tmp_path)]
    assert RWTrainConfig().data == DEFAULT_TRAIN_PHOTOS and not set(lomiri) & set(DEFAULT_TRAIN_PHOTOS)
    assert len(lomiri) == 14 and all("umang" not in f for f in lomiri)  # the drawing is left out
    opencv = PHOTO_SETS["opencv-doc"]
    assert len(opencv) == 26 and not any(n in f for f in opencv for n in ("starry_night", "aloeR", "leuvenB", "right.jpg"))
    every = sum(PHOTO_SETS.values(), [])
    from methods.training.trainer import field_help
    assert all(k in field_help(RWTrainConfig)["data"] for k in PHOTO_SETS)  # --help names every set
    assert len(every) == len(set(every)) == 264  # no photo in two sets, so a card's count is the photos'
    from methods.training.photos import DEFAULT_VAL_PHOTOS, VAL_PHOTOS, WALLPAPER_VAL_PHOTOS
    assert RWTrainConfig().val_data == DEFAULT_VAL_PHOTOS and len(DEFAULT_VAL_PHOTOS) == 8
    assert DEFAULT_VAL_PHOTOS[:3] == WALLPAPER_VAL_PHOTOS and not set(DEFAULT_VAL_PHOTOS) & set(every)  # held out
    assert len(PHOTO_SETS["kphotoalbum"]) == 20 and not any(n in f for f in every for n in ("wayne", "pool_2", "_1.jpg"))
    left_out = ("party-room", "room1", "room3", "spotlight-stage", "woods-and-bench", "school2", "brick-wall1", "graffiti",
                "bald_guys", "dogs", "video_frames")  # drawings, collages, a grey 240-px video
    assert len(PHOTO_SETS["scratch"]) == 49 and not any(f"/{n}." in f or f"/{n}/" in f for f in every for n in left_out)
    missing = [str(tmp_path / "nope.jpg"), lomiri[0].replace(".jpg", "_gone.jpg")]
    with pytest.raises(FileNotFoundError, match="or pass --data DIR") as e:
        PhotoPool(missing)
    assert "install Debian" not in str(e.value)  # neither file belongs to a set
    PHOTO_SETS["test-set"] = missing
    VAL_PHOTOS["test-val"] = [str(tmp_path / "held_out.jpg")]
    try:
        with pytest.raises(FileNotFoundError, match="install Debian test-set, or pass --data DIR"):
            PhotoPool(RWTrainConfig(data=["test-set"]).data)
        with pytest.raises(FileNotFoundError, match="install Debian test-val, or"):  # a validation photo too
            PhotoPool(VAL_PHOTOS["test-val"])
    finally:
        del PHOTO_SETS["test-set"], VAL_PHOTOS["test-val"]


def test_worker_processes_build_the_same_batches_as_the_training_process(photo_dir):
    from methods.training.photos import PhotoPool
    from methods.training.trainer import make_batch, step_batches

    pool = PhotoPool([str(photo_dir)])
    cfg = RWTrainConfig(steps=9, crop=64, shuffle_channels=True)
    got = list(step_batches(pool, cfg, rank=1, n=3, first_step=5, workers=2))
    assert len(got) == 4  # steps 5-8
    for step, (gt, hole) in zip(range(5, 9), got):
        ref_gt, ref_hole = make_batch(pool, np.random.default_rng([cfg.seed, 1, step]), cfg, 3, 64)
        assert torch.equal(gt, ref_gt) and torch.equal(hole, ref_hole), step
    assert not torch.equal(got[0][0], got[1][0])
    # auto (-1): none on a CPU, which has no cores to spare; some on CUDA; an explicit number stands
    from methods.training.trainer import data_workers
    assert data_workers(cfg, torch.device("cpu")) == 0 and data_workers(cfg, torch.device("cuda")) >= 1
    assert data_workers(RWTrainConfig(workers=3), torch.device("cpu")) == 3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is Linux's; macOS workers are spawned")
def test_worker_processes_share_the_trainers_photos_under_python_3_14s_forkserver_default(photo_dir):
    """Python 3.14 starts processes from a fork server by default, and each DataLoader worker then
    got the photo pool pickled and imported torch afresh: 353 MiB per worker for the wallpapers
    (8 workers on a GPU machine), ~3 GB per worker at IN_MEMORY_PHOTOS, 5 s to start 2 workers
    here. Forked from the trainer, as on every Python before, they share its decoded photos."""
    import multiprocessing

    from methods.training.photos import PhotoPool
    from methods.training.trainer import step_batches

    pool = PhotoPool([str(photo_dir)])
    previous = multiprocessing.get_start_method(allow_none=True)
    multiprocessing.set_start_method("forkserver", force=True)  # 3.14's default on Linux
    batches = None
    try:
        batches = step_batches(pool, RWTrainConfig(steps=4, crop=64), rank=0, n=2, first_step=0, workers=2)
        next(batches)
        # a forked worker's parent is this process; a fork server's child's is the server
        parents = [int(Path(f"/proc/{w.pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) for w in batches._workers]
        assert parents == [os.getpid()] * 2
    finally:
        multiprocessing.set_start_method(previous, force=True)
        del batches


def test_a_collection_too_large_to_hold_is_decoded_as_drawn_with_the_same_training(tmp_path, photo_dir, monkeypatch):
    """Every photo was decoded up front at 640 px: a real training set would not fit (CelebA-HQ's
    28,000 faces: 34 GB; Places2's 1.8 million: 350 GB at its 256-px release). Past IN_MEMORY_PHOTOS
    the pool decodes each photo as it is drawn: the same crops, so the same training."""
    from methods.training import photos

    held = photos.PhotoPool([str(photo_dir)], in_memory=True)
    drawn = photos.PhotoPool([str(photo_dir)], in_memory=False)
    assert drawn.photos is None and drawn.smaller_than(64) is None and len(drawn) == len(held)
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    for _ in range(12):
        assert np.array_equal(held.crop(a, 96), drawn.crop(b, 96))
    train(tiny(tmp_path / "held", photo_dir, steps=2), log=lambda s: None)
    monkeypatch.setattr(photos, "IN_MEMORY_PHOTOS", len(held) - 1)
    assert not photos.PhotoPool([str(photo_dir)]).in_memory
    said = []
    train(tiny(tmp_path / "drawn", photo_dir, steps=2), log=said.append)
    assert any("each is decoded as it is drawn" in s for s in said), said
    a, b = load_checkpoint(tmp_path / "held" / "last.pt"), load_checkpoint(tmp_path / "drawn" / "last.pt")
    for k in a["nets"]["model"]:
        assert torch.equal(a["nets"]["model"][k], b["nets"]["model"][k]), k
    assert a["best_val"] == b["best_val"]


def test_the_overlap_check_reads_only_training_photos_of_a_validation_photos_size(tmp_path, photo_dir, monkeypatch):
    """Validation photos must not be training photos under another name; every training photo was
    read and hashed to tell, the whole training set before the first step. Only those of a
    validation photo's byte size are read now, and the copy is still found."""

    from methods.training import photos

    train_files = sorted(photo_dir.glob("*.png"))
    val = tmp_path / "val"
    val.mkdir()
    shutil.copy(train_files[2], val / "renamed.png")
    shutil.copy(held_out(photo_dir) / sorted(p.name for p in held_out(photo_dir).iterdir())[0], val / "other.png")
    read, real = [], photos.photo_bytes
    monkeypatch.setattr(photos, "photo_bytes", lambda f: (read.append(Path(f)), real(f))[1])
    assert photos.shared_photos(train_files, sorted(val.iterdir())) == [(str(val / "renamed.png"), str(train_files[2]))]
    sizes = {f.stat().st_size for f in val.iterdir()}
    assert {f for f in read if f.parent == photo_dir} == {f for f in train_files if f.stat().st_size in sizes}
    assert len({f for f in read if f.parent == photo_dir}) < len(train_files)


def test_a_large_held_out_set_gives_a_bounded_validation_set(photo_dir, monkeypatch):
    """Validation held 4 crops per held-out photo, each five times (one per hole bucket) as float32:
    a real held-out set (Places2's 36,500 photos) would be ~700 GB. Up to VAL_PHOTOS_MAX photos'
    worth now; a set within it gets the crops it always had."""
    from methods.training import trainer

    cfg = RWTrainConfig(val_data=[str(photo_dir)], val_size=64)
    n = len(trainer.PhotoPool(cfg.val_data))
    whole = trainer.validation_set(cfg)
    assert whole[0].shape == (4 * n * 5, 3, 64, 64)
    monkeypatch.setattr(trainer, "VAL_PHOTOS_MAX", n - 2)
    capped = trainer.validation_set(cfg)
    assert capped[0].shape == (4 * (n - 2) * 5, 3, 64, 64)
    # the same draws, fewer of them
    assert torch.equal(capped[0], whole[0][: len(capped[0])]) and torch.equal(capped[1], whole[1][: len(capped[1])])


def test_lr_schedules_by_hand():
    cfg = RWTrainConfig(steps=100, lr_schedule="cosine")
    assert [lr_factor(cfg, s) for s in (0, 50, 100, 150)] == pytest.approx([1, 0.5, 0, 0])
    assert lr_factor(RWTrainConfig(steps=100), 70) == 1
    restart = RWTrainConfig(steps=100, lr_schedule="cosine-restart")
    assert [lr_factor(restart, s, start=60) for s in (60, 80, 100, 120)] == pytest.approx([1, 0.5, 0, 0])
    assert lr_factor(cfg, 80, start=60) == pytest.approx(lr_factor(cfg, 80))  # plain cosine ignores the start
    assert lr_factor(restart, 50) == pytest.approx(0.5)  # from scratch it is the plain cosine
    with pytest.raises(ValueError, match="unknown lr_schedule 'step'"):
        lr_factor(RWTrainConfig(lr_schedule="step"), 0)


def test_weights_files_load_or_fail_clearly(tmp_path, photo_dir):
    train(tiny(tmp_path / "t", photo_dir, steps=1, val_every=0), log=lambda s: None)
    w = export_weights(load_checkpoint(tmp_path / "t" / "last.pt"), tmp_path / "w.pt")
    model, meta = load_model(w)
    assert meta["model_config"]["cnum"] == 4 and next(iter(torch.load(w)["state_dict"].values())).dtype == torch.float16
    blob = torch.load(w)
    blob["model_config"]["cnum"] = 8
    torch.save(blob, tmp_path / "wrong_width.pt")
    with pytest.raises(InputError, match="do not fit the rwconv architecture"):
        load_model(tmp_path / "wrong_width.pt")
    (tmp_path / "trunc.pt").write_bytes(w.read_bytes()[:1000])
    with pytest.raises(InputError, match="trunc.pt: not a readable rwconv weights file, perhaps truncated"):
        load_model(tmp_path / "trunc.pt")
    # another file given as weights (a run's val.csv) was "perhaps truncated (UnpicklingError: ...)" too
    (tmp_path / "val.csv").write_text("step,psnr,ssim\n1,17.117,0.68496\n")
    said = r"not a file torch.save writes \(a zip archive or a pickle\): it begins b'step,psnr,ssim\\n1,17.117,'"
    with pytest.raises(InputError, match=f"val.csv: not a readable rwconv weights file: {said}"):
        load_model(tmp_path / "val.csv")
    with pytest.raises(InputError, match=f"val.csv: not a readable checkpoint \\({said}"):
        load_checkpoint(tmp_path / "val.csv")
    torch.save({"something": 1}, tmp_path / "other.pt")
    with pytest.raises(InputError, match="not rwconv weights"):
        load_model(tmp_path / "other.pt")
    with pytest.raises(InputError, match="divisible by 4"):
        RegionWise(weights=str(w)).inpaint(torch.rand(1, 3, 130, 130), torch.zeros(1, 1, 130, 130))
    # the training run's folder itself was "not found", a folder that is there: its checkpoint is named
    with pytest.raises(InputError, match=f"is a training run's folder: give {re.escape(str(tmp_path / 't' / 'last.pt'))}, or export"):
        RegionWise(weights=str(tmp_path / "t"))
    assert load_model(tmp_path / "t" / "last.pt")[1]["model_config"]["cnum"] == 4


def test_shipped_weights_fill_holes(demo):
    m = RegionWise()
    assert m.describe()["trained_steps"] > 0
    assert m.describe()["weights"] == "methods/rwconv/weights/rwconv.pt"  # the same in every clone
    assert m.describe()["training_photos"] == {"count": 264, "other_files": 0, "sets": [
        "plasma-workspace-wallpapers", "mate-backgrounds", "lomiri-wallpapers-16.04", "opencv-doc", "kphotoalbum",
        "gcompris-qt-data", "scratch", "libdlib19.1", "labelme-examples"]}
    img = torch.from_numpy(np.array(demo.load("chelsea_full"))).permute(2, 0, 1)[None].float() / 255
    hole = torch.zeros(1, 1, 256, 256)
    hole[..., 100:140, 60:200] = 1
    out = m.inpaint(img * (1 - hole), hole)
    err_model = ((out - img).abs() * hole).sum() / (3 * hole.sum())
    err_grey = ((0.5 - img).abs() * hole).sum() / (3 * hole.sum())
    assert err_model < err_grey  # a trained model beats filling with grey


@pytest.mark.parametrize("method,width", [("rwconv", ["--cnum", "4"]), ("gated", ["--cnum", "8", "--dis-cnum", "8"])])
def test_distributed_training_on_cpu_with_two_processes(tmp_path, photo_dir, method, width):
    """gated also checks DDP around a critic that runs twice (real, fake) before one backward."""
    photos = tmp_path / "photos"
    shutil.copytree(photo_dir, photos, ignore=shutil.ignore_patterns(held_out(photo_dir).name))
    (photos / "notes.txt").write_text("taken at dusk")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(29517 + len(method)),
           "-m", f"methods.{method}.train", "--out", str(tmp_path / "ddp"), "--data", str(photos), "--steps", "2",
           "--batch-size", "2", *width, "--val-every", "0", "--threads", "1"]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-2000:]
    ck = load_checkpoint(tmp_path / "ddp" / "last.pt")
    assert ck["step"] == 2 and ck["method"] == method
    # each process reads the photo folder; its note is the job's, written once (it came twice)
    assert (r.stdout + r.stderr).count("1 file skipped (notes.txt)") == 1, r.stderr[-2000:]


def test_training_continues_from_shipped_fp16_weights(tmp_path, photo_dir):
    train(tiny(tmp_path / "a", photo_dir, steps=2, val_every=0), log=lambda s: None)
    w = export_weights(load_checkpoint(tmp_path / "a" / "last.pt"), tmp_path / "w.pt")
    logs = []
    train(tiny(tmp_path / "b", photo_dir, steps=3, val_every=0, init_from=str(w)), log=logs.append)
    assert any("continuing from shipped weights" in s and "step 2" in s for s in logs)
    ck = load_checkpoint(tmp_path / "b" / "last.pt")
    first = load_checkpoint(tmp_path / "a" / "last.pt")["lambdas"]
    assert ck["step"] == 3 and ck["lambdas"] == first
    # other loss fractions: each changed λ scales with its fraction, the other is kept (the record
    # would lie if both were kept; calibrating anew would move both with this run's crops)
    logs = []
    train(tiny(tmp_path / "d", photo_dir, steps=3, val_every=0, init_from=str(w), style_fraction=0.0), log=logs.append)
    lam = load_checkpoint(tmp_path / "d" / "last.pt")["lambdas"]
    assert lam == [first[0], 0.0]
    assert any("rescaling" in s and "style_fraction 0.1 -> 0.0" in s for s in logs)
    train(tiny(tmp_path / "e", photo_dir, steps=3, val_every=0, init_from=str(w), corr_fraction=0.05), log=lambda s: None)
    assert load_checkpoint(tmp_path / "e" / "last.pt")["lambdas"] == pytest.approx([first[0] / 2, first[1]], rel=1e-9)
    # from a fraction of 0 there is nothing to scale: calibrated anew, as a run from scratch
    w0 = export_weights(load_checkpoint(tmp_path / "d" / "last.pt"), tmp_path / "w0.pt")
    logs = []
    train(tiny(tmp_path / "f", photo_dir, steps=4, val_every=0, init_from=str(w0)), log=logs.append)
    assert any("recalibrating" in s for s in logs)
    assert load_checkpoint(tmp_path / "f" / "last.pt")["lambdas"] == pytest.approx(first, rel=1e-6)
    # narrower weights are widened (below); anything else of another design is refused
    for other in (dict(cnum=2), dict(cnum=6), dict(cnum=8, region_wise=False)):
        with pytest.raises(ValueError, match="holds"):
            train(tiny(tmp_path / "c", photo_dir, steps=3, init_from=str(w), **other), log=lambda s: None)
        assert not (tmp_path / "c").exists()  # refused before the run's folder is made
    # a --steps at or below the weights' own step trained nothing and said nothing (the shipped
    # rwconv.pt is at step 62,750; --steps counts from 0 and defaults to 20,000)
    for steps in (1, 2):
        with pytest.raises(ValueError, match=re.escape(f"--steps {steps} is not past the step of the --init-from weights "
                                                       f"(2): nothing would be trained; --steps counts from 0, so give "
                                                       f"more (--steps 3 or more)")):
            train(tiny(tmp_path / "c", photo_dir, steps=steps, val_every=0, init_from=str(w)), log=lambda s: None)
        assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("config", [RWConfig(4), RWConfig(4, region_wise=False), RWConfig(4, coarse_only=True)])
@pytest.mark.parametrize("r", [2, 3])
def test_widening_keeps_the_function_and_breaks_the_copies_symmetry(config, r):
    """Net2WiderNet: the wide network computes what the narrow one did (to float rounding), and
    the copies of one channel do not get equal gradients, or they would never grow apart."""
    from dataclasses import replace

    from methods.rwconv.widen import widen_state_dict

    torch.manual_seed(0)
    narrow = RegionWiseInpainter(config)
    with torch.no_grad():  # non-zero biases, so their copying is checked too
        for p in narrow.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    wide = RegionWiseInpainter(replace(config, cnum=4 * r))
    wide.load_state_dict(widen_state_dict(narrow, wide, torch.Generator().manual_seed(1)))
    img, hole = torch.rand(2, 3, 96, 96), (torch.rand(2, 1, 96, 96) > 0.7).float()
    with torch.no_grad():
        a, b = narrow(img, hole), wide(img, hole)
    for k in ("p1", "p2"):
        assert (a[k] - b[k]).abs().max() < 1e-5
    wide(img, hole)["p2"].square().mean().backward()
    g = wide.sinet.encoder.conv3.conv.weight.grad  # output channels 0..r-1 are copies of one old channel
    assert not torch.allclose(g[0], g[1], rtol=1e-3, atol=0)
    with pytest.raises(ValueError, match="whole multiple"):
        widen_state_dict(narrow, RegionWiseInpainter(replace(config, cnum=6)))


def test_export_says_which_checkpoint_it_exported(tmp_path, photo_dir, capsys):
    """--export takes best.pt, or last.pt where no step was ever the best (a continued run that never
    beat its start); the line it prints says which, so a job's log tells the two apart."""
    from methods.rwconv.train import main

    train(tiny(tmp_path / "a", photo_dir, steps=2, val_every=2), log=lambda s: None)
    main(["--out", str(tmp_path / "a"), "--export", str(tmp_path / "a.pt")])
    best = load_checkpoint(tmp_path / "a" / "best.pt")["best_val"]["psnr"]
    assert f"from best.pt, step 2, validation PSNR {best:.3f}" in capsys.readouterr().out
    (tmp_path / "a" / "best.pt").unlink()
    main(["--out", str(tmp_path / "a"), "--export", str(tmp_path / "b.pt")])
    assert "from last.pt, step 2\n" in capsys.readouterr().out
    assert load_model(tmp_path / "b.pt")[1]["step"] == 2
    # into folders yet to be made, as every other output path ("w.pt.tmp: No such file or directory");
    # a folder given is refused with a file name in it
    main(["--out", str(tmp_path / "a"), "--export", str(tmp_path / "new" / "sub" / "c.pt")])
    assert load_model(tmp_path / "new" / "sub" / "c.pt")[1]["step"] == 2
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path / "a"), "--export", str(tmp_path / "new")])
    assert f"--export {tmp_path / 'new'} is a folder; give the weights file to write, e.g. {tmp_path / 'new' / 'rwconv.pt'}" \
        in capsys.readouterr().err
    # the model card says which of the two it describes
    from methods.training.model_card import card
    assert "| training step of these weights | 2 (best validation PSNR of the run;" in card("rwconv", tmp_path / "a", tmp_path / "a.pt")
    assert "| 2 (the run's last checkpoint, not chosen by validation" in card("rwconv", tmp_path / "a", tmp_path / "b.pt")


def test_export_of_a_run_stopped_early_says_how_far_it_got(tmp_path, photo_dir, capsys):
    """A run stopped by --time-limit-min (or a kill) exported as if finished, without a word."""
    from methods.rwconv.train import main

    logs = []
    one = sorted(held_out(photo_dir).iterdir())[0]
    train(tiny(tmp_path / "a", photo_dir, steps=5, val_every=1, time_limit_min=1e-9, val_data=[str(one)]), log=logs.append)
    # one held-out photo, validated every step: counted in the singular (it read "1 held-out photos every 1 steps")
    assert any(s.endswith(" of 1 held-out photo every step") for s in logs), logs
    main(["--out", str(tmp_path / "a"), "--export", str(tmp_path / "a.pt")])
    out = capsys.readouterr().out
    assert "from best.pt, step 1," in out
    assert "note: the run stopped at step 1 of its --steps 5; the same command without --export continues it" in out
    train(tiny(tmp_path / "a", photo_dir, steps=5, val_every=1, val_data=[str(one)]), log=lambda s: None)
    main(["--out", str(tmp_path / "a"), "--export", str(tmp_path / "a.pt")])
    assert "note:" not in capsys.readouterr().out
    # its last step is in train_log.csv (rows every 10 steps left a 5-step run's log empty)
    assert [r.split(",")[0] for r in (tmp_path / "a" / "train_log.csv").read_text().splitlines()] == ["step", "5"]
    # a finished run started again with fewer --steps ended without a word; --export given training
    # settings ("train on, then export") exported the step reached, also without a word
    train(tiny(tmp_path / "a", photo_dir, steps=3, val_every=1, val_data=[str(one)]), log=logs.append)
    assert "step 5 is at or past --steps 3: nothing to train (a larger --steps continues the run)" in logs
    # and it said "training on 6 photos; validating on ..." after that
    assert not any(s.startswith("training on") for s in logs[logs.index("resumed from " + str(tmp_path / "a" / "last.pt") + " at step 5"):]), logs
    main(["--out", str(tmp_path / "a"), "--steps", "9", "--cnum", "8", "--export", str(tmp_path / "a.pt")])
    assert ("note: --export writes a trained run's weights and trains nothing: --steps, --cnum not used\n"
            "wrote ") in capsys.readouterr().out


def test_training_widens_narrower_weights(tmp_path, photo_dir):
    """--init-from cnum-4 weights into a cnum-8 run: the run counts on from their step, and the
    record, the export and the model card say they were widened."""
    from methods.training.model_card import card

    train(tiny(tmp_path / "a", photo_dir, steps=2, val_every=2), log=lambda s: None)
    narrow = load_checkpoint(tmp_path / "a" / "last.pt")
    w = export_weights(narrow, tmp_path / "w.pt")
    logs = []
    train(tiny(tmp_path / "b", photo_dir, steps=3, cnum=8, val_every=0, init_from=str(w), lr_schedule="cosine-restart"),
          log=logs.append)
    assert any("at step 2, widened from cnum 4 to 8" in s for s in logs)
    ck = load_checkpoint(tmp_path / "b" / "last.pt")
    assert ck["model_config"]["cnum"] == 8 and ck["init_from"]["adapted"]["from_model_config"]["cnum"] == 4
    # the restart's one step ran at the full lr; the plain cosine would have had lr/4 at step 2 of 3
    assert ck["optims"]["model"]["param_groups"][0]["lr"] == pytest.approx(ck["config"]["lr"])
    model, _ = load_model(export_weights(ck, tmp_path / "wide.pt"))
    assert model.config.cnum == 8
    text = card("rwconv", tmp_path / "b", tmp_path / "wide.pt")
    assert "widened from cnum 4 to 8" in text and "(cosine-restart schedule from step 2 to step 3)" in text


def test_the_last_step_is_always_validated(tmp_path, photo_dir):
    """A cosine schedule ends at --steps; were that no multiple of --val-every, the weights it ends
    on would never be a candidate for best.pt. Starting a finished run again validates nothing twice."""
    import csv

    import gc
    import warnings

    cfg = tiny(tmp_path / "r", photo_dir, steps=3, val_every=2)
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        train(cfg, log=lambda s: None)
        gc.collect()
    # the run closes its logs (flushed row by row, but a notebook or test that trains again kept them open)
    assert not [w for w in caught if issubclass(w.category, ResourceWarning) and "tmp" in str(w.message)], caught

    def rows():
        with open(tmp_path / "r" / "val.csv", newline="") as f:
            return [int(r["step"]) for r in csv.DictReader(f)]
    assert rows() == [2, 3]
    best = load_checkpoint(tmp_path / "r" / "best.pt")
    assert best["best_val"]["step"] in (2, 3) and load_checkpoint(tmp_path / "r" / "last.pt")["val_step"] == 3
    train(cfg, log=lambda s: None)
    assert rows() == [2, 3]


def test_a_continued_run_measures_its_starting_weights_on_its_own_validation_set(tmp_path, photo_dir):
    """The score stored with shipped weights may come from another validation set; the bar a
    continued run's steps must clear for best.pt is its starting weights measured on its own set,
    so the same weights stored with a stale 99 dB or with no score train into the same best.pt."""
    import csv

    from methods.rwconv.train import RWRecipe
    from methods.training.trainer import validate, validation_set

    train(tiny(tmp_path / "a", photo_dir, steps=2, val_every=0), log=lambda s: None)
    ck = load_checkpoint(tmp_path / "a" / "last.pt")
    stale = export_weights({**ck, "best_val": {"psnr": 99.0, "ssim": 1.0, "step": 2}}, tmp_path / "stale.pt")
    unscored = export_weights({**ck, "best_val": {"psnr": float("-inf")}}, tmp_path / "unscored.pt")
    runs = {}
    for name, w in (("s", stale), ("u", unscored)):
        logs = []
        cfg = tiny(tmp_path / name, photo_dir, steps=4, val_every=1, init_from=str(w), lr=3e-3)
        train(cfg, log=logs.append)
        rows = list(csv.DictReader((tmp_path / name / "val.csv").read_text().splitlines()))
        best = tmp_path / name / "best.pt"
        runs[name] = (rows, load_checkpoint(best)["best_val"] if best.is_file() else None)
        assert any("validation of the starting weights, step 2" in s for s in logs)
        # --data is one folder of 6 photos: counted by its files, in the log and in what the weights say
        assert any(s.startswith("training on 6 photos; validating on 40 crops of 2 held-out photos") for s in logs), logs
    from methods.rwconv.method import RegionWise
    w = export_weights(load_checkpoint(tmp_path / "s" / "last.pt"), tmp_path / "s.pt")
    assert RegionWise(weights=str(w)).describe()["training_photos"] == {"count": 6, "sets": [], "other_files": 6}
    assert runs["s"] == runs["u"]
    rows, best_val = runs["s"]
    assert [int(r["step"]) for r in rows] == [2, 3, 4]
    model, _ = load_model(stale)
    start = validate(RWRecipe(cfg), model.float(), validation_set(cfg), torch.device("cpu"))["psnr"]
    assert float(rows[0]["psnr"]) == pytest.approx(start, abs=1e-3)
    later = [float(r["psnr"]) for r in rows[1:]]
    # best.pt holds the best later step if one beat the start, and is absent otherwise
    assert (best_val is None) == (max(later) <= float(rows[0]["psnr"]))
    if best_val is not None:
        assert best_val["psnr"] == pytest.approx(max(later), abs=1e-3)


def test_a_resume_with_other_validation_crops_measures_again(tmp_path, photo_dir):
    """Resumed with another --val-data, a run measures where it stands on the new crops first and
    sets aside the best.pt chosen on the old ones, so the step --export takes was chosen on one set."""
    import csv

    first = photo_dir.parent / "val_first"
    first.mkdir(exist_ok=True)
    (first / "a.png").write_bytes(next(held_out(photo_dir).glob("*.png")).read_bytes())
    train(tiny(tmp_path / "r", photo_dir, steps=2, val_every=1, val_data=[str(first)]), log=lambda s: None)
    assert (tmp_path / "r" / "best.pt").is_file()
    logs = []
    train(tiny(tmp_path / "r", photo_dir, steps=3, val_every=1, lr=0.0), log=logs.append)  # lr 0: step 3 = step 2
    assert any("validation crops changed: best.pt kept as best_before_step2.pt" in s for s in logs)
    rows = list(csv.DictReader((tmp_path / "r" / "val.csv").read_text().splitlines()))
    assert [int(r["step"]) for r in rows] == [1, 2, 2, 3]
    assert float(rows[3]["psnr"]) == pytest.approx(float(rows[2]["psnr"]), abs=1e-4)  # unchanged weights
    # step 3 did not beat the weights it resumed with, measured on the same crops: no new best.pt
    assert (tmp_path / "r" / "best_before_step2.pt").is_file() and not (tmp_path / "r" / "best.pt").is_file()


def test_continued_weights_name_their_origin_by_content(tmp_path, photo_dir):
    """Continued weights are usually shipped under the name of the ones they started from, so the
    file at --init-from changes; the run, its resumes, its export, a run manifest and the model
    card must still say what it started from, by sha256."""
    import hashlib

    from methods.rwconv.method import RegionWise
    from methods.training.model_card import card

    train(tiny(tmp_path / "a", photo_dir, steps=2, val_every=0), log=lambda s: None)
    w = export_weights(load_checkpoint(tmp_path / "a" / "last.pt"), tmp_path / "w.pt")
    sha = hashlib.sha256(w.read_bytes()).hexdigest()
    train(tiny(tmp_path / "b", photo_dir, steps=3, val_every=0, init_from=str(w)), log=lambda s: None)
    w.write_bytes(b"replaced since")  # the origin's path now holds another file
    train(tiny(tmp_path / "b", photo_dir, steps=4, val_every=0, init_from=str(w)), log=lambda s: None)  # a resume
    ck = load_checkpoint(tmp_path / "b" / "last.pt")
    assert ck["step"] == 4 and ck["init_from"] == {"path": str(w), "sha256": sha, "step": 2, "best_val": {"psnr": float("-inf")}}
    out = export_weights(ck, tmp_path / "continued.pt")
    assert RegionWise(weights=str(out)).describe()["continued_from"]["sha256"] == sha
    text = card("rwconv", tmp_path / "b", out)
    assert f"sha256 `{sha[:16]}...`), trained 2 steps;" in text  # never validated: no PSNR, not "-inf"
    assert f"--init-from {w}" in text and "steps 3-4" in text
    # the resume raised --steps: the record and the card say from which step, so the card's
    # command line reproduces both pieces, not the final settings alone
    assert ck["setting_changes"] == [{"step": 3, "changed": {"steps": [3, 4]}}]
    assert torch.load(out, weights_only=False)["setting_changes"] == ck["setting_changes"]
    assert "--steps 3 " in text and "then from its `last.pt` at step 3 the same with `--steps 4`" in text
    assert "before step 3: steps 3" in text
    # weights trained from scratch say nothing of the kind
    scratch = export_weights(load_checkpoint(tmp_path / "a" / "last.pt"), tmp_path / "scratch.pt")
    assert "continued_from" not in RegionWise(weights=str(scratch)).describe()
    assert "continued from" not in card("rwconv", tmp_path / "a", scratch)


def test_forward_flops_match_the_paper_scale():
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        model = RegionWiseInpainter(RWConfig(cnum=32))
        x, hole = torch.rand(1, 3, 256, 256), torch.zeros(1, 1, 256, 256)
        with FlopCounterMode(display=False) as fc:
            model(x, hole)
    # REFERENCE.md: SINet 47.7 GMAC + GPNet 14.1 GMAC = about 124 GFLOP per 256x256 image
    assert fc.get_total_flops() / 1e9 == pytest.approx(123.6, rel=0.01)


def test_trainer_help_shows_each_settings_comment(capsys):
    from methods.gated.train import GatedRecipe
    from methods.training.trainer import field_help, main

    docs = field_help(RWTrainConfig)
    assert docs["crop"] == ("training crop side in pixels (the published models train at 256, PConv at 512; "
                            "128 costs a quarter of the compute, for CPUs)")
    assert docs["lr_schedule"].startswith('"constant" (the paper) or "cosine"')  # `#:` lines above the field
    assert docs["cnum"].startswith("channel width")  # the subclass's own settings too
    assert "lr" in field_help(GatedRecipe.Config)  # a subclass that overrides lr keeps the base comment
    with pytest.raises(SystemExit):
        main(GatedRecipe, ["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--crop CROP training crop side in pixels (the published models train at 256, PConv at 512; 128 costs a quarter of the compute, for CPUs) (default: 128)" in out
    assert "SN-PatchGAN width (default: 64)" in out


def _installed_sets():
    from methods.training.photos import PHOTO_SETS, VAL_PHOTOS, photo_exists

    names = list(dict.fromkeys([*PHOTO_SETS, *VAL_PHOTOS]))
    return [n for n in names if any(photo_exists(Path(f)) for f in PHOTO_SETS.get(n, []) + VAL_PHOTOS.get(n, []))]


@pytest.mark.parametrize("package", _installed_sets() or [pytest.param("none", marks=pytest.mark.skip(reason="no photo set installed"))])
def test_an_installed_photo_set_is_whole_and_every_photo_is_big_enough_for_a_crop(package):
    """Where a set's package is installed (here, not on CI), every file the set names is there
    and decodes to RGB with a short side of at least 256 px (the training and validation crop),
    so a package that moved or dropped a photo fails here, not on a lent GPU."""
    from methods.training.photos import PHOTO_SETS, VAL_PHOTOS, decode_photo

    for f in PHOTO_SETS.get(package, []) + VAL_PHOTOS.get(package, []):
        img = decode_photo(Path(f))
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3, f
        assert min(img.shape[:2]) >= 256, (f, img.shape)


def test_the_training_photos_are_listed_once(tmp_path, photo_dir, monkeypatch):
    """The settings' check listed and stat'ed every training photo, then the pool did it again, and
    the command's check a third time: ~25 s a listing of Places2's 1.8M files on a local disk, on
    the device's paid time, minutes on a network disk."""
    from methods.rwconv.train import main
    from methods.training import photos

    listed = []
    real = photos.list_images
    monkeypatch.setattr(photos, "list_images", lambda root: listed.append(Path(root)) or real(root))
    exists = []
    real_exists = photos.photo_exists
    monkeypatch.setattr(photos, "photo_exists", lambda f: exists.append(f) or real_exists(f))
    train(tiny(tmp_path / "a", photo_dir, steps=1, val_every=1), log=lambda s: None)
    assert listed.count(photo_dir) == 1
    assert not exists  # a listing finds files that are there; only files named one by one are checked
    listed.clear()
    main(["--out", str(tmp_path / "b"), "--data", str(photo_dir), "--val-data", str(held_out(photo_dir)), "--steps", "1",
          "--batch-size", "2", "--crop", "128", "--val-size", "128", "--cnum", "4", "--val-every", "1", "--threads", "1"])
    assert listed.count(photo_dir) == 1
    with pytest.raises(SystemExit):  # a photo named one by one that is not there is still named
        main(["--out", str(tmp_path / "c"), "--data", str(photo_dir / "gone.png"), "--steps", "1"])


def test_weights_trained_on_the_demo_sets_photos_say_so_in_every_demo_caption(tmp_path, photo_dir):
    """The offline photos inside scikit-image, scikit-learn and matplotlib are the demo set's
    sources, and the first a user without datasets reaches for: weights trained on them scored
    the demo set on what they had seen without a word. A copied file and a lossless re-save of
    the pixels are both found; the run warns, the weights record them, a demo table says so."""
    import json

    from inpaintbench.data.demo import source_files
    from inpaintbench.data.image_io import decode_rgb
    from inpaintbench.report import caption_for
    from inpaintbench.runner import RunConfig, run

    data = tmp_path / "photos"
    shutil.copytree(photo_dir, data)  # demo crops: 256-px cuts of the sources, not the sources
    sources = source_files()
    shutil.copy(sources["coffee"], data / "my_coffee.png")
    Image.fromarray(decode_rgb(sources["china"])).save(data / "china_resaved.png")  # a JPEG's pixels as PNG
    logs = []
    train(tiny(tmp_path / "t", data, steps=1, val_every=0), log=logs.append)
    assert any(s.startswith("warning: 2 training photos are the demo set's own (coffee, china)") for s in logs), logs
    ck = load_checkpoint(tmp_path / "t" / "last.pt")
    assert ck["training_photos"] == {"count": 8, "sets": [], "other_files": 8, "demo_photos": ["coffee", "china"]}
    w = export_weights(ck, tmp_path / "w.pt")
    run(RunConfig(method="rwconv", weights=str(w), limit=1, buckets=["30-40"], deep_metrics=False), tmp_path / "r",
        log=lambda s: None)
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert "NOT HELD OUT: trained on the demo set's source photos coffee, china" in caption_for([manifest])
    from methods.training.model_card import card

    assert "Among them the demo set's source photos coffee, china: its scores on the demo set are not held out." in \
        card("rwconv", tmp_path / "t", w)
    # photos that are not the sources (the clean folder) record nothing
    train(tiny(tmp_path / "clean", photo_dir, steps=1, val_every=0), log=lambda s: None)
    assert "demo_photos" not in load_checkpoint(tmp_path / "clean" / "last.pt")["training_photos"]


def test_calibration_takes_the_position_gram_image_by_image(photo_dir, monkeypatch):
    """λ1 was calibrated on the position gram of a batch of 32 crops at once, 32 x (crop/4)^4 floats:
    44 GB at --crop 544, so a run of --batch-size 1 there stopped as out of memory before its first
    step. Image by image, λ1 is the batched value (the mean of equal-sized means is the mean)."""
    from methods.rwconv import losses
    from methods.rwconv.losses import correlation_loss
    from methods.rwconv.train import RWRecipe
    from methods.training.photos import PhotoPool
    from methods.training.trainer import mean_fill_reference

    cfg = RWTrainConfig(crop=68, cnum=4, data=[str(photo_dir)])
    recipe = RWRecipe(cfg)
    recipe.loss_net = load_loss_network(cfg.loss_net)
    pool = PhotoPool(cfg.data)
    batches, real = [], losses.gram_positions
    monkeypatch.setattr(losses, "gram_positions", lambda f: (batches.append(f.shape[0]), real(f))[1])
    lam = recipe.calibrate(pool)["lambdas"]
    assert batches and set(batches) == {1}, batches
    monkeypatch.setattr(losses, "gram_positions", real)
    gt, _, ref = mean_fill_reference(pool, cfg)
    with torch.no_grad():
        fr, fg = recipe.loss_net(ref), recipe.loss_net(gt)
        batched = cfg.corr_fraction * float((ref - gt).abs().mean() * 2 / correlation_loss(fr, fg))
    assert lam[0] == pytest.approx(batched, rel=1e-5)


def test_a_cpu_run_whose_position_gram_outgrows_the_machine_is_warned_of(tmp_path, photo_dir, monkeypatch):
    """On a CPU the kernel's OOM killer ends a run without a message; the correlation loss's position
    gram grows with the crop's fourth power (a batch of 8 at 544 px needs ~64 GB). A run whose gram
    alone passes the memory available is warned of before it starts; ablation (c) has no gram."""
    from methods.rwconv.train import RWRecipe
    from methods.training import trainer

    cfg = tiny(tmp_path / "a", photo_dir, steps=1, val_every=0, crop=68)
    floor, what = RWRecipe(cfg).step_memory_floor()
    assert floor == int(4.7 * 2 * 17 ** 4 * 4) and "position gram" in what  # batch 2, (68/4)^2 positions
    assert RWRecipe(tiny(tmp_path, photo_dir, crop=544, batch_size=8)).step_memory_floor()[0] > 50e9
    assert RWRecipe(tiny(tmp_path, photo_dir, correlation=False)).step_memory_floor() is None
    assert RWRecipe(tiny(tmp_path, photo_dir, crop=68, precision="bf16")).step_memory_floor()[0] == floor // 2
    for free, warned in ((floor - 1, True), (floor + 1, False)):
        monkeypatch.setattr(trainer, "available_memory", lambda free=free: free)
        logs = []
        train(tiny(tmp_path / str(free), photo_dir, steps=1, val_every=0, crop=68), log=logs.append)
        said = [s for s in logs if s.startswith("warning: a training step at --crop 68 --batch-size 2 holds about")]
        assert bool(said) == warned, logs
    free = trainer.available_memory()
    assert free is None or 0 < free < 2 ** 50  # read from /proc/meminfo where there is one


def test_a_full_disk_keeps_the_last_checkpoint_and_says_so(tmp_path, photo_dir, monkeypatch, capsys):
    """torch.save meeting a full disk raised RuntimeError("... unexpected pos 680128 vs 680016"), a
    traceback with no word of the disk, and left its partial last.pt.tmp holding the space."""
    import errno
    import io

    from inpaintbench import lock
    from methods.rwconv.train import main

    class FullDisk(io.FileIO):
        def write(self, b):
            if str(self.name).endswith(".tmp") and FullDisk.saves >= 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(b)

    def opened(path, mode="r", *a, **k):
        if "w" not in mode:
            return open(path, mode, *a, **k)
        FullDisk.saves += str(path).endswith(".tmp")
        return io.BufferedWriter(FullDisk(path, "w"))

    FullDisk.saves = 0
    monkeypatch.setattr(lock, "open", opened, raising=False)  # where checkpoints are written (write_atomic)
    out = tmp_path / "a"
    with pytest.raises(SystemExit) as stop:
        main(["--out", str(out), "--data", str(photo_dir), "--val-data", str(held_out(photo_dir)), "--steps", "4",
              "--batch-size", "2", "--crop", "68", "--val-size", "68", "--cnum", "4", "--val-every", "0",
              "--ckpt-every", "1", "--threads", "1"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and (
        f"\nerror: {out / 'last.pt.tmp'}: No space left on device: {out / 'last.pt'} holds the last checkpoint whole; "
        f"the same command resumes from it once there is space\n") in err, err
    assert load_checkpoint(out / "last.pt")["step"] == 1 and not (out / "last.pt.tmp").exists()
