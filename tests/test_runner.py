import errno
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import PIL
import pytest
from PIL import Image
from typer.testing import CliRunner

from inpaintbench import registry
from inpaintbench.cli import app
from inpaintbench.errors import InputError, MethodError
from inpaintbench.method import InpaintingMethod, PerImageMethod
from inpaintbench.report import load_runs, render, table1, write_report
from inpaintbench.runner import FEATURES, RECORDS, RunConfig, read_records, run


class MeanFill(InpaintingMethod):
    """Fills holes with the mean colour of the known pixels; fails on purpose when told to."""

    name = "meanfill"
    calls = 0

    def inpaint(self, masked, hole):
        MeanFill.calls += 1
        if self.options.get("fail_after") is not None and MeanFill.calls > self.options["fail_after"]:
            raise KeyboardInterrupt  # a kill in the middle of a run
        known = 1 - hole
        mean = (masked * known).sum(dim=(2, 3), keepdim=True) / known.sum(dim=(2, 3), keepdim=True)
        return mean.expand_as(masked) + 0 * masked


class Broken(InpaintingMethod):
    name = "broken"

    def inpaint(self, masked, hole):
        if self.options["mode"] == "shape":
            return masked[:, :, :100]
        if self.options["mode"] == "tanh":  # a network's [-1, 1] output, left unconverted by its adapter
            return masked * 2 - 1
        if self.options["mode"] == "0-255":
            return masked * 255
        if self.options["mode"] == "overshoot":  # an unclamped [0, 1] network: the clamp's to take
            return masked + hole * 3 - 0.2 * (1 - hole)
        if self.options["mode"] == "int":  # [0, 1] values cast to integers: only their 0s and 1s left
            return masked.long()
        if self.options["mode"] == "bgr":  # red and blue swapped, as OpenCV orders them
            return masked.flip(1)
        if self.options["mode"] == "stages":  # a coarse-to-fine network's both outputs
            return masked * 0.9, masked
        return masked * float("nan")


class Peek(InpaintingMethod):
    name = "peek"
    seen_max = 0.0

    def inpaint(self, masked, hole):
        Peek.seen_max = max(Peek.seen_max, float((masked * hole).abs().max()))
        return masked


class OneAtATime(PerImageMethod):
    """A method of one uint8 HxWx3 image at a time returning what its `mode` says."""

    name = "one-at-a-time"

    def inpaint_one(self, image, hole):
        mode = self.options["mode"]
        if mode == "grey":
            return image.mean(-1)
        if mode == "chw":
            return image.transpose(2, 0, 1)
        if mode == "int64":  # as integer arithmetic on a uint8 image leaves it
            return image.astype(np.int64) + hole[..., None] * 100
        if mode == "bgr":
            return cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        return image + (hole[..., None] * 100).astype(np.uint8)


class AsPapersM(InpaintingMethod):
    """README's mean fill written with `hole` read as the paper's M (1 = known)."""

    name = "as-papers-m"

    def inpaint(self, masked, hole):
        known = hole
        mean = (masked * known).sum((2, 3), keepdim=True) / known.sum((2, 3), keepdim=True)
        return masked * known + mean * (1 - known)


class Normalising(InpaintingMethod):
    """A network's adapter: the input to [-1, 1] and the hole to the paper's M (1 = known), then
    a grey fill; with `in_place`, written as a network's preprocessing often is, in the tensors it
    was given."""

    name = "normalising"

    def inpaint(self, masked, hole):
        if self.options["in_place"]:
            x, known = masked.mul_(2).sub_(1), hole.neg_().add_(1)
        else:
            x, known = masked * 2 - 1, 1 - hole
        return (x * known + 0.2 * (1 - known) + 1) / 2


registry.register("meanfill", MeanFill)
registry.register("broken", Broken)
registry.register("normalising", Normalising)
registry.register("as-papers-m", AsPapersM)
registry.register("one-at-a-time", OneAtATime)
registry.register("peek", Peek)


def cfg(method="meanfill", **kw):
    # deep metrics (Inception on CPU) are exercised by the resume test and test_deep_metrics.py
    base = dict(method=method, limit=3, buckets=["0-10", "30-40", "50-60"], batch_size=2, deep_metrics=False)
    base.update(kw)
    return RunConfig(**base)


def test_run_records_every_pair_with_its_mask(tmp_path):
    run(cfg(), tmp_path, log=lambda s: None)
    recs = read_records(tmp_path / RECORDS)
    assert len(recs) == 9
    assert {r["bucket"] for r in recs} == {"0-10", "30-40", "50-60"}
    for r in recs:
        lo, hi = {"0-10": (0.01, 0.1), "30-40": (0.3, 0.4), "50-60": (0.5, 0.6)}[r["bucket"]]
        assert lo < r["hole_ratio"] <= hi
        assert r["psnr"] > 0 and 0 < r["ssim"] <= 1
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["protocol"]["id"] and manifest["masks"]["manifest_sha256"] and manifest["versions"]["torch"]
    assert manifest["versions"]["pillow"] == PIL.__version__  # it decodes the images: their gt_sha256 depend on it
    # the processor, as the bench JSON names it: its kernels move deep metrics by ~0.01 between machines
    from inpaintbench.bench import cpu_model

    assert manifest["hardware"]["cpu"] == {**cpu_model(), "mhz": manifest["hardware"]["cpu"].get("mhz")}
    # the default mask set is named by its place in the repository, so manifests read the same in every clone
    assert manifest["masks"]["root"] == manifest["config"]["masks"] == "masks/irregular256"
    # no deep metrics, no features: an empty features_pool3.f32 was left as if it had some
    assert not (tmp_path / FEATURES).exists() and manifest["metrics"] == {"deep_metrics": "off"}


def test_methods_never_see_the_hole_pixels(tmp_path):
    run(cfg("peek"), tmp_path, log=lambda s: None)
    assert Peek.seen_max == 0.0
    # identity output: composite equals masked input, so hole error equals the ground truth itself
    recs = read_records(tmp_path / RECORDS)
    assert all(r["l1_hole"] > 0 for r in recs)


def test_killed_run_resumes_to_the_same_table(tmp_path):
    full = tmp_path / "full"
    run(cfg(deep_metrics=True), full, log=lambda s: None)
    part = tmp_path / "part"
    MeanFill.calls = 0
    with pytest.raises(KeyboardInterrupt):
        run(cfg(deep_metrics=True, method_options={"fail_after": 2}), part, log=lambda s: None)
    n_before = len(read_records(part / RECORDS))
    assert n_before == 4  # two batches of two were written, then the kill
    with open(part / RECORDS, "a") as f:
        f.write('{"image_id": "torn')  # a write cut off by the kill
    with open(part / FEATURES, "ab") as f:
        f.write(b"\0" * 5000)  # and a feature row cut off before its record was written
    MeanFill.calls = 0
    # method_options differ (fail_after) only to simulate the kill; resume with the same identity
    import inpaintbench.runner as runner_mod

    manifest = json.loads((part / "manifest.json").read_text())
    manifest["config_identity"]["method_options"] = {}
    (part / "manifest.json").write_text(json.dumps(manifest))
    run(cfg(deep_metrics=True), part, log=lambda s: None)
    assert MeanFill.calls == 3  # only the 5 missing pairs, in batches of 2
    a = table1(load_runs([full])[0]).round(8)
    b = table1(load_runs([part])[0]).round(8)
    assert "FID ↓" in a.index.get_level_values(0) and "Perceptual Inception ↓" in a.index.get_level_values(0)
    pd.testing.assert_frame_equal(a, b)
    assert (part / FEATURES).stat().st_size == 9 * 2048 * 4
    assert len(read_records(part / RECORDS)) == 9
    assert runner_mod.RECORDS == RECORDS
    # each session's libraries and machine are kept (the resume rewrote the manifest, Pillow's
    # version with it), and a manifest from before sessions were listed gives its last one
    manifest = json.loads((part / "manifest.json").read_text())
    assert [s["records_at_start"] for s in manifest["sessions"]] == [0, 4]
    assert manifest["sessions"][-1]["versions"] == manifest["versions"] and "pillow" in manifest["versions"]
    older = {k: v for k, v in manifest.items() if k != "sessions"} | {"started": "2025-01-01T00:00:00",
                                                                        "versions": {"pillow": "9.0.0"}}
    (part / "manifest.json").write_text(json.dumps(older))
    run(cfg(deep_metrics=True), part, log=lambda s: None)
    sessions = json.loads((part / "manifest.json").read_text())["sessions"]
    assert [(s["started"], s["records_at_start"], s["versions"]["pillow"]) for s in sessions[:1]] == \
        [("2025-01-01T00:00:00", None, "9.0.0")]
    assert sessions[1]["records_at_start"] == 9 and sessions[1]["versions"]["pillow"] == PIL.__version__


def test_refuses_to_mix_a_different_run_into_a_directory(tmp_path):
    run(cfg(), tmp_path, log=lambda s: None)
    with pytest.raises(InputError, match="different method"):
        run(cfg("peek"), tmp_path, log=lambda s: None)


def test_a_second_run_into_a_folder_being_written_is_refused(tmp_path):
    """Two processes appending to one run folder (a job launched twice) numbered the same feature
    rows twice, or one ended in a traceback over the shared manifest.tmp. The lock is flock's, so
    holding it here stands for another process; a killed run's lock goes with it (the resume tests)."""
    from inpaintbench.lock import exclusive

    out = tmp_path / "r"
    out.mkdir()
    with exclusive(out, "inpaintbench run"):
        with pytest.raises(InputError, match="another inpaintbench run is writing there now"):
            run(cfg(limit=1), out, log=lambda s: None)
    assert not (out / RECORDS).exists()
    run(cfg(limit=1), out, log=lambda s: None)  # free once the other has ended
    assert len(read_records(out / RECORDS)) == 3


def test_a_filesystem_without_locks_runs_unguarded_and_says_so(tmp_path, monkeypatch, caplog):
    """Lustre mounted without -o flock (and some NFS, FUSE mounts) answers flock with ENOLCK: every run
    and training was refused there, with an OSError line. Other errors still stop it."""
    import errno
    import fcntl

    def no_locks(f, op):
        if op & fcntl.LOCK_EX:
            raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with caplog.at_level("WARNING", logger="inpaintbench"):
        run(cfg(limit=1), tmp_path / "r", log=lambda s: None)
    assert len(read_records(tmp_path / "r" / RECORDS)) == 3
    assert "has no file locks (No locks available); nothing stops a second inpaintbench run" in caplog.text

    def broken(f, op):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(fcntl, "flock", broken)
    with pytest.raises(OSError, match="Input/output error"):
        run(cfg(limit=1), tmp_path / "r2", log=lambda s: None)


@pytest.mark.parametrize("device", ["cuda", "cpu"])
def test_out_of_memory_names_the_batch_size_and_a_smaller_one_resumes(tmp_path, monkeypatch, device):
    """A method too big for a shared GPU at --batch-size N ended in a CUDA traceback (on the CPU, in the
    allocator's RuntimeError); the batch size is not part of a run's identity, so the same command with
    a smaller one goes on from the pairs scored. Other RuntimeErrors are not taken for it."""
    import torch

    def fill(self, masked, hole):
        if masked.shape[0] > 2:
            raise (torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB") if device == "cuda" else
                   RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory"))
        return masked

    monkeypatch.setattr(MeanFill, "inpaint", fill)
    run(cfg(limit=1, batch_size=2), tmp_path, log=lambda s: None)  # 3 pairs: a batch of 2, then 1
    with pytest.raises(InputError, match="out of memory on cpu at --batch-size 4 .meanfill and its metrics.; a smaller "
                                         "--batch-size needs less, and the same command with it resumes after the 3 pairs"):
        run(cfg(limit=3, batch_size=4), tmp_path, log=lambda s: None)
    run(cfg(limit=3, batch_size=2), tmp_path, log=lambda s: None)
    assert len(read_records(tmp_path / RECORDS)) == 9
    # --save-images added: the pairs scored are filled again for their images, in batches as well
    with pytest.raises(InputError, match="out of memory on cpu at --batch-size 4 .meanfill, filling the pairs scored "
                                         "before for their images.; a smaller --batch-size needs less, and the same "
                                         "command with it resumes with the 0 images saved so far kept"):
        run(cfg(limit=3, batch_size=4, save_images=True), tmp_path, log=lambda s: None)
    run(cfg(limit=3, batch_size=2, save_images=True), tmp_path, log=lambda s: None)
    assert len(list((tmp_path / "images").iterdir())) == 9

    def broken(self, masked, hole):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)")

    monkeypatch.setattr(MeanFill, "inpaint", broken)
    with pytest.raises(RuntimeError, match="mat1 and mat2"):  # a method's own bug keeps its traceback
        run(cfg(limit=4), tmp_path / "other", log=lambda s: None)


def test_a_run_folder_only_grows(tmp_path):
    """Resumed with a larger --limit or more buckets it adds pairs; with fewer it is refused before
    anything is written, since its manifest would describe fewer pairs than its records hold."""
    run(cfg(limit=2, buckets=["0-10"]), tmp_path, log=lambda s: None)
    run(cfg(limit=3, buckets=["0-10", "30-40"]), tmp_path, log=lambda s: None)
    assert len(read_records(tmp_path / RECORDS)) == 6
    manifest = (tmp_path / "manifest.json").read_text()
    for smaller in (dict(limit=2, buckets=["0-10", "30-40"]), dict(limit=3, buckets=["30-40"])):
        with pytest.raises(InputError, match=r"already holds \d+ scored pairs this run would not score \(it has 3 images "
                                             r"in buckets 0-10, 30-40\)"):
            run(cfg(**smaller), tmp_path, log=lambda s: None)
        assert (tmp_path / "manifest.json").read_text() == manifest and len(read_records(tmp_path / RECORDS)) == 6


def test_weights_for_a_method_without_any_and_a_bucket_given_twice_are_refused(tmp_path):
    """telea ran with --weights pconv.pt and its manifest and report caption named that file; a
    bucket given twice (as 10-20 and 10-20%) scored every pair twice, doubling N."""
    from inpaintbench.export import export_inputs

    for method in ("telea", "meanfill"):
        with pytest.raises(InputError, match=f"{method} takes no weights"):
            run(cfg(method, weights="methods/pconv/weights/pconv.pt"), tmp_path / method, log=lambda s: None)
        assert not (tmp_path / method).exists()
    with pytest.raises(InputError, match="--buckets gives 10-20 more than once"):
        run(cfg(buckets=["10-20", "30-40", "10-20%"]), tmp_path / "twice", log=lambda s: None)
    assert not (tmp_path / "twice").exists()
    with pytest.raises(InputError, match="--buckets gives 10-20 more than once"):
        export_inputs(tmp_path / "export", buckets=["10-20", "10-20"], limit=1)
    assert registry.create("rwconv", weights="methods/rwconv/weights/rwconv.pt").weights  # learned methods still take them


def test_a_method_registered_at_run_time_cannot_take_an_installed_name_or_a_malformed_one(tmp_path):
    """registry.register("telea", Mine) replaced the shipped Telea without a word: its runs were
    named telea, tabled and checked as telea. Names with '/', '+' or none at all were taken too, and
    a class without a `name` put an empty method name in its manifest and report captions."""
    class Unnamed(InpaintingMethod):
        def inpaint(self, masked, hole):
            return masked

    with pytest.raises(InputError, match=r"method 'telea' is installed \(methods.classical:Telea\); register yours under another"):
        registry.register("telea", Unnamed)
    assert registry.method_class("telea").__name__ == "Telea"
    for bad, other in (("Telea", "telea"), ("MeanFill", "meanfill")):  # installed, and registered at run time
        with pytest.raises(InputError, match=f"method '{bad}' differs from the method '{other}' only by case"):
            registry.register(bad, Unnamed)
    for bad in ("", "a/b", "mine+poisson", "two words"):
        with pytest.raises(InputError, match=r"letters, digits, '_', '.' and '-' only"):
            registry.register(bad, Unnamed)
    with pytest.raises(InputError, match="is not an InpaintingMethod subclass"):
        registry.register("not-a-method", dict)
    registry.register("unnamed-fill", Unnamed)
    registry.register("unnamed-fill", Unnamed)  # a notebook's cell run again
    run(cfg("unnamed-fill", limit=1, buckets=["10-20"]), tmp_path, log=lambda s: None)
    assert json.loads((tmp_path / "manifest.json").read_text())["method"]["name"] == "unnamed-fill"


@pytest.mark.parametrize("mode,msg", [
    ("shape", "returned shape"), ("nan", "NaN"),
    # were clamped to [0, 1] and scored without a word (a dark or white fill, blamed on the method)
    ("tanh", r"returned values from -1 to 1, its known pixels its input's on a \[-1, 1\] scale: methods return "
             r"images in \[0, 1\] \(return \(x \+ 1\) / 2\)"),
    ("0-255", r"returned values from 0 to 2\d\d, its known pixels its input's on a 0-255 scale: .* \(divide by 255\)"),
    # was scored as a black image with white specks
    ("int", r"returned a tensor of torch.int64, expected floating-point values in \[0, 1\]"),
    # its fills were scored with red and blue swapped
    ("bgr", (r"returned its images in BGR order \(OpenCV's\): with red and blue swapped its known pixels match its "
             r"input's \(0.0 grey levels off on average, against \d+\.\d as returned\); return them in RGB")),
])
def test_broken_methods_stop_cleanly(tmp_path, mode, msg):
    with pytest.raises(MethodError, match=msg):
        run(cfg("broken", method_options={"mode": mode}), tmp_path, log=lambda s: None)
    assert read_records(tmp_path / RECORDS) == []


@pytest.mark.parametrize("post", [{}, {"self_ensemble": "hflip", "blend": "poisson"}])
def test_a_method_that_writes_into_its_inputs_is_scored_as_one_that_does_not(tmp_path, post):
    """A method that normalised its input in place (`masked.mul_(2).sub_(1)`) or turned the hole
    into the paper's M in place (`hole.neg_().add_(1)`) wrote into the tensors the runner then
    composited with: the known pixels were scored as 2x-1 and the fill as the known pixels (PSNR
    8.7 dB against 18.7 for the same fill written out of place), and the mirrored call of
    `--self-ensemble hflip` and the Poisson blend saw the altered tensors too."""
    for in_place in (False, True):
        run(cfg("normalising", method_options={"in_place": in_place}, buckets=["30-40"], **post),
            tmp_path / str(in_place), log=lambda s: None)
    clean, dirty = (read_records(tmp_path / k / RECORDS) for k in ("False", "True"))
    assert [(r["l1"], r["psnr"], r["ssim"]) for r in dirty] == [(r["l1"], r["psnr"], r["ssim"]) for r in clean]
    assert min(r["psnr"] for r in clean) > 12  # grey holes, their known pixels kept


@pytest.mark.parametrize("mode,msg", [
    # both were torch's "permute(sparse_coo): number of dimensions in the tensor input does not match"
    ("grey", (r"one-at-a-time's inpaint_one returned an array of shape \(256, 256\) for an image of shape "
              r"\(256, 256, 3\); it returns an RGB image of the image's shape")),
    ("chw", r"inpaint_one returned an array of shape \(3, 256, 256\) for an image of shape \(256, 256, 3\)"),
    # its fills were scored with red and blue swapped, as in cv2's own order
    ("bgr", r"returned its images in BGR order"),
])
def test_a_per_image_method_returning_another_layout_stops_cleanly(tmp_path, mode, msg):
    with pytest.raises(MethodError, match=msg):
        run(cfg("one-at-a-time", method_options={"mode": mode}, buckets=["30-40"]), tmp_path, log=lambda s: None)


def test_a_per_image_method_may_return_any_integer_type_on_the_uint8_scale(tmp_path):
    """inpaint_one's int64 image (integer arithmetic on its uint8 input) was read as floats and
    refused with "divide by 255", though its uint8 twin is taken as 0-255."""
    for mode in ("uint8", "int64"):
        run(cfg("one-at-a-time", method_options={"mode": mode}, buckets=["30-40"]), tmp_path / mode, log=lambda s: None)
    as_uint8, as_int64 = (read_records(tmp_path / m / RECORDS) for m in ("uint8", "int64"))
    assert [r["psnr"] for r in as_int64] == [r["psnr"] for r in as_uint8]
    assert len(as_uint8) == 3


def test_a_method_that_leaves_the_holes_black_is_warned_of_once(tmp_path):
    """A method that read `hole` as the paper's M (1 = known) filled the known pixels and left the
    holes as its input has them, zeroed: scored as black fills without a word."""
    said = {}
    for method in ("as-papers-m", "meanfill"):
        said[method] = []
        run(cfg(method), tmp_path / method, log=said[method].append)  # 9 pairs in batches of 2
    warned = [s for s in said["as-papers-m"] if "left the holes black" in s]
    assert len(warned) == 1, said
    assert re.fullmatch(r"warning: as-papers-m left the holes black \(its fills average 0.0 grey levels, the known pixels "
                        r"\d+\), as they are in its input: `hole` is 1 where pixels are missing, the opposite of the "
                        r"paper's M, .*; scored as they are", warned[0]), warned
    assert len(read_records(tmp_path / "as-papers-m" / RECORDS)) == 9
    assert not any("black" in s for s in said["meanfill"]), said


def test_an_output_overshooting_zero_to_one_is_clamped_not_refused(tmp_path):
    """Known pixels 0.2 below their input's and fills of 3: a [0, 1] output, however far off, that
    no other scale fits better; the clamp takes it and the fills score as white."""
    run(cfg("broken", method_options={"mode": "overshoot"}, buckets=["30-40"]), tmp_path, log=lambda s: None)
    assert len(read_records(tmp_path / RECORDS)) == 3


def test_a_folder_whose_run_scored_nothing_takes_other_options(tmp_path):
    """A method that refuses the inputs at its first batch (pconv at a --size not divisible by 128)
    left a manifest and no records in runs/DATASET/NAME, and the corrected command, whose default
    --out is that folder, was refused as "a different ... protocol": nothing there to mix with."""
    with pytest.raises(MethodError):
        run(cfg("broken", method_options={"mode": "shape"}), tmp_path, log=lambda s: None)
    logs = []
    run(cfg("meanfill", limit=2), tmp_path, log=logs.append)
    assert any("scored no pair; it starts again" in s for s in logs)
    assert len(read_records(tmp_path / RECORDS)) == 6
    assert json.loads((tmp_path / "manifest.json").read_text())["config"]["method"] == "meanfill"
    with pytest.raises(InputError, match="different method"):  # once a pair is scored, the folder is that run's
        run(cfg("peek"), tmp_path, log=lambda s: None)


def test_a_size_a_network_cannot_take_is_refused_before_any_work(tmp_path):
    """pconv's seven stride-2 layers need sides divisible by 128: at --size 96 the run drew its bar,
    made its folder and stopped at the first batch."""
    from inpaintbench.masks.build import generate_set

    generate_set(tmp_path / "m96", per_bucket=1, size=96)
    (tmp_path / "photos").mkdir()
    Image.new("RGB", (96, 96), (90, 120, 30)).save(tmp_path / "photos" / "a.png")
    at = lambda method: cfg(method, dataset="folder", data_root=str(tmp_path / "photos"), masks=str(tmp_path / "m96"),
                            size=96, limit=1, buckets=["30-40"])
    with pytest.raises(InputError, match="pconv needs image sides divisible by 128, got 96x96: --size 96 is not one"):
        run(at("pconv"), tmp_path / "p", log=lambda s: None)
    assert not (tmp_path / "p").exists()
    run(at("rwconv"), tmp_path / "r", log=lambda s: None)  # divisible by 4: it can
    assert len(read_records(tmp_path / "r" / RECORDS)) == 1


def test_classical_methods_beat_mean_fill(tmp_path):
    for m in ("meanfill", "telea", "navier-stokes", "biharmonic", "patchmatch"):
        run(cfg(m), tmp_path / m, log=lambda s: None)
    t = table1(load_runs([tmp_path / m for m in ("meanfill", "telea", "navier-stokes", "biharmonic", "patchmatch")])[0])
    psnr = t.xs("PSNR ↑", level="metric")
    for m in ("telea", "navier-stokes", "biharmonic"):
        assert (psnr[m] > psnr["meanfill"]).all(), psnr


def test_report_formats_and_refusals(tmp_path):
    run(cfg(), tmp_path / "a", log=lambda s: None)
    run(cfg("telea"), tmp_path / "b", log=lambda s: None)
    df, manifests = load_runs([tmp_path / "a", tmp_path / "b"])
    t = table1(df)
    assert list(t.columns) == ["meanfill", "telea"]
    assert t.loc[("N", "30-40%")].tolist() == [3, 3]
    tex = render(t, "latex")
    assert "\\toprule" in tex and "\\textbf" in tex
    md = render(t, "md")
    assert "**" in md and "PSNR ↑" in md
    csv = render(t, "csv")
    assert csv.splitlines()[0].startswith("metric,mask,meanfill,telea")
    run(cfg(limit=2), tmp_path / "c", log=lambda s: None)
    with pytest.raises(InputError, match=r"number of images scored \(--limit\) differs \(2 vs 3\)"):
        load_runs([tmp_path / "a", tmp_path / "c"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a run directory"):
        load_runs([tmp_path / "empty"])


def test_report_writes_every_format_asked_for(tmp_path):
    """-f md -f csv --out DIR wrote one file, named DIR, of the last format: -f took one value."""
    run(cfg(), tmp_path / "a", log=lambda s: None)
    r = CliRunner().invoke(app, ["report", str(tmp_path / "a"), "-f", "md", "-f", "csv", "--out", str(tmp_path / "rep")])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == [  # and the one-writer lock (.lock)
        ".lock", "comparisons.csv", "per_image.csv", "table1.csv", "table1.md", "table1_ci.csv"]
    r = CliRunner().invoke(app, ["report", str(tmp_path / "a"), "-f", "md", "-f", "latex", "--out", str(tmp_path / "t.md")])
    assert r.exit_code == 2 and "--format md latex writes several files: give --out a folder" in r.output, r.output
    r = CliRunner().invoke(app, ["report", str(tmp_path / "a"), "-f", "latex", "--out", str(tmp_path / "t.tex")])
    assert r.exit_code == 0 and "\\toprule" in (tmp_path / "t.tex").read_text(), r.output
    # a format by its file's suffix or its name spelt out, in any case: "unknown report format 'tex'"
    for given, name, first in (("tex", "t2.tex", "\\begin{table}"), ("Markdown", "t2.md", "Dataset demo"),
                               ("MD", "t3.md", "Dataset demo"), ("CSV", "t2.csv", "metric,mask,meanfill")):
        r = CliRunner().invoke(app, ["report", str(tmp_path / "a"), "-f", given, "--out", str(tmp_path / name)])
        assert r.exit_code == 0 and (tmp_path / name).read_text().startswith(first), (given, r.output)
    r = CliRunner().invoke(app, ["report", str(tmp_path / "a"), "-f", "tex", "-f", "HTML", "--out", str(tmp_path / "both")])
    assert r.exit_code == 0 and {"table1.tex", "index.html"} <= {f.name for f in (tmp_path / "both").iterdir()}, r.output
    assert write_report([tmp_path / "a"], tmp_path / "py", formats=("Markdown",)) == [tmp_path / "py" / "table1.md"]
    # without -f, the suffix sets the format: t.csv and t.tex were written in Markdown (the default -f)
    for name, first in (("u.csv", "metric,mask,meanfill"), ("u.tex", "\\begin{table}"), ("u.md", "Dataset demo")):
        r = CliRunner().invoke(app, ["report", str(tmp_path / "a"), "--out", str(tmp_path / name)])
        assert r.exit_code == 0 and (tmp_path / name).read_text().startswith(first), (name, r.output)
    # a suffix of no format, or one -f contradicts, was written to as it stood
    for args, said in ((["--out", "u.xlsx"], ".xlsx is no report format's suffix (.md, .markdown, .txt, .csv, .tex)"),
                       (["-f", "csv", "--out", "u2.md"], "its suffix says md, -f says csv; name it u2.csv, or leave -f out"),
                       (["--out", "u.html"], "the HTML page comes with its plots and grids; give --out a folder")):
        r = CliRunner().invoke(app, ["report", str(tmp_path / "a"), *args[:-1], str(tmp_path / args[-1])])
        assert r.exit_code == 2 and said in " ".join(r.output.split()) and not (tmp_path / args[-1]).exists(), r.output
    # options for files the formats asked for do not write went unused unsaid
    for args, said in ((["--screenshot", "--out", "s.md"], "--screenshot renders the HTML page (-f html), which -f md into "
                                                             "one file does not write"),
                       (["-f", "md", "--grid-rows", "2", "--out", "g"], "--grid-rows sets the HTML page's image grids "
                                                                         "(-f html), which -f md does not write"),
                       (["-f", "latex", "--reference", "meanfill", "--out", "g"], "--reference sets what comparisons.csv "
                                                                                   "(-f csv) and the HTML page (-f html) compare against"),
                       # the file's format is its suffix's, also in the refusal (it named the default, -f md)
                       (["--reference", "meanfill", "--out", "r.csv"], "which -f csv into one file does not write")):
        r = CliRunner().invoke(app, ["report", str(tmp_path / "a"), *args[:-1], str(tmp_path / args[-1])])
        assert r.exit_code == 2 and said in " ".join(r.output.split()) and not (tmp_path / args[-1]).exists(), r.output
    r = CliRunner().invoke(app, ["report", str(tmp_path / "a"), "-f", "csv", "--reference", "meanfill", "--out", str(tmp_path / "g")])
    assert r.exit_code == 0 and (tmp_path / "g" / "comparisons.csv").is_file(), r.output
    # compare writes CSV, into cmp.md as well: refused before the comparison is made
    run(cfg("telea"), tmp_path / "t", log=lambda s: None)
    r = CliRunner().invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "t"), "--out", str(tmp_path / "cmp.md")])
    assert r.exit_code == 2 and "compare writes CSV; name it cmp.csv, or give a folder" in " ".join(r.output.split()), r.output
    assert "verdict" not in r.output and not (tmp_path / "cmp.md").exists()
    # one format into a folder, new or there already (v1.2 has a suffix): its file in the folder; it had
    # written the table as a file named after the folder, or stopped at "a folder is in the way"
    (tmp_path / "v1.2").mkdir()
    for folder in (tmp_path / "md_only", tmp_path / "v1.2"):
        r = CliRunner().invoke(app, ["report", str(tmp_path / "a"), "-f", "md", "--out", str(folder)])
        assert r.exit_code == 0 and folder.is_dir() and "PSNR ↑" in (folder / "table1.md").read_text(), r.output
        assert f"wrote 1 file to {folder}" in r.output, r.output  # not "1 files"


def test_workers_given_to_a_method_that_runs_in_process_is_noted(tmp_path):
    """--workers with telea (or a learned method) went unused without a word."""
    args = ["run", "--limit", "1", "--buckets", "10-20", "--no-deep-metrics", "--workers", "2"]
    r = CliRunner().invoke(app, [*args, "--method", "telea", "--out", str(tmp_path / "t")])
    assert r.exit_code == 0 and "note: --workers spreads PatchMatch and biharmonic over processes; telea runs in this " \
        "process whatever it is" in " ".join(r.output.split()), r.output
    r = CliRunner().invoke(app, [*args, "--method", "biharmonic", "--out", str(tmp_path / "b")])
    assert r.exit_code == 0 and "note: --workers" not in r.output, r.output


def test_progress_is_written_as_lines_where_the_output_is_no_terminal(tmp_path, monkeypatch):
    """rich draws a bar only when it ends where the output is not a terminal: a batch job's log
    showed nothing for the hours of a long run. Now a line every LogLines.every_s seconds (0 here)."""
    from inpaintbench.progress import LogLines

    monkeypatch.setattr(LogLines, "every_s", 0.0)
    r = CliRunner().invoke(app, ["run", "--method", "telea", "--limit", "1", "--buckets", "10-20", "--buckets", "30-40",
                                 "--batch-size", "1", "--no-deep-metrics", "--out", str(tmp_path / "r")])
    assert r.exit_code == 0, r.output
    assert "telea: 1/2 pairs (50%)" in r.output and "telea: 2/2 pairs (100%)" in r.output, r.output


def test_an_interrupted_run_says_that_nothing_is_lost(tmp_path):
    """Ctrl-C stopped the command with its bar half drawn and no word on what was kept."""
    class Interrupted(MeanFill):
        name = "interrupted-meanfill"

        def inpaint(self, masked, hole):
            if MeanFill.calls >= 1:
                raise KeyboardInterrupt
            return super().inpaint(masked, hole)

    registry.register("interrupted-meanfill", Interrupted)
    MeanFill.calls = 0
    r = CliRunner().invoke(app, ["run", "--method", "interrupted-meanfill", "--limit", "1", "--buckets", "10-20",
                                 "--buckets", "30-40", "--batch-size", "1", "--no-deep-metrics", "--out", str(tmp_path / "r")])
    assert r.exit_code == 130 and "interrupted: every pair scored so far is kept in" in " ".join(r.output.split()), r.output
    assert len(read_records(tmp_path / "r" / RECORDS)) == 1

    class DiskFull(MeanFill):  # as a --save-images PNG or a record meets a full disk
        name = "disk-full-meanfill"

        def inpaint(self, masked, hole):
            if MeanFill.calls >= 1:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().inpaint(masked, hole)

    registry.register("disk-full-meanfill", DiskFull)
    MeanFill.calls = 0
    r = CliRunner().invoke(app, ["run", "--method", "disk-full-meanfill", "--limit", "1", "--buckets", "10-20",
                                 "--buckets", "30-40", "--batch-size", "1", "--no-deep-metrics", "--out", str(tmp_path / "d")])
    # it had said "error: No space left on device" alone
    assert r.exit_code == 2 and (f"error: No space left on device: every pair scored so far is kept in {tmp_path / 'd'}; the "
                                 f"same command again resumes, once there is space") in " ".join(r.output.split()), r.output
    assert len(read_records(tmp_path / "d" / RECORDS)) == 1


def test_a_demo_or_report_interrupted_while_writing_its_report_says_what_is_kept(tmp_path, monkeypatch):
    """Ctrl-C in the demo's report (its grids fill pairs again, a minute of the demo) ended it without a word."""
    from inpaintbench import report

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "write_report", interrupted)
    r = CliRunner().invoke(app, ["demo", "--method", "telea", "--limit", "1", "--out", str(tmp_path / "demo")])
    assert r.exit_code == 130 and "interrupted: every pair scored so far is kept in" in " ".join(r.output.split()), r.output
    assert len(read_records(tmp_path / "demo" / "telea" / RECORDS)) == 6
    # `report` alone: its folder holds part of a report (tables before index.html), and it had said nothing
    r = CliRunner().invoke(app, ["report", str(tmp_path / "demo" / "telea"), "--out", str(tmp_path / "rep")])
    assert r.exit_code == 130 and "holds only part of this report" in " ".join(r.output.split()), r.output


def test_cli_bad_input_is_one_line(tmp_path):
    r = CliRunner().invoke(app, ["run", "--method", "nope", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "unknown method 'nope'; available: " in r.output
    # a mistyped or capitalised name is answered with the one meant
    for method, dataset, typed, meant in (("Telea", "demo", "Telea", "telea"),
                                          ("navier_stokes", "demo", "navier_stokes", "navier-stokes"),
                                          ("telea", "Places2", "Places2", "places2"), ("telea", "celeba", "celeba", "celeba-hq")):
        r = CliRunner().invoke(app, ["run", "--method", method, "--dataset", dataset, "--out", str(tmp_path)])
        assert r.exit_code == 2 and f"'{typed}' (did you mean '{meant}'?); available: " in r.output, r.output
    r = CliRunner().invoke(app, ["run", "--method", "telea", "--dataset", "places2", "--data-root", str(tmp_path)])
    assert r.exit_code == 2 and "expected layout" in r.output
    r = CliRunner().invoke(app, ["masks", "verify"])
    assert r.exit_code == 0 and "1200 masks verified" in r.output


def test_masks_verify_names_a_file_as_it_is_spelt(tmp_path):
    """verify printed each problem as rich markup: a file named `stray[bold].png` was listed as
    `stray.png`, a name the user could not find; and one problem was counted as "1 problems"."""
    import shutil

    from inpaintbench.masks.maskset import DEFAULT_MASK_DIR

    shutil.copytree(DEFAULT_MASK_DIR, tmp_path / "set")
    shutil.copy(tmp_path / "set" / "10-20" / "0000.png", tmp_path / "set" / "10-20" / "stray[bold].png")
    r = CliRunner().invoke(app, ["masks", "verify", str(tmp_path / "set")])
    assert r.exit_code == 1 and r.output.splitlines() == [
        "10-20/stray[bold].png: on disk but not in manifest.csv", f"{tmp_path / 'set'}: 1 problem"], r.output


@pytest.mark.parametrize("args,message", [
    (["--buckets", "15-25"], "unknown bucket '15-25'"),  # was a ValueError traceback
    (["--limit", "0"], "--limit must be at least 1"),  # 0 read as no limit: all 32 images
    (["--limit", "-3"], "--limit must be at least 1"),  # sliced from the end: 29 images
    (["--resize", "nope"], "--resize must be one of"),  # the demo never resizes, so nothing noticed
    (["--device", "tpu"], "--device must be cpu or cuda"),
    (["--device", "mps"], "--device must be cpu or cuda"),  # a device torch knows: its RuntimeError traceback
    (["--device", "meta"], "--device must be cpu or cuda"),
    (["--device", "cuda:7"], "CUDA devices here"),  # was torch's RuntimeError traceback on a CPU machine
    # a network the run does not use was recorded in its manifest as if it had made numbers
    (["--no-deep-metrics", "--fid-network", "inception-pytorch-fid"], "--no-deep-metrics turns off"),
    (["--no-deep-metrics", "--vgg-weights", "vgg.pth"], "--no-deep-metrics turns off"),
])
def test_bad_selection_is_one_line_before_anything_is_written(tmp_path, args, message):
    for command in (["run", "--method", "telea"], ["export-inputs"]):
        if command == ["export-inputs"] and args[0] in ("--device", "--no-deep-metrics"):
            continue
        r = CliRunner().invoke(app, [*command, *args, "--out", str(tmp_path / "out")])
        assert r.exit_code == 2 and message in " ".join(r.output.split()), (command, r.output)
        assert not (tmp_path / "out").exists()


def test_a_data_root_is_one_dataset_however_it_is_written(tmp_path, monkeypatch):
    """--data-root imgs and --data-root /abs/imgs/ (the same folder) refused to share a table
    ("dataset differs"); imgs resumed from another directory extended the run with other images."""
    from inpaintbench.data import get_dataset

    demo = get_dataset("demo")
    for where, ids in (("a", demo.ids()[:2]), ("b", demo.ids()[4:6])):
        (tmp_path / where / "imgs").mkdir(parents=True)
        for n, i in enumerate(ids):
            Image.fromarray(demo.load(i)).save(tmp_path / where / "imgs" / f"{n}.png")
    monkeypatch.chdir(tmp_path / "a")
    one = dict(dataset="folder", limit=2, buckets=["10-20"], deep_metrics=False)
    run(RunConfig(method="telea", data_root="imgs", **one), tmp_path / "telea", log=lambda s: None)
    run(RunConfig(method="navier-stokes", data_root=str(tmp_path / "a" / "imgs") + "/", **one), tmp_path / "ns", log=lambda s: None)
    df, _ = load_runs([tmp_path / "telea", tmp_path / "ns"])
    assert len(df) == 4
    monkeypatch.chdir(tmp_path / "b")
    # the refusal names what differs, with both values (the folder's first)
    there, here = tmp_path / "a" / "imgs", tmp_path / "b" / "imgs"
    with pytest.raises(InputError, match="holds a run with a different method, dataset.*"
                                         + re.escape(f"data_root '{there}' there, '{here}' here)")):
        run(RunConfig(method="telea", data_root="imgs", **{**one, "buckets": ["10-20", "20-30"]}), tmp_path / "telea",
            log=lambda s: None)
    with pytest.raises(InputError, match="blend 'none' there, 'poisson' here"):
        run(RunConfig(method="telea", data_root=str(there), blend="poisson", **one), tmp_path / "telea", log=lambda s: None)


def test_a_folder_whose_files_changed_is_named_as_such(tmp_path):
    """A folder dataset was its path alone. Two runs over lists of one length but other files
    shared a table (means over other images); a file removed before the scored ones moved their
    masks, and the resume was refused as if --limit or --buckets had shrunk. A file added after the
    scored ones (or an unscored one removed there: a broken file the run stopped at) moves nothing,
    and still resumes."""
    from inpaintbench.data import get_dataset

    demo, imgs = get_dataset("demo"), tmp_path / "imgs"
    imgs.mkdir()
    for n, i in enumerate(demo.ids()[:4]):
        Image.fromarray(demo.load(i)).save(imgs / f"{n}.png")
    one = dict(dataset="folder", data_root=str(imgs), buckets=["10-20", "20-30"], deep_metrics=False)
    run(RunConfig(method="telea", **one), tmp_path / "telea", log=lambda s: None)
    (imgs / "0.png").rename(imgs / "9.png")  # four files still, one of them another
    run(RunConfig(method="navier-stokes", **one), tmp_path / "ns", log=lambda s: None)
    with pytest.raises(InputError, match="their dataset's list of images differs"):
        load_runs([tmp_path / "telea", tmp_path / "ns"])
    assert len(load_runs([tmp_path / "telea", tmp_path / "ns"], pairs_only=True)[0]) == 16  # compare: by pair
    with pytest.raises(InputError, match=r"holds \d+ scored pairs of a list of images that has changed since \(4 images "
                                         r"then, 4 now\)"):
        run(RunConfig(method="telea", **one), tmp_path / "telea", log=lambda s: None)
    (imgs / "9.png").rename(imgs / "0.png")
    (imgs / "8.png").write_bytes((imgs / "1.png").read_bytes())  # after every scored image: no mask moves
    run(RunConfig(method="telea", **one), tmp_path / "telea", log=lambda s: None)
    assert len(read_records(tmp_path / "telea" / RECORDS)) == 5 * 2


def test_limit_runs_over_folders_that_differ_past_the_limit_share_a_table(tmp_path):
    """The table compared the whole list's hash: two --limit 2 runs that scored the same images
    with the same masks were refused because a file had been added after those images."""
    from inpaintbench.data import get_dataset

    demo, imgs = get_dataset("demo"), tmp_path / "imgs"
    imgs.mkdir()
    for name, i in zip("bcd", demo.ids()):
        Image.fromarray(demo.load(i)).save(imgs / f"{name}.png")
    one = dict(dataset="folder", data_root=str(imgs), limit=2, buckets=["10-20"], deep_metrics=False)
    run(RunConfig(method="telea", **one), tmp_path / "telea", log=lambda s: None)
    (imgs / "e.png").write_bytes((imgs / "b.png").read_bytes())  # after the scored ones
    run(RunConfig(method="navier-stokes", **one), tmp_path / "ns", log=lambda s: None)
    a, b = (json.loads((tmp_path / d / "manifest.json").read_text())["dataset"] for d in ("telea", "ns"))
    assert a["ids_sha256"] != b["ids_sha256"] and a["evaluated_ids_sha256"] == b["evaluated_ids_sha256"]
    assert len(load_runs([tmp_path / "telea", tmp_path / "ns"])[0]) == 4
    (imgs / "a.png").write_bytes((imgs / "c.png").read_bytes())  # before them: other images, other masks
    run(RunConfig(method="biharmonic", **one), tmp_path / "bh", log=lambda s: None)
    with pytest.raises(InputError, match="their dataset's list of images differs"):
        load_runs([tmp_path / "telea", tmp_path / "bh"])


def test_a_run_decodes_each_image_once_for_scoring_and_its_ground_truth_features(tmp_path, monkeypatch):
    """The end of a run decoded every image again to hash its pixels for the ground truth's
    feature cache (minutes a run over Places2's full-size images); the hashes are now taken as the
    images are loaded for scoring, and the cache is found by the same key."""
    from collections import Counter

    from inpaintbench.data.demo import DemoDataset

    one = dict(method="telea", limit=2, buckets=["10-20", "40-50"])
    run(RunConfig(**one), tmp_path / "first", log=lambda s: None)  # makes the ground truth's cache if absent
    loads, load = Counter(), DemoDataset.load
    monkeypatch.setattr(DemoDataset, "load", lambda self, i: (loads.update([i]), load(self, i))[1])
    said = []
    run(RunConfig(**one), tmp_path / "again", log=said.append)
    assert sorted(loads.values()) == [1, 1], loads  # one decode per image, both buckets scored from it
    assert not any("reference features" in s for s in said), said  # the cache was found
    first, again = (json.loads((tmp_path / d / "set_metrics.json").read_text()) for d in ("first", "again"))
    assert first == again


def test_a_run_resumed_with_other_weights_under_the_same_path_is_refused(tmp_path):
    """Only the --weights path was compared: the file retrained in place (or a relative path
    resumed from another directory) extended the run with pairs scored by other weights."""
    import shutil

    from inpaintbench.paths import REPO_ROOT

    ablations = REPO_ROOT / "methods" / "rwconv" / "weights" / "ablations"
    w = tmp_path / "w.pt"
    shutil.copy(ablations / "f-full.pt", w)
    one = dict(method="rwconv", weights=str(w), limit=1, buckets=["10-20"], deep_metrics=False)
    run(RunConfig(**one), tmp_path / "r", log=lambda s: None)
    shutil.copy(ablations / "b-standard-conv.pt", w)
    with pytest.raises(InputError, match=r"holds a run scored with weights sha256 \w{12}; the weights now at .*w.pt have sha256 \w{12}"):
        run(RunConfig(**{**one, "limit": 2}), tmp_path / "r", log=lambda s: None)
    assert len(read_records(tmp_path / "r" / RECORDS)) == 1


def test_a_run_resumed_with_other_metric_networks_is_refused(tmp_path):
    """The FID/perceptual networks' weights were not compared on resume: another --vgg-weights
    file at the same path, or an upgraded package's Inception, mixed two networks' numbers."""
    one = dict(method="telea", limit=1, buckets=["10-20"])
    run(RunConfig(**one), tmp_path / "r", log=lambda s: None)
    m = json.loads((tmp_path / "r" / "manifest.json").read_text())
    m["metrics"]["networks"]["fid"]["sha256"] = "0" * 64
    (tmp_path / "r" / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(InputError, match="holds a run scored with other weights of the fid network; use another --out"):
        run(RunConfig(**{**one, "limit": 2}), tmp_path / "r", log=lambda s: None)


@pytest.mark.parametrize("command", [
    ["run", "--method", "telea", "--limit", "1", "--buckets", "10-20", "--no-deep-metrics", "--out", "{f}"],
    ["demo", "--method", "telea", "--limit", "1", "--out", "{f}"],
    ["export-inputs", "--limit", "1", "--buckets", "10-20", "--out", "{f}"],
    ["masks", "generate", "--per-bucket", "1", "--out", "{f}"],
    ["bench", "metrics", "--pairs", "2", "--out", "{f}/x.json"],
])
def test_an_out_that_is_a_file_is_one_line(tmp_path, command):
    """--out naming an existing file ended every command in a FileExistsError or NotADirectoryError
    traceback (bench after minutes of timing)."""
    f = tmp_path / "afile"
    f.write_text("mine")
    r = CliRunner().invoke(app, [c.format(f=f) for c in command])
    assert r.exit_code == 2 and "a file is in the way of a folder on this path" in " ".join(r.output.split()), r.output
    assert "Traceback" not in r.output and f.read_text() == "mine"


def test_a_run_into_a_folder_of_runs_is_refused_before_it_hides_them(tmp_path):
    """`run --out runs/demo` (the demo's --out, meaning a folder beside its runs) wrote its manifest
    there, which made the folder one run: `report runs/demo` then tabled that run alone, the demo's
    runs unseen, without a word. A folder of its own, the name's next free one, is proposed."""
    from inpaintbench.paths import run_folders

    runs = tmp_path / "demo"
    for name in ("telea", "navier-stokes"):
        run(RunConfig(method=name, buckets=["10-20"], limit=1, deep_metrics=False), runs / name, log=lambda s: None)
    with pytest.raises(InputError, match=(f"--out {re.escape(str(runs))}: a folder of runs \\(telea, navier-stokes\\), "
                                          f"which this run's files would make one run .* e.g. --out {re.escape(str(runs / 'telea-2'))}$")):
        run(RunConfig(method="telea", buckets=["10-20"], limit=1, deep_metrics=False), runs, log=lambda s: None)
    assert sorted(p.name for p in runs.iterdir()) == ["navier-stokes", "telea"]
    assert [d.name for d in run_folders([runs])] == ["telea", "navier-stokes"]
    run(RunConfig(method="telea", label="mine", buckets=["10-20"], limit=1, deep_metrics=False), runs / "mine", log=lambda s: None)
    assert [d.name for d in run_folders([runs])] == ["telea", "navier-stokes", "mine"]


def test_a_run_at_another_size_is_another_protocol_and_scores_that_size(tmp_path):
    """`--size`: a set generated at 512 px could be used by no command (run and export-inputs
    scored at 256 only). A run at 96 px scores the images and masks at 96 (checked against
    scikit-image on the composite made here from the files), an outside tool's outputs made
    from `export-inputs --size 96` score the same, and the run is another protocol: the caption
    says the size, a 256 run will not share its table, and the 256-px frozen set is refused."""
    import csv

    import cv2
    import numpy as np
    from skimage.metrics import peak_signal_noise_ratio

    from inpaintbench.data import get_dataset
    from inpaintbench.masks.build import generate_set
    from inpaintbench.protocol import PROTOCOL

    photos, masks = tmp_path / "photos", tmp_path / "masks96"
    photos.mkdir()
    demo = get_dataset("demo")
    for i in demo.ids()[:2]:
        Image.fromarray(demo.load(i)).resize((96, 96), Image.BICUBIC).save(photos / f"{i}.png")
    generate_set(masks, per_bucket=1, size=96)
    common = ["--dataset", "folder", "--data-root", str(photos), "--resize", "exact", "--buckets", "30-40"]
    cli = lambda *args: CliRunner().invoke(app, [*args])
    r = cli("export-inputs", *common, "--masks", str(masks), "--size", "96", "--out", str(tmp_path / "exp"))
    assert r.exit_code == 0, r.output
    assert "--size 96" in (tmp_path / "exp" / "README.txt").read_text()
    (tmp_path / "preds").mkdir()
    for row in csv.DictReader((tmp_path / "exp" / "pairs.csv").read_text().splitlines()):  # an outside tool, from its files
        img = np.asarray(Image.open(tmp_path / "exp" / "inputs" / f"{row['key']}.png"))
        hole = np.asarray(Image.open(tmp_path / "exp" / "holes" / f"{row['key']}.png")) > 127
        assert img.shape == (96, 96, 3)
        Image.fromarray(cv2.inpaint(img, hole.astype(np.uint8), 3, cv2.INPAINT_TELEA)).save(tmp_path / "preds" / f"{row['key']}.png")
    runs = {"telea": ["--method", "telea"], "files": ["--method", "predictions", "--predictions", str(tmp_path / "preds")]}
    for name, args in runs.items():
        r = cli("run", *args, *common, "--masks", str(masks), "--size", "96", "--no-deep-metrics", "--out", str(tmp_path / name))
        assert r.exit_code == 0, r.output
    key = lambda rec: (rec["image_id"], rec["mask_file"])
    direct, via = (sorted(read_records(tmp_path / n / RECORDS), key=key) for n in runs)
    assert len(direct) == 2 and [key(a) for a in direct] == [key(b) for b in via]
    for a, b in zip(direct, via):
        assert all(a[m] == b[m] for m in ("l1", "l2", "psnr", "ssim")), (a, b)
        gt = np.asarray(Image.open(photos / a["image_id"]))
        hole = np.asarray(Image.open(masks / a["mask_file"])) > 127
        fill = cv2.inpaint(np.where(hole[..., None], 0, gt).astype(np.uint8), hole.astype(np.uint8), 3, cv2.INPAINT_TELEA)
        composite = np.where(hole[..., None], fill, gt)
        assert abs(a["psnr"] - peak_signal_noise_ratio(gt, composite)) < 1e-4
        assert abs(a["hole_ratio"] - hole.mean()) < 1e-6
    manifest = json.loads((tmp_path / "telea" / "manifest.json").read_text())
    assert manifest["protocol"]["eval_size"] == 96 and manifest["protocol"]["id"] != PROTOCOL.id
    assert "96 -> 299" in manifest["protocol"]["fid_resize"]
    r = cli("report", str(tmp_path / "telea"), str(tmp_path / "files"))
    assert r.exit_code == 0 and "(2 images at 96x96)" in r.output, r.output

    r = cli("run", "--method", "telea", "--dataset", "folder", "--data-root", str(photos), "--buckets", "30-40",
            "--no-deep-metrics", "--out", str(tmp_path / "at256"))
    assert r.exit_code == 0, r.output
    r = cli("report", str(tmp_path / "telea"), str(tmp_path / "at256"))
    assert r.exit_code == 2 and "evaluation size (--size) differs (256 vs 96)" in " ".join(r.output.split())
    r = cli("compare", str(tmp_path / "telea"), str(tmp_path / "at256"))
    assert r.exit_code == 2 and "cannot compare" in r.output and "evaluation size (--size) differs" in " ".join(r.output.split())
    r = cli("run", "--method", "telea", *common, "--size", "96", "--out", str(tmp_path / "frozen"))
    assert r.exit_code == 2 and "--polarity hole-white --size 96 --out NEW_DIR" in " ".join(r.output.split()), r.output
    assert not (tmp_path / "frozen").exists()


def test_files_a_merge_or_an_edit_broke_are_named_by_every_command(tmp_path):
    """A run folder or mask set committed on two branches and merged holds git's conflict markers:
    a manifest.json or records.jsonl so damaged ended report, run, compare and check in a
    JSONDecodeError traceback; a mask set's manifest.csv so damaged was run on, the rows around
    the markers taken for the set, and `masks stats` counted the marker lines as masks."""
    import shutil

    from inpaintbench.masks import DEFAULT_MASK_DIR

    good = tmp_path / "good"
    run(RunConfig(method="telea", limit=1, buckets=["10-20"], deep_metrics=False), good, log=lambda s: None)
    cli = CliRunner()
    said = lambda r: " ".join(r.output.split())
    merged = lambda text: "<<<<<<< HEAD\n" + text + "=======\n" + text + ">>>>>>> theirs\n"
    commands = lambda d: (["report", str(d)], ["compare", str(d), str(good)], ["check", str(d), "--baseline", str(tmp_path / "b.json")],
                          ["run", "--method", "telea", "--limit", "1", "--buckets", "10-20", "--no-deep-metrics", "--out", str(d)])
    assert cli.invoke(app, ["check", str(good), "--baseline", str(tmp_path / "b.json"), "--update"]).exit_code == 0
    for broken, name, expected in (
            ("manifest", "manifest.json", "manifest.json: not JSON (line 1: Expecting value); it holds merge-conflict markers: "
                                          "resolve them; it describes the records.jsonl beside it: restore it (from git or a copy)"),
            ("records", "records.jsonl", "records.jsonl: record 1 is not JSON (Expecting value): '<<<<<<< HEAD'; it holds "
                                         "merge-conflict markers: resolve them")):
        d = tmp_path / broken
        shutil.copytree(good, d)
        (d / name).write_text(merged((good / name).read_text()))
        before = (d / name).read_bytes()
        for command in commands(d):
            r = cli.invoke(app, command)
            assert r.exit_code == 2 and said(r) == f"error: {d / expected}", (command, r.output)
        assert (d / name).read_bytes() == before  # nothing cut or rewritten
    d = tmp_path / "cut"
    shutil.copytree(good, d)
    (d / "manifest.json").write_text((good / "manifest.json").read_text()[:200])  # an edit, not a merge
    r = cli.invoke(app, ["report", str(d)])
    assert r.exit_code == 2 and "manifest.json: not JSON (line" in said(r) and "merge-conflict" not in said(r), r.output

    masks = tmp_path / "masks"
    shutil.copytree(DEFAULT_MASK_DIR, masks)
    (masks / "manifest.csv").write_text(merged((DEFAULT_MASK_DIR / "manifest.csv").read_text()))
    expected = f"error: {masks / 'manifest.csv'}: holds merge-conflict markers: resolve them, then `inpaintbench masks verify {masks}`"
    for command in (["masks", "stats", str(masks)], ["masks", "verify", str(masks)],
                    ["run", "--method", "telea", "--masks", str(masks), "--limit", "1", "--out", str(tmp_path / "m")]):
        r = cli.invoke(app, command)
        assert r.exit_code == 2 and said(r) == expected, (command, r.output)
    assert not (tmp_path / "m").exists()


def test_compare_out_takes_a_folder_as_report_does(tmp_path):
    """`compare A B --out DIR` stopped at "a folder is in the way" after printing the table, and
    `--out name` wrote a CSV file named without a suffix; a folder now takes comparisons.csv."""
    for method in ("telea", "navier-stokes"):
        run(RunConfig(method=method, limit=1, buckets=["10-20"], deep_metrics=False), tmp_path / method, log=lambda s: None)
    (tmp_path / "there").mkdir()
    for out, written in ((tmp_path / "there", tmp_path / "there" / "comparisons.csv"),
                         (tmp_path / "new", tmp_path / "new" / "comparisons.csv"),
                         (tmp_path / "c.csv", tmp_path / "c.csv")):
        r = CliRunner().invoke(app, ["compare", str(tmp_path / "telea"), str(tmp_path / "navier-stokes"), "--out", str(out)])
        assert r.exit_code == 0 and f"wrote {written}" in " ".join(r.output.split()), r.output
        assert set(pd.read_csv(written).columns) >= {"metric", "bucket", "verdict"}
    # a report's folder: its comparisons.csv (the reference against every run) had been replaced
    from inpaintbench.report import write_report

    write_report([tmp_path / "telea", tmp_path / "navier-stokes"], tmp_path / "rep", formats=("md", "csv"), log=lambda s: None)
    before = (tmp_path / "rep" / "comparisons.csv").read_bytes()
    r = CliRunner().invoke(app, ["compare", str(tmp_path / "navier-stokes"), str(tmp_path / "telea"), "--out", str(tmp_path / "rep")])
    assert r.exit_code == 2 and f"--out {tmp_path / 'rep'} holds a report, whose comparisons.csv this would replace" \
        in " ".join(r.output.split()), r.output
    assert (tmp_path / "rep" / "comparisons.csv").read_bytes() == before


def test_save_images_given_to_a_finished_run_saves_what_it_scored(tmp_path):
    """The same command with --save-images added saved nothing: every pair was scored, so none was
    filled. The pairs scored before are filled again for their images alone, the same images a
    run made with --save-images from the start saves, and their records are left as they were."""
    one = dict(method="telea", limit=2, buckets=["10-20", "40-50"], batch_size=3, deep_metrics=False)
    run(RunConfig(**one, save_images=True), tmp_path / "from_the_start", log=lambda s: None)
    run(RunConfig(**{**one, "limit": 1}), tmp_path / "r", log=lambda s: None)  # half, then resumed with images
    records = (tmp_path / "r" / RECORDS).read_bytes()
    said = []
    run(RunConfig(**one, save_images=True), tmp_path / "r", log=said.append)
    assert "telea on demo: 2 images x 2 buckets, 2 to do, and the images of 2 pairs scored before without --save-images" in said, said
    assert (tmp_path / "r" / RECORDS).read_bytes().startswith(records)
    assert len(read_records(tmp_path / "r")) == 4  # the two new pairs scored, the two old ones not again
    saved = sorted(p.name for p in (tmp_path / "from_the_start" / "images").iterdir())
    assert len(saved) == 4 and sorted(p.name for p in (tmp_path / "r" / "images").iterdir()) == saved
    for name in saved:
        assert (tmp_path / "r" / "images" / name).read_bytes() == (tmp_path / "from_the_start" / "images" / name).read_bytes()
    said.clear()
    run(RunConfig(**one, save_images=True), tmp_path / "r", log=said.append)
    assert not any("--save-images" in s for s in said), said


def test_the_python_api_refuses_empty_or_mistyped_arguments_in_words(tmp_path):
    """From a script: read_records of a mistyped folder returned [] (a run with no records), buckets=[]
    ended in numpy's "cannot mmap an empty file" after the folder was made, write_report([]) in an
    IndexError."""
    from inpaintbench.report import write_report

    with pytest.raises(InputError, match="runs/py/meanfil: no run folder or records.jsonl here"):
        read_records(tmp_path / "runs" / "py" / "meanfil")
    with pytest.raises(InputError, match="--buckets: none given; buckets: 0-10, 10-20"):
        run(cfg(buckets=[]), tmp_path / "none", log=lambda s: None)
    assert not (tmp_path / "none").exists()
    with pytest.raises(InputError, match="no run folders given"):
        write_report([], tmp_path / "report")
    (tmp_path / "started").mkdir()  # a run's folder before its first record: no records yet, not an error
    assert read_records(tmp_path / "started") == [] and read_records(tmp_path / "started" / RECORDS) == []


def test_a_limit_above_the_datasets_images_says_every_image_is_scored(tmp_path):
    """--limit 40 over the demo's 32 images scored the 32 with nothing said of the 8 not there."""
    logs = []
    run(cfg(limit=40, buckets=["10-20"]), tmp_path, log=logs.append)
    assert "meanfill on demo: 32 images x 1 bucket, 32 to do (--limit 40 is more than the dataset has: every image)" in logs
    logs.clear()
    run(cfg(limit=32, buckets=["10-20"]), tmp_path / "exact", log=logs.append)
    assert not any("--limit" in s for s in logs)


@pytest.mark.parametrize("deep", [False, True], ids=["new-pairs", "reference-features"])
def test_an_image_edited_between_two_sessions_of_a_run_is_refused(tmp_path, deep):
    """A folder image edited (or replaced under its name) between two sessions of a run had its new
    pixels scored beside the old ones' records, and FID's reference made from them. Each record now
    carries its ground truth's sha256, which the next session checks as it loads the image."""
    import hashlib

    import numpy as np
    from skimage import data as skdata

    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("astronaut", "coffee"):
        Image.fromarray(getattr(skdata, name)()).resize((256, 256)).save(photos / f"{name}.png")
    common = {"method": "telea", "dataset": "folder", "data_root": str(photos), "deep_metrics": deep}
    out = tmp_path / "run"
    run(RunConfig(buckets=["10-20"], **common), out, log=lambda s: None)
    sha = {n: hashlib.sha256(np.asarray(Image.open(photos / n)).tobytes()).hexdigest() for n in ("astronaut.png", "coffee.png")}
    assert {(r["image_id"], r["gt_sha256"]) for r in read_records(out / RECORDS)} == set(sha.items())
    Image.open(photos / "coffee.png").transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(photos / "coffee.png")
    # with deep metrics the same buckets again: nothing to score, the reference features load it
    with pytest.raises(InputError, match=r"image 'coffee.png' of folder has other pixels than when this run scored it "
                                         rf"\(sha256 {sha['coffee.png'][:12]} then, [0-9a-f]{{12}} now\)"):
        run(RunConfig(buckets=["10-20"] if deep else ["10-20", "20-30"], **common), out, log=lambda s: None)
    assert {(r["image_id"], r["gt_sha256"]) for r in read_records(out / RECORDS)} == set(sha.items())  # nothing of the new pixels


@pytest.mark.parametrize("field,value", [("limit", 1.5), ("limit", 2.0), ("size", "256"), ("batch_size", True)])
def test_counts_given_from_python_that_are_not_whole_numbers_are_one_line(tmp_path, field, value):
    """RunConfig(size="256") (read from a config file) ended in a TypeError from a comparison,
    limit=1.5 in one from a slice, both deep in the run."""
    flag = "--" + field.replace("_", "-")
    with pytest.raises(InputError, match=rf"^{flag} must be a whole number, got {re.escape(repr(value))}$"):
        run(RunConfig(method="telea", buckets=["10-20"], deep_metrics=False, **{field: value}), tmp_path / "r", log=lambda s: None)
    assert not (tmp_path / "r").exists()


def test_a_run_from_python_without_an_out_goes_where_the_command_puts_it(tmp_path, monkeypatch):
    """run(cfg) without a folder was a TypeError ("expected str ... not NoneType"); it takes the
    command's default, runs/DATASET/NAME."""
    monkeypatch.chdir(tmp_path)
    got = run(RunConfig(method="telea", buckets=["10-20"], limit=1, deep_metrics=False, label="my/telea"), log=lambda s: None)
    assert got == Path("runs") / "demo" / "my_telea" and (tmp_path / got / RECORDS).is_file()
    r = CliRunner().invoke(app, ["run", "--method", "telea", "--buckets", "10-20", "--limit", "1", "--no-deep-metrics",
                                 "--label", "my/telea"])
    assert r.exit_code == 0 and "0 to do" in r.output, r.output  # the command resumes the same folder


def test_a_method_class_that_drops_the_harness_arguments_is_told_how_to_take_them(tmp_path):
    """`def __init__(self): super().__init__()` was refused as "takes no option 'device', 'weights'",
    options the script never gave; a constructor that forgot `super().__init__` failed at the run's
    first use of it with "'NoSuper' object has no attribute 'weights'"."""
    class NoArgs(InpaintingMethod):
        def __init__(self):
            super().__init__()

        def inpaint(self, masked, hole):
            return masked

    class NoSuper(InpaintingMethod):
        def __init__(self, device="cpu", weights=None, radius=3):
            self.radius = radius

        def inpaint(self, masked, hole):
            return masked

    registry.register("no-args", NoArgs)
    registry.register("no-super", NoSuper)
    with pytest.raises(InputError, match=r"method no-args: its __init__ takes no 'device', 'weights', which every run "
                                         r"passes \(the device, the weights file or None\): take them and hand them on, "
                                         r"`def __init__\(self, device=\"cpu\", weights=None, \*\*options\): "
                                         r"super\(\).__init__\(device, weights, \*\*options\)`"):
        run(cfg("no-args"), tmp_path / "a", log=lambda s: None)
    with pytest.raises(InputError, match=r"method no-super: its __init__ did not call InpaintingMethod.__init__ "
                                         r"\(`super\(\).__init__\(device, weights, \*\*options\)`\)"):
        run(cfg("no-super"), tmp_path / "b", log=lambda s: None)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_method_returning_its_networks_stages_is_told_which_to_return(tmp_path):
    with pytest.raises(MethodError, match=r"method 'broken' returned a tuple of 2 tensors, expected a torch.Tensor: "
                                          r"a network's stages \(coarse, fine\)\? return the final image alone"):
        run(cfg("broken", method_options={"mode": "stages"}), tmp_path, log=lambda s: None)


def test_a_misspelt_method_option_from_python_is_refused_with_the_options_there_are(tmp_path):
    """method_options={"radiu": 9} ran Telea at radius 3 and recorded {"radius": 3, "radiu": 9} in the
    manifest as if used; {"weights": ...} ended in a TypeError of registry.create's arguments."""
    with pytest.raises(InputError, match=r"method telea takes no option 'radiu' \(did you mean 'radius'\?\); its options: radius$"):
        run(cfg("telea", method_options={"radiu": 9}), tmp_path / "typo", log=lambda s: None)
    assert not (tmp_path / "typo").exists()
    with pytest.raises(InputError, match=r"method_options \['weights'\]: give weights as the run's own setting \(RunConfig.weights"):
        run(cfg("telea", method_options={"weights": "w.pt"}), tmp_path / "w", log=lambda s: None)
    for name, given in (("biharmonic", {"radius": 3}), ("pconv", {"cnum": 16}), ("predictions", {"prediction": "p"})):
        with pytest.raises(InputError, match=f"method {name} takes no option {next(iter(given))!r}"):
            registry.create(name, **given)  # before a network is loaded or a folder read
    assert registry.create("patchmatch", seed=3).options == {"patch_size": 3, "seed": 3}
    # a method whose constructor takes **options reads them from self.options: any stays accepted
    assert registry.create("broken", mode="shape").options == {"mode": "shape"}
