"""The benchmark's own arithmetic (its timings are not tests)."""
import torch
import torch.nn.functional as F

from inpaintbench.bench import eager_bytes


def test_eager_bytes_counts_each_ops_inputs_and_outputs_once():
    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    x = torch.rand(1, 3, 8, 8)
    # input 3x8x8, weight 4x3x3x3, bias 4, output 4x8x8; fp32
    assert eager_bytes(conv, x) == 4 * (3 * 64 + 108 + 4 + 4 * 64)

    def pad_elu_add(t):
        p = F.pad(t, (1, 1, 1, 1), mode="reflect")  # reads 1x3x8x8, writes 1x3x10x10
        e = F.elu(p)  # reads and writes 1x3x10x10
        return e + e  # one storage read twice counts once, plus the output

    assert eager_bytes(pad_elu_add, x) == 4 * ((192 + 300) + (300 + 300) + (300 + 300))
    assert eager_bytes(pad_elu_add, x.half()) == 2 * ((192 + 300) + (300 + 300) + (300 + 300))


def test_bench_metrics_refuses_no_pairs_before_any_work(tmp_path):
    """--pairs 0 (or a memory size 0) ended in a numpy traceback after the setup."""
    import pytest

    from inpaintbench.bench import bench_metrics
    from inpaintbench.errors import InputError

    for kw, message in ((dict(n=0), "--pairs must be at least 1, got 0"), (dict(memory_sizes=(100, -1)), "--memory-sizes must be at least 1, got -1")):
        with pytest.raises(InputError, match=message):
            bench_metrics(tmp_path / "b.json", workdir=tmp_path / "w", **kw)
        assert not (tmp_path / "w").exists() and not (tmp_path / "b.json").exists()


def test_the_bench_command_takes_pairs_0_as_0_and_refuses_another_targets_options(tmp_path):
    """`--pairs 0` was read as "not given" (`pairs or 36_500`) and timed the default 36,500 pairs
    for a minute; --pairs to a method's benchmark and --weights to the others went unused unsaid."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app

    out = str(tmp_path / "b.json")
    for args, said in ((["metrics", "--pairs", "0"], "--pairs must be at least 1, got 0"),
                       (["report", "--pairs", "0"], "--pairs must be at least 2, got 0"),
                       (["set-metrics", "--pairs", "0"], "--pairs must be at least 2, got 0"),
                       (["telea", "--pairs", "5"], "--pairs is for the metrics, report and set-metrics benchmarks"),
                       (["report", "--weights", "w.pt"], "--weights is for a method's benchmark"),
                       # "unknown method", naming methods only; and the predictions adapter, which has no fill
                       (["metric"], "unknown bench target 'metric'; targets: metrics, report, set-metrics, or a method: "),
                       (["predictions"], "predictions reads outputs made elsewhere, so it has no fill to time"),
                       # the other targets' options went unused unsaid, and --no-cpu without a GPU (or of a
                       # method that runs on the CPU only) timed nothing and wrote that over reports/bench
                       (["telea", "--methods", "3"], "--methods is for the report benchmark: bench telea does not use it"),
                       (["report", "--memory-sizes", "5"], "--memory-sizes is for the metrics benchmark: bench report does"),
                       (["metrics", "--no-cpu"], "--no-cpu is for a method's benchmark: bench metrics does not use it"),
                       (["telea", "--no-cpu"], "--no-cpu times the GPU alone, and " + (
                           "telea runs on the CPU only" if torch.cuda.is_available() else "this machine has no CUDA device"))):
        r = CliRunner().invoke(app, ["bench", *args, "--out", out])
        assert r.exit_code == 2 and said in " ".join(r.output.split()), (args, r.output)
        assert not (tmp_path / "b.json").exists()
    methods = " ".join(CliRunner().invoke(app, ["bench", "metric"]).output.split()).split("or a method: ")[1].split(", ")
    assert {"patchmatch", "rwconv", "telea"} <= set(methods) and "predictions" not in methods


def test_bench_report_counts_the_intervals_a_report_makes(tmp_path):
    """Each run gets an interval per metric and bucket, each run past the first a paired one against
    it: the JSON's count and time estimate are of that many (8 per-image metrics, 6 buckets)."""
    import json

    from inpaintbench.bench import bench_report

    r = bench_report(tmp_path / "r.json", pairs=20, methods=3, log=lambda s: None)
    assert r["intervals"] == 8 * 6 * 3 + 8 * 6 * 2
    assert json.loads((tmp_path / "r.json").read_text())["intervals"] == r["intervals"]
    assert r["scipy_bootstrap_per_interval_seconds_estimate"] == r["scipy_bootstrap_one_interval_seconds"] * r["intervals"]
    # the whole report, in its own process, over run folders of that size
    e2e = r["end_to_end"]
    assert e2e["records_per_run"] == 20 * 6 and e2e["peak_rss_mib"] > 0 and e2e["per_image_csv_mib"] > 0


def test_bench_set_metrics_scores_every_bucket_of_a_made_up_run(tmp_path):
    """The set metrics' benchmark runs runner.set_metrics in its own process on features it made."""
    import json

    from inpaintbench.bench import bench_set_metrics

    r = bench_set_metrics(tmp_path / "s.json", images=30, log=lambda s: None)
    assert r["feature_rows"] == 180 and r["features_mib"] == 180 * 2048 * 4 / 2 ** 20 and r["peak_rss_mib"] > 0
    assert json.loads((tmp_path / "s.json").read_text())["seconds"] == r["seconds"]


def test_bench_names_the_processor_from_the_first_block_of_cpuinfo():
    """Two sessions' machines both said only "AMD EPYC" and a core count; their CPU timings differed
    by half. The first processor's family, model, stepping and clock now go into every bench JSON."""
    from inpaintbench.bench import _env, cpu_model

    text = ("processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n"
            "model name\t: Intel(R) Xeon(R) Platinum 8480+\nstepping\t: 8\ncpu MHz\t\t: 2000.000\nflags\t\t: fpu\n\n"
            "processor\t: 1\ncpu family\t: 6\nmodel\t\t: 85\nmodel name\t: another\nstepping\t: 4\n")
    got = cpu_model(text)
    assert {k: got[k] for k in ("model_name", "family", "model", "stepping", "mhz")} == {
        "model_name": "Intel(R) Xeon(R) Platinum 8480+", "family": "6", "model": "143", "stepping": "8", "mhz": "2000.000"}
    assert got["isa"] == torch.backends.cpu.get_cpu_capability()
    # no /proc/cpuinfo (macOS, Windows): the platform's own name, never an empty record
    import platform

    assert cpu_model("")["model_name"] == platform.processor()
    assert "cpu" in _env() and _env()["cpu"]["isa"]
