"""Benchmarks (not tests): speed and memory figures written as JSON under reports/bench/.

`metrics`: the metric suite (one decode, batched, one Inception pass serving FID features and
the perceptual taps, each ground truth once per batch) against the naive path a script would
take (decode per metric, scikit-image per image, a separate Inception pass for FID and another
for the perceptual error), on the same (image, mask) pairs, checking the numbers agree. Peak
memory of the suite is measured in fresh processes at two sizes.

`report`: the report's bootstrap intervals and paired tests at Places2's size, against a
scipy.stats.bootstrap call per interval, the way they were made before; then the whole
`inpaintbench report` (read the runs, tables, statistics, per_image.csv) over made-up run
folders of that size, in a fresh process for its time and peak memory.

`set-metrics`: FID and KID at the end of one Places2-sized run (219,000 feature rows), in a fresh
process for its time and peak memory.

`METHOD`: inference latency of any registered method at batch 1 and 8 on the CPU, FLOPs
counted with torch's FlopCounterMode, and bf16/channels_last GPU throughput when CUDA exists.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from . import registry
from .data import get_dataset
from .errors import InputError, refuse_below
from .lock import write_atomic
from .masks import BUCKETS, DEFAULT_MASK_DIR, MaskSet
from .runner import cpu_model
from .workers import private_mib, usable_cores

CPU_PEAK_NOTE = "CPU peak FLOP/s is not measured; the fraction of peak is reported for GPUs only"
GPU_PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12}  # dense bf16 tensor-core peaks
GPU_BANDWIDTH = {"H100": 3.35e12, "H200": 4.8e12, "A100": 2.0e12}  # HBM bytes/s, datasheets (SXM)


def _gpu_figure(table: dict[str, float]) -> float | None:
    """The datasheet figure of this machine's GPU model, or None for a model not in the table."""
    return next((v for k, v in table.items() if k in torch.cuda.get_device_name()), None)


def eager_bytes(fn, *args) -> int:
    """Bytes an eager run of fn(*args) reads and writes through memory if every op streams its
    tensor inputs and outputs once (no cache reuse, no fusion): the traffic a GPU pays without a
    compiler, so images/s x this over the bandwidth says how near the memory floor a run is.
    Counted per aten op with a dispatch mode; a storage read twice by one op counts once."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    total = 0

    class Count(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            nonlocal total
            out = func(*args, **(kwargs or {}))
            seen = {}
            for t in tree_leaves((args, kwargs, out)):
                if isinstance(t, torch.Tensor) and t.device.type != "meta":
                    seen[(t.untyped_storage().data_ptr(), t.storage_offset(), t.dtype, tuple(t.shape))] = t.numel() * t.element_size()
            total += sum(seen.values())
            return out

    with torch.no_grad(), Count():
        fn(*args)
    return total


def _env() -> dict:
    return {"platform": platform.platform(), "cpu": cpu_model(), "cpu_count": os.cpu_count(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "load_average_1min": os.getloadavg()[0],
            "date": time.strftime("%Y-%m-%dT%H:%M:%S")}


def _pairs(n: int, workdir: Path) -> list[tuple[Path, Path, Path, str]]:
    """n (ground truth PNG, composite PNG, hole PNG, image id) written to disk, composites by Telea."""
    ds, ms = get_dataset("demo"), MaskSet(DEFAULT_MASK_DIR)
    telea = registry.create("telea")
    ids = ds.ids()
    out = []
    workdir.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        i, b = k // len(BUCKETS) % len(ids), BUCKETS[k % len(BUCKETS)]
        entry = ms.pick(b, k // len(BUCKETS))
        gt = torch.from_numpy(np.array(ds.load(ids[i]))).permute(2, 0, 1)[None].float() / 255
        hole = torch.from_numpy(ms.load(entry, 256))[None, None].float()
        comp = gt * (1 - hole) + (telea.inpaint(gt * (1 - hole), hole) * 255).round() / 255 * hole
        paths = [workdir / f"{k:05d}_{s}.png" for s in ("gt", "comp", "hole")]
        for p, t in zip(paths, (gt, comp, hole.expand(1, 3, 256, 256))):
            Image.fromarray((t[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)).save(p)
        out.append((*paths, ids[i]))
    return out


def _load(p: Path) -> np.ndarray:
    return np.asarray(Image.open(p).convert("RGB"), dtype=np.float64) / 255


def naive(pairs) -> dict:
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    from .metrics.backbones import load_tf_inception
    from .metrics.perceptual import perceptual_error

    net = load_tf_inception()
    t = lambda a: torch.from_numpy(a).permute(2, 0, 1)[None].float()
    res = {"psnr": [], "ssim": [], "l1": [], "perceptual_inception": [], "pool3": []}
    with torch.no_grad():
        for g, c, _, _ in pairs:  # pass 1: pixel metrics
            gt, comp = _load(g), _load(c)
            res["psnr"].append(peak_signal_noise_ratio(gt, comp, data_range=1))
            res["ssim"].append(structural_similarity(gt, comp, channel_axis=2, gaussian_weights=True,
                                                     use_sample_covariance=False, data_range=1.0))
            res["l1"].append(np.abs(gt - comp).mean())
        for _, c, _, _ in pairs:  # pass 2: FID features
            res["pool3"].append(net(t(_load(c)), taps=False)[1][0].numpy())
        for g, c, _, _ in pairs:  # pass 3: perceptual error
            fg, _ = net(t(_load(g)), pool3=False)
            fc, _ = net(t(_load(c)), pool3=False)
            res["perceptual_inception"].append(float(perceptual_error(fc, fg)))
    return {k: np.array(v) for k, v in res.items()}


def suite_path(pairs, batch_size: int = 8) -> dict:
    from .metrics.suite import MetricSuite

    suite = MetricSuite(lpips_nets=())
    res = {"psnr": [], "ssim": [], "l1": [], "perceptual_inception": [], "pool3": []}
    for s in range(0, len(pairs), batch_size):
        chunk = pairs[s : s + batch_size]
        gt = torch.stack([torch.from_numpy(_load(g)).permute(2, 0, 1) for g, _, _, _ in chunk]).float()
        comp = torch.stack([torch.from_numpy(_load(c)).permute(2, 0, 1) for _, c, _, _ in chunk]).float()
        hole = torch.stack([torch.from_numpy(_load(h)[..., :1] > 0.5).permute(2, 0, 1) for _, _, h, _ in chunk]).float()
        scores, feats = suite.score(comp, gt, hole, [k for *_, k in chunk])
        for k in ("psnr", "ssim", "l1", "perceptual_inception"):
            res[k] += scores[k].tolist()
        res["pool3"] += list(feats)
    return {k: np.array(v) for k, v in res.items()}


def _timed_child(setup: str, timed: str) -> tuple[float, float]:
    """Seconds the statement `timed` takes after `setup` in a fresh Python process, and that
    process's peak RSS in MiB (its own: nothing of this process's memory)."""
    code = (f"import resource, time; {setup}; t = time.time(); {timed}; "
            "print(time.time() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    seconds, peak = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()[-2:]
    return float(seconds), int(peak) / 1024


def _peak_rss_child(n: int, workdir: Path) -> dict:
    seconds, peak = _timed_child("from pathlib import Path; from inpaintbench.bench import _pairs, suite_path; "
                                 f"p = _pairs({n}, Path({str(workdir)!r}))", "suite_path(p)")
    return {"pairs": n, "seconds": seconds, "pairs_per_s": n / seconds, "peak_rss_mib": peak}


def bench_metrics(out: Path, n: int = 96, memory_sizes=(100, 1000), workdir: Path | None = None, log=print) -> dict:
    import tempfile

    refuse_below(1, ("--pairs", n), *(("--memory-sizes", m) for m in memory_sizes))
    workdir = Path(workdir or tempfile.mkdtemp(prefix="ib_bench_"))
    pairs = _pairs(n, workdir / "speed")
    t0 = time.time()
    a = suite_path(pairs)
    t_suite = time.time() - t0
    log(f"suite: {n / t_suite:.2f} pairs/s")
    t0 = time.time()
    b = naive(pairs)
    t_naive = time.time() - t0
    log(f"naive: {n / t_naive:.2f} pairs/s")
    agree = {k: float(np.max(np.abs(a[k] - b[k]) / np.maximum(1e-12, np.abs(b[k])))) for k in a}
    memory = [_peak_rss_child(m, workdir / f"mem{m}") for m in memory_sizes]
    for m in memory:
        log(f"suite on {m['pairs']} pairs: peak RSS {m['peak_rss_mib']:.0f} MiB")
    result = {
        "what": "full metric suite (l1, l2, PSNR, SSIM whole+hole, Inception pool3 for FID/KID, perceptual_inception) "
                "on 256x256 composites; naive = scikit-image per image + separate Inception passes for FID and perceptual, "
                "each decoding the PNGs again",
        "pairs": n, "pairs_note": "each demo image appears under up to 6 masks, as in a real run",
        "suite_pairs_per_s": n / t_suite, "naive_pairs_per_s": n / t_naive, "speedup": t_naive / t_suite,
        "max_relative_difference": agree, "memory": memory, "environment": _env(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, json.dumps(result, indent=2))
    return result


def bench_report(out: Path, pairs: int = 36_500, methods: int = 10, log=print) -> dict:
    """The report's statistics (a bootstrap interval per metric, bucket and method; a paired
    interval and Wilcoxon test per metric and bucket against the reference) on made-up scores of
    a Places2-sized run: `pairs` (image, mask) pairs a bucket, every bucket, `methods` runs. The
    way the report had, a scipy.stats.bootstrap call per interval, is timed on one and scaled up."""
    import resource

    import pandas as pd
    from scipy import stats as sps

    from . import stats
    from .report import DEFAULT_METRICS

    refuse_below(2, ("--pairs", pairs), ("--methods", methods))
    metrics = [m for m in DEFAULT_METRICS if m not in stats.SET_METRICS]
    rng = np.random.default_rng(0)
    frames = [pd.DataFrame({"method": f"m{k}", "bucket": b.name, "image_id": np.arange(pairs), "mask_file": f"{b.name}.png",
                            **{m: rng.normal(k, 1, pairs) for m in metrics}})
              for k in range(methods) for b in BUCKETS]
    df = pd.concat(frames, ignore_index=True)
    del frames
    t0 = time.time()
    summ = stats.summary(df, metrics)
    t_summary = time.time() - t0
    log(f"summary: {len(summ)} intervals in {t_summary:.1f} s")
    t0 = time.time()
    cmp = [stats.paired(df, "m0", f"m{k}", metrics) for k in range(1, methods)]
    t_paired = time.time() - t0
    n_paired = sum(len(c) for c in cmp)
    log(f"paired: {n_paired} comparisons in {t_paired:.1f} s")
    one = df.psnr[(df.method == "m0") & (df.bucket == BUCKETS[0].name)].to_numpy()
    t0 = time.time()
    for _ in range(3):
        sps.bootstrap((one,), np.mean, confidence_level=stats.CONFIDENCE, n_resamples=stats.RESAMPLES,
                      method="percentile", rng=np.random.default_rng(stats.REPORT_SEED))
    t_one = (time.time() - t0) / 3
    log(f"one interval by scipy.stats.bootstrap: {t_one:.2f} s")
    result = {
        "what": "stats.summary + stats.paired (the intervals and tests of `inpaintbench report`) on made-up normal scores; "
                f"{len(metrics)} per-image metrics x {len(BUCKETS)} buckets x {methods} runs, each compared with the first",
        "pairs_per_bucket": pairs, "methods": methods, "intervals": len(summ) + n_paired, "resamples": stats.RESAMPLES,
        "summary_seconds": t_summary, "paired_seconds": t_paired,
        "scipy_bootstrap_one_interval_seconds": t_one,
        "scipy_bootstrap_per_interval_seconds_estimate": t_one * (len(summ) + n_paired),
        "resampled_elements_at_once": stats.RESAMPLED_AT_ONCE,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    del df, summ, cmp
    result["end_to_end"] = _report_end_to_end(pairs, methods, log)
    result["environment"] = _env()
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, json.dumps(result, indent=2))
    return result


def bench_set_metrics(out: Path, images: int = 36_500, log=print) -> dict:
    """FID and KID of one run, every bucket and all (runner.set_metrics, the end of each run with deep
    metrics), over made-up Inception features of `images` images x 6 buckets (Places2: 219,000
    rows, 1.8 GB), in a fresh process for its time and peak memory."""
    import shutil
    import tempfile

    from .metrics.suite import FEATURE_DIM
    from .runner import FEATURES, RECORDS

    refuse_below(2, ("--pairs", images))
    work = Path(tempfile.mkdtemp(prefix="inpaintbench-bench-set-"))
    try:
        rng = np.random.default_rng(0)
        reference = np.abs(rng.normal(0.3, 0.3, (images, FEATURE_DIM))).astype(np.float32)
        np.save(work / "reference.npy", reference)
        with open(work / RECORDS, "w") as f, open(work / FEATURES, "wb") as ff:
            for start in range(0, images, 1000):
                chunk = np.repeat(np.arange(start, min(images, start + 1000)), len(BUCKETS))
                for row, i in enumerate(chunk, start * len(BUCKETS)):
                    f.write(json.dumps({"image_id": f"img{i:08d}", "bucket": BUCKETS[row % len(BUCKETS)].name,
                                         "feature_row": row}) + "\n")
                (reference[chunk] + rng.normal(0, 0.05, (len(chunk), FEATURE_DIM))).astype(np.float32).tofile(ff)
        seconds, peak = _timed_child("import numpy as np; from pathlib import Path; from inpaintbench.runner import set_metrics; "
                                     f"w = Path({str(work)!r}); ref = np.load(w / 'reference.npy'); "
                                     f"ids = [f'img{{i:08d}}' for i in range({images})]",
                                     "set_metrics(w, ref, ids, log=lambda s: None)")
        result = {"what": "runner.set_metrics: FID and KID per bucket and over all buckets of one run, made-up features, "
                          "a fresh process (its peak includes the ground truth's features and the features file as read)",
                  "images": images, "feature_rows": images * len(BUCKETS),
                  "features_mib": (work / FEATURES).stat().st_size / 2 ** 20,
                  "seconds": seconds, "peak_rss_mib": peak, "environment": _env()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log(f"set metrics over {images * len(BUCKETS)} features: {result['seconds']:.0f} s, peak {result['peak_rss_mib']:.0f} MiB")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, json.dumps(result, indent=2))
    return result


def _report_end_to_end(pairs: int, methods: int, log=print) -> dict:
    """`inpaintbench report RUNS --out D -f md -f csv -f latex` over `methods` made-up run folders
    of `pairs` pairs a bucket, timed in a child process (its peak memory is the report's alone).
    The folders copy a real run's manifest (telea, one demo image, pixel metrics) and fill
    records.jsonl with Places2-like identifiers and made-up pixel-metric values."""
    import hashlib
    import resource
    import shutil
    import tempfile

    from .runner import MANIFEST, RECORDS, RunConfig, run

    work = Path(tempfile.mkdtemp(prefix="inpaintbench-bench-report-"))
    try:
        run(RunConfig(method="telea", limit=1, deep_metrics=False), work / "seed", log=lambda s: None)
        seed = json.loads((work / "seed" / MANIFEST).read_text())
        metrics = [k for k in json.loads((work / "seed" / RECORDS).read_text().splitlines()[0])
                   if k not in ("image_id", "image_index", "mask_file", "mask_sha256", "hole_ratio", "bucket", "method", "seconds",
                                "gt_sha256")]
        seed["dataset"].update(images=pairs, evaluated_images=pairs)
        for key in ("ids_sha256", "evaluated_ids_sha256"):  # the seed's one image: made-up runs have no list to hash
            seed["dataset"].pop(key, None)
        rng = np.random.default_rng(0)
        mask_sha = {f: hashlib.sha256(f.encode()).hexdigest()
                    for f in (f"{b.name}/{j:04d}.png" for b in BUCKETS for j in range(min(pairs, 2000)))}
        t0, dirs = time.time(), []
        for k in range(methods):
            d = work / f"m{k}"
            d.mkdir()
            name = f"m{k}"
            (d / MANIFEST).write_text(json.dumps({**seed, "config": {**seed["config"], "label": name},
                                                  "config_identity": {**seed["config_identity"], "label": name}}))
            values = rng.normal(k, 1, (pairs * len(BUCKETS), len(metrics)))
            with open(d / RECORDS, "w") as f:
                for i in range(pairs):
                    pixels = hashlib.sha256(str(i).encode()).hexdigest()  # one image's in every run, as real ones
                    for j, b in enumerate(BUCKETS):
                        mask = f"{b.name}/{i % 2000:04d}.png"
                        rec = {"image_id": f"Places365_val_{i + 1:08d}.jpg", "image_index": i, "mask_file": mask,
                               "mask_sha256": mask_sha[mask], "hole_ratio": b.hi_pct / 100 - 0.05, "bucket": b.name,
                               "method": name, "seconds": 0.01, "gt_sha256": pixels, **dict(zip(metrics, values[i * len(BUCKETS) + j].tolist()))}
                        f.write(json.dumps(rec) + "\n")
            dirs.append(d)
        log(f"made {methods} run folders of {pairs * len(BUCKETS)} records in {time.time() - t0:.0f} s")
        cmd = [sys.executable, "-c", "from inpaintbench.cli import main; main()", "report", *map(str, dirs),
               "--out", str(work / "report"), "-f", "md", "-f", "csv", "-f", "latex"]
        t0 = time.time()
        subprocess.run(cmd, check=True, capture_output=True)
        seconds = time.time() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        log(f"inpaintbench report of them: {seconds:.0f} s, peak {peak:.0f} MiB")
        return {"what": "inpaintbench report RUNS --out DIR -f md -f csv -f latex, a fresh process; made-up runs with "
                        f"{len(metrics)} per-image pixel metrics",
                "records_per_run": pairs * len(BUCKETS), "records_mib_per_run": (dirs[0] / RECORDS).stat().st_size / 2 ** 20,
                "seconds": seconds, "peak_rss_mib": peak,
                "per_image_csv_mib": (work / "report" / "per_image.csv").stat().st_size / 2 ** 20}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _seconds_per_image(method, x, hole, repeats) -> float:
    """The fastest of `repeats` calls on the batch, after one warm-up call (which also starts a pool)."""
    method.inpaint(x * (1 - hole), hole)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        method.inpaint(x * (1 - hole), hole)
        times.append(time.perf_counter() - t0)
    return min(times) / len(x)


def _bench_cpu(name, method, x, hole, flops, repeats, log) -> dict:
    r = {}
    for b in (1, 8):
        per_image = _seconds_per_image(method, x[:b], hole[:b], repeats)
        r[f"batch{b}"] = {"seconds_per_image": per_image, "images_per_s": 1 / per_image,
                          "achieved_gflop_per_s": flops / per_image / 1e9 if flops else None}
        log(f"{name} cpu batch {b}: {per_image * 1000:.1f} ms/image")
    if getattr(method, "parallel", False) and (cores := usable_cores()) > 1:
        # what `run --workers` gains: the batch of 8 over every usable core, once the pool has started
        method.workers = cores
        per_image = _seconds_per_image(method, x, hole, repeats)
        # what each worker adds to the run's memory, the largest of them (None off Linux)
        own = [private_mib(pid) for pid in method.worker_pids()]
        r["batch8_workers"] = {"workers": cores, "seconds_per_image": per_image, "images_per_s": 1 / per_image,
                               "speedup_over_one": r["batch8"]["seconds_per_image"] / per_image,
                               "worker_private_mib": None if None in own else max(own)}
        log(f"{name} cpu batch 8 over {cores} workers: {per_image * 1000:.1f} ms/image")
    r["note"] = CPU_PEAK_NOTE
    if hasattr(method, "benchmark_training"):
        r["training"] = method.benchmark_training("cpu")
        # what `inpaintbench train --precision bf16` gains on a CPU with native bf16 (the numbers say if it does)
        r["training_bf16"] = method.benchmark_training("cpu", precision="bf16")
        log(f"{name} cpu training at 256 px, batch 8: {r['training']['images_per_s']:.2f} images/s fp32, "
            f"{r['training_bf16']['images_per_s']:.2f} bf16 autocast")
    return r


def bench_method(name: str, out: Path, weights: str | None = None, repeats: int = 3, cpu: bool = True, log=print) -> dict:
    from torch.utils.flop_counter import FlopCounterMode

    method = registry.create(name, device="cpu", weights=weights)
    if not cpu:  # timing nothing, it had written a JSON of no timings over the committed one
        if not torch.cuda.is_available():
            raise InputError("--no-cpu times the GPU alone, and this machine has no CUDA device: nothing would be timed")
        if not hasattr(method, "benchmark_gpu"):
            raise InputError(f"--no-cpu times the GPU alone, and {name} runs on the CPU only: nothing would be timed")
    result = {"method": method.describe(), "environment": _env()}
    x, hole = torch.rand(8, 3, 256, 256), torch.zeros(8, 1, 256, 256)
    hole[..., 64:160, 48:200] = 1
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        method.inpaint(x[:1] * (1 - hole[:1]), hole[:1])
    flops = fc.get_total_flops()
    if flops:
        result["flops_per_image_forward"] = flops
        # fp32 here; the GPU section counts its own bf16 run (CPU autocast keeps ops such as reflection
        # padding in fp32 and adds casts that CUDA's does not, so a CPU count would misstate a GPU's)
        result["bytes_per_image_forward_eager_fp32"] = eager_bytes(method.inpaint, x[:1] * (1 - hole[:1]), hole[:1])
    else:
        # a method that computes outside torch (OpenCV, scikit-image, PatchMatch) had "0" FLOPs and
        # the bytes of its tensor conversions written as if they were its work
        result["flops_per_image_forward"] = result["bytes_per_image_forward_eager_fp32"] = None
        result["forward_note"] = "computed outside torch: its FLOPs and memory traffic are not counted"
    if cpu:
        result["cpu"] = _bench_cpu(name, method, x, hole, flops, repeats, log)
    if torch.cuda.is_available() and hasattr(method, "benchmark_gpu"):
        g = method.benchmark_gpu(batch=64)
        peak = _gpu_figure(GPU_PEAK_BF16)
        if peak and flops:
            g["fraction_of_bf16_peak"] = flops * g["images_per_s"] / peak
        bandwidth = _gpu_figure(GPU_BANDWIDTH)
        if bandwidth and g.get("bytes_per_image_forward_eager"):
            # near 1: memory-bound as written, only fusion (a compiler) goes faster; far below 1
            # with a small FLOP fraction too: launches and small-channel kernels are the cost
            g["fraction_of_eager_memory_floor"] = g["bytes_per_image_forward_eager"] * g["images_per_s"] / bandwidth
        log(f"{name} gpu inference, batch 64 bf16 channels_last: {g['images_per_s']:.0f} images/s")
        if hasattr(method, "benchmark_training"):
            g["training"] = method.benchmark_training("cuda", batch=32, precision="bf16", steps=5)
            log(f"{name} gpu training at 256 px, batch 32 bf16: {g['training']['images_per_s']:.0f} images/s")
            # the trainer's --channels-last and --compile, measured so a GPU session knows which to train with
            g["training_variants"] = {}
            for key, opts in (("channels_last", {"channels_last": True}), ("channels_last+compile", {"channels_last": True, "compile": True})):
                r = g["training_variants"][key] = method.benchmark_training("cuda", batch=32, precision="bf16", steps=10, **opts)
                log(f"{name} gpu training, {key}: {r['images_per_s']:.0f} images/s (first step {r['first_step_s']:.0f} s)")
        result["gpu"] = g
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, json.dumps(result, indent=2, default=str))
    return result
