import hashlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import linalg

from inpaintbench.errors import InputError
from inpaintbench.metrics.backbones import load_fid_network, load_tf_inception, load_vgg16
from inpaintbench.metrics.fid import FID, KID, fid_from_features, kid_from_features
from inpaintbench.metrics.perceptual import LPIPSMetric
from inpaintbench.metrics.suite import MetricSuite
from inpaintbench.networks import locate


def batch(demo, ids):
    return torch.stack([torch.from_numpy(np.array(demo.load(i))).permute(2, 0, 1) for i in ids]).float() / 255


@pytest.fixture(scope="module")
def inception_feats(demo):
    """pool3 features of two disjoint halves of the demo set, via our wrapper and via TorchScript directly."""
    net = load_tf_inception()
    script = torch.jit.load(str(locate("inception-tf"))).eval()
    ids = demo.ids()
    out = {}
    with torch.no_grad():
        for name, part in (("a", ids[0::2]), ("b", ids[1::2])):
            x = batch(demo, part)
            out[name] = net(x, taps=False)[1].double().numpy()
            direct = script(F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False) * 255 / 128 - 1)
            out[name + "_direct"] = direct.double().numpy()
    return out


def test_inception_wrapper_equals_the_torchscript_network(inception_feats):
    # the archive's weights in pytorch-fid's network compute what the TorchScript module computes
    assert np.array_equal(inception_feats["a"], inception_feats["a_direct"])


def test_the_fid_network_loads_without_torch_jit_load_and_prints_no_notice(monkeypatch):
    """torch 2.14 deprecates torch.jit.load, and the only offline copy of the TF-FID Inception is
    TorchScript: the network was the script's own layers, so FID would end with the loader. Its
    weights are now read from the archive's zip into pytorch-fid's network; no deprecation notice
    (TorchScript's or TypedStorage's) is printed."""
    import warnings

    def gone(*a, **k):
        raise AssertionError("torch.jit.load called")

    monkeypatch.setattr(torch.jit, "load", gone)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = load_tf_inception()
    assert net.weights_sha256 == hashlib.sha256(locate("inception-tf").read_bytes()).hexdigest()


def test_an_archive_that_is_not_the_tf_fid_inception_is_refused_by_name(tmp_path):
    from inpaintbench.metrics.backbones import TFInception

    (tmp_path / "junk.pt").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="junk.pt: not a TorchScript archive"):
        TFInception(tmp_path / "junk.pt")
    import zipfile
    with zipfile.ZipFile(tmp_path / "zip.pt", "w") as z:
        z.writestr("notes/readme.txt", "a zip, but no data.pkl")
    with pytest.raises(InputError, match="zip.pt: not a TorchScript archive"):
        TFInception(tmp_path / "zip.pt")
    torch.jit.save(torch.jit.script(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3))), str(tmp_path / "other.pt"))
    with pytest.raises(InputError, match=r"other.pt: not the TF-FID Inception archive \(no net.layers\)"):
        TFInception(tmp_path / "other.pt")


def test_fid_equals_the_scipy_sqrtm_formula(inception_feats):
    a, b = inception_feats["a_direct"], inception_feats["b_direct"]
    mu1, mu2, s1, s2 = a.mean(0), b.mean(0), np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    direct = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)
    with pytest.warns(UserWarning, match="rank deficient"):
        ours = fid_from_features(inception_feats["a"], inception_feats["b"])
    assert ours == pytest.approx(direct, rel=1e-3)
    assert ours > 10
    with pytest.warns(UserWarning):
        assert abs(fid_from_features(inception_feats["a"], inception_feats["a"])) < 1e-6 * ours


def test_fid_full_rank_branch_agrees_with_the_low_rank_branch():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((300, 64)), rng.standard_normal((200, 64)) * 1.3 + 0.2

    def direct(a, b):
        mu1, mu2, s1, s2 = a.mean(0), b.mean(0), np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        return ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(linalg.sqrtm(s1 @ s2).real)

    assert fid_from_features(a, b) == pytest.approx(direct(a, b), rel=1e-9)  # n >= d: eigh of sqrt(S1) S2 sqrt(S1)
    with pytest.warns(UserWarning):  # n < d: the n x n form, either set first
        assert fid_from_features(a[:30], b[:50]) == pytest.approx(direct(a[:30], b[:50]), rel=1e-6)
        assert fid_from_features(b[:50], a[:30]) == pytest.approx(direct(a[:30], b[:50]), rel=1e-6)


def _direct_fid(a, b):
    mu1, mu2, s1, s2 = a.mean(0), b.mean(0), np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(linalg.sqrtm(s1 @ s2).real)


def test_fid_reads_a_memmap_a_chunk_at_a_time(tmp_path, monkeypatch):
    """A Places2 run's features (219,000 x 2048 float32) were made float64, centred and squared
    whole: FID over them peaked at 16 GB. Moments read CHUNK_ROWS rows at a time (7 here) and give
    numpy's mean and covariance, and the FID the direct scipy formula gives."""
    from inpaintbench.metrics import fid

    monkeypatch.setattr(fid, "CHUNK_ROWS", 7)
    rng = np.random.default_rng(2)
    for name, x in (("a", rng.normal(0.4, 1, (50, 6))), ("b", rng.gamma(2, 0.5, (31, 6)))):
        x.astype(np.float32).tofile(tmp_path / name)
    a, b = (np.memmap(tmp_path / n, dtype=np.float32, mode="r").reshape(-1, 6) for n in "ab")
    m = fid.Moments(a)
    assert np.allclose(m.mean, np.asarray(a, np.float64).mean(0), rtol=0, atol=1e-12)
    assert np.allclose(m.cov, np.cov(np.asarray(a, np.float64), rowvar=False), rtol=0, atol=1e-12)
    assert np.allclose(m.root @ m.root, m.cov, atol=1e-10)
    direct = _direct_fid(np.asarray(a, np.float64), np.asarray(b, np.float64))
    assert fid.fid_from_features(a, b) == pytest.approx(direct, rel=1e-9)
    assert fid.fid_from_moments(fid.Moments(a), fid.Moments(b)) == pytest.approx(direct, rel=1e-9)


def test_a_runs_set_metrics_over_full_rank_buckets_are_the_direct_formulas(tmp_path, monkeypatch):
    """set_metrics reads the run's features as a memmap and makes the ground truth's moments once
    for every bucket: each bucket's FID (and 'all') is still the scipy formula over its own rows,
    and KID kid_from_features over them (8-d features here, so 40 images make full-rank sets)."""
    import json

    from inpaintbench import runner

    monkeypatch.setattr(runner, "FEATURE_DIM", 8)
    rng = np.random.default_rng(4)
    ids = [f"img{i:02d}" for i in range(40)]
    reference = rng.normal(0, 1, (40, 8)).astype(np.float32)
    buckets = ["0-10", "10-20", "20-30", "30-40", "40-50", "50-60"]
    recs, feats = [], []
    for i, image_id in enumerate(ids):
        for k, b in enumerate(buckets):
            recs.append({"image_id": image_id, "bucket": b, "feature_row": len(feats)})
            feats.append(reference[i] + rng.normal(0, 0.1 * (k + 1), 8))
    feats = np.asarray(feats, np.float32)
    (tmp_path / runner.RECORDS).write_text("".join(json.dumps(r) + "\n" for r in recs))
    feats.tofile(tmp_path / runner.FEATURES)
    got = runner.set_metrics(tmp_path, reference, ids, log=lambda s: None)
    for b in buckets + ["all"]:
        rows = [r["feature_row"] for r in recs if b in ("all", r["bucket"])]
        fake = feats[rows].astype(np.float64)
        assert got[b]["fid"] == pytest.approx(_direct_fid(fake, reference.astype(np.float64)), rel=1e-8), b
        kid = kid_from_features(feats[rows], reference, subsets=runner.PROTOCOL.kid_subsets,
                                subset_size=runner.PROTOCOL.kid_subset_size)
        assert (got[b]["kid"], got[b]["kid_std"]) == pytest.approx(kid, rel=1e-12), b
        assert not got[b]["rank_deficient"] and got[b]["n_outputs"] == len(rows) and got[b]["n_reference"] == 40
    assert got["50-60"]["fid"] > got["0-10"]["fid"] > 0  # noisier buckets are further from their ground truth


def test_kid_against_a_direct_double_loop(inception_feats):
    a, b = inception_feats["a"][:10], inception_feats["b"][:12]
    d = a.shape[1]
    k = lambda x, y: (x @ y / d + 1) ** 3
    xx = sum(k(a[i], a[j]) for i in range(10) for j in range(10) if i != j) / 90
    # one subset holding every sample: the estimator is then exactly the full unbiased MMD^2
    kid, std = kid_from_features(a, b[:10], subsets=1, subset_size=10)
    yy10 = sum(k(b[i], b[j]) for i in range(10) for j in range(10) if i != j) / 90
    xy10 = sum(k(a[i], b[j]) for i in range(10) for j in range(10)) / 100
    assert kid == pytest.approx(xx + yy10 - 2 * xy10, rel=1e-9) and std == 0
    metric = KID(subsets=5, subset_size=8)
    metric.update(torch.from_numpy(a[:5]))
    metric.update(a[5:])
    assert metric.compute(b)[0] == pytest.approx(kid_from_features(a, b, 5, 8)[0])
    fid = FID()
    fid.update(a)
    assert fid.features.shape == (10, 2048)


def test_reference_cache_is_hit_and_invalidated(demo):
    suite = MetricSuite(lpips_nets=())
    ids = demo.ids()[:3]
    images = [(demo.rows[i]["pixels_sha256"], lambda i=i: demo.load(i)) for i in ids]
    f1 = suite.reference_features(images, log=lambda s: None)
    f2 = suite.reference_features(images, log=lambda s: None)
    assert suite.reference_computations == 1 and np.array_equal(f1, f2)
    changed = images[:2] + [("0" * 64, lambda: np.ascontiguousarray(demo.load(ids[2])[:, ::-1]))]
    f3 = suite.reference_features(changed, log=lambda s: None)
    assert suite.reference_computations == 2
    assert np.array_equal(f3[:2], f1[:2]) and not np.allclose(f3[2], f1[2])


def test_a_cache_that_cannot_be_written_or_read_costs_time_not_the_run(demo, tmp_path, monkeypatch):
    """A home that cannot be written (a container's, a full quota) ended a run at its last step, the set
    metrics, hours in; a cache file cut short (disk full, a kill) ended every later run there."""
    suite = MetricSuite(lpips_nets=())
    ids = demo.ids()[:2]
    images = [(demo.rows[i]["pixels_sha256"], lambda i=i: demo.load(i)) for i in ids]
    (tmp_path / "a_file").write_text("")
    monkeypatch.setenv("INPAINTBENCH_CACHE", str(tmp_path / "a_file" / "cache"))  # no folder can be made there
    said = []
    feats = suite.reference_features(images, log=said.append)
    assert feats.shape == (2, 2048) and "reference features not cached" in said[-1] and "INPAINTBENCH_CACHE" in said[-1]
    monkeypatch.setenv("INPAINTBENCH_CACHE", str(tmp_path / "cache"))
    suite.reference_features(images, log=lambda s: None)
    (cached,) = (tmp_path / "cache" / "features").glob("*.npy")
    cached.write_bytes(cached.read_bytes()[:1000])
    again = suite.reference_features(images, log=lambda s: None)
    assert np.array_equal(again, feats) and suite.reference_computations == 3


def test_two_runs_caching_one_reference_at_once_keep_both(demo, monkeypatch, tmp_path):
    """Runs into different folders share the reference cache; two finishing together (methods
    launched side by side) wrote one temporary file, and the later rename found it gone."""
    import inpaintbench.metrics.suite as suite_module

    monkeypatch.setenv("INPAINTBENCH_CACHE", str(tmp_path))
    suite = MetricSuite(lpips_nets=())
    images = [(demo.rows[i]["pixels_sha256"], lambda i=i: demo.load(i)) for i in demo.ids()[:2]]
    real_save, other = np.save, []

    def save_then_the_other_run_finishes(*args, **kwargs):
        real_save(*args, **kwargs)
        if not other:  # between this run's write and its rename, the other run writes and renames
            other.append(True)
            other.append(suite.reference_features(images, log=lambda s: None))

    monkeypatch.setattr(suite_module.np, "save", save_then_the_other_run_finishes)
    mine = suite.reference_features(images, log=lambda s: None)
    assert np.array_equal(mine, other[1]) and suite.reference_computations == 2
    left = list((tmp_path / "features").iterdir())
    assert len(left) == 1 and not left[0].name.endswith(".tmp.npy")  # the cache file, no temporary one


def test_offline_perceptual_error_equals_a_direct_computation(demo):
    suite = MetricSuite(lpips_nets=("alex", "vgg"))
    assert suite.perceptual_name == "perceptual_inception"
    assert set(suite.unavailable) == {"perceptual_vgg16", "lpips_alex", "lpips_vgg"}
    gt = batch(demo, ["chelsea_full", "rocket_c"])
    hole = torch.zeros(2, 1, 256, 256)
    hole[..., 80:150, 60:200] = 1
    comp = gt * (1 - hole) + 0.5 * hole
    scores, feats = suite.score(comp, gt, hole, ["chelsea_full", "rocket_c"])
    script = torch.jit.load(str(locate("inception-tf"))).eval()
    layers = dict(script.net.layers.named_children())

    def taps(x):
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False) * 255 / 128 - 1
        out = []
        for name, layer in layers.items():
            x = layer(x)
            if name in ("pool0", "pool1", "mixed_2"):
                out.append(x)
            if name == "mixed_2":
                return out

    with torch.no_grad():
        expect = sum(((a - b) ** 2).mean(dim=(1, 2, 3)) for a, b in zip(taps(comp), taps(gt)))
    assert torch.allclose(scores["perceptual_inception"], expect.double(), rtol=1e-5)
    assert feats.shape == (2, 2048)
    # the same image under two masks in one batch: identical to scoring them apart
    s2, _ = suite.score(torch.cat([comp[:1], gt[:1]]), torch.cat([gt[:1], gt[:1]]), torch.cat([hole[:1], hole[:1]]),
                        ["chelsea_full", "chelsea_full"])
    assert s2["perceptual_inception"][0].item() == pytest.approx(scores["perceptual_inception"][0].item(), rel=1e-6)
    assert s2["perceptual_inception"][1].item() == pytest.approx(0, abs=1e-12)


def _write_random_weights(tmp_path, name, model):
    path = tmp_path / "hub" / "checkpoints" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    return path


def test_a_cache_file_whose_sha256_is_not_its_names_is_said_so(tmp_path, monkeypatch, caplog):
    """torch.hub names its files by their sha256 (vgg16-397923af.pth). A copy cut short loaded as
    torch's pickle error (for AlexNet, a traceback), and another file under the name as its weights
    without a word; now the first names the mismatch and stops, the second is warned of."""
    from torchvision.models import vgg16

    from inpaintbench.networks import inventory, name_hash_problem

    # the shipped files of the same convention bear it out, so the check can fail
    assert locate("efficientnet-lite0").name == "efficientnet-lite0-57934424.pth"
    assert name_hash_problem(locate("efficientnet-lite0")) is None
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    cut = tmp_path / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth"
    cut.parent.mkdir(parents=True)
    cut.write_bytes(b"PK\x03\x04 the first bytes of a download")
    with caplog.at_level("WARNING", logger="inpaintbench"), \
            pytest.raises(InputError, match=r"alexnet-owt-7be5be79.pth: not torchvision alexnet weights: its sha256 begins "
                                            r"[0-9a-f]{8}, not the 7be5be79 its name carries .*; copy the file again"):
        LPIPSMetric("alex")
    assert not caplog.records, caplog.text  # said once, in the error (a warning before it had said it too)
    row = next(r for r in inventory() if r["network"] == "alexnet")
    assert row["found"] and "not the 7be5be79 its name carries" in row["problem"]
    # a cache copied from a repository cloned without its large files: `inpaintbench weights` says so
    cut.write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:7be5be79\nsize 244408911\n")
    row = next(r for r in inventory() if r["network"] == "alexnet")
    assert "not the 7be5be79 its name carries (a Git LFS pointer, not the file it stands for: `git lfs pull`" in row["problem"]
    other = _write_random_weights(tmp_path, "vgg16-397923af.pth", vgg16(weights=None))
    with caplog.at_level("WARNING", logger="inpaintbench"):
        assert load_vgg16() is not None
    assert any(f"{other}: its sha256 begins" in r.getMessage() for r in caplog.records), caplog.text


def test_vgg16_and_lpips_paths_with_weights_in_the_torch_cache(tmp_path, monkeypatch, demo):
    import lpips
    from torchvision.models import alexnet, vgg16

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    torch.manual_seed(0)
    vgg = vgg16(weights=None).eval()
    _write_random_weights(tmp_path, "vgg16-397923af.pth", vgg)
    _write_random_weights(tmp_path, "alexnet-owt-7be5be79.pth", alexnet(weights=None))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # lpips's use of torchvision's deprecated `pretrained` is not the user's to fix
        suite = MetricSuite(lpips_nets=("alex",))
    assert suite.perceptual_name == "perceptual_vgg16" and "alex" in suite.lpips
    gt = batch(demo, ["coffee_full"])
    hole = torch.zeros(1, 1, 256, 256)
    hole[..., 50:120, 50:200] = 1
    comp = gt * (1 - hole)
    scores, _ = suite.score(comp, gt, hole, ["coffee_full"])
    norm = lambda x: (x - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        expect = sum(((vgg.features[:k](norm(comp)) - vgg.features[:k](norm(gt))) ** 2).mean() for k in (5, 10, 17))
        direct_lpips = lpips.LPIPS(net="alex", verbose=False)(comp * 2 - 1, gt * 2 - 1).item()
    assert scores["perceptual_vgg16"].item() == pytest.approx(expect.item(), rel=1e-5)
    assert scores["lpips_alex"].item() == pytest.approx(direct_lpips, rel=1e-5)
    assert suite.describe()["networks"]["perceptual"]["network"] == "vgg16 pool1-3"


def test_vgg_weights_given_by_path_feed_lpips_vgg_too(tmp_path, monkeypatch, demo):
    """--vgg-weights F gave perceptual_vgg16 but left lpips_vgg "unavailable", advising `--weights`
    (the method's weights option): LPIPS took its trunk only from the torch cache. The same file now
    feeds both, and LPIPS-vgg equals the lpips package's own with that file in its cache."""
    import lpips
    from torchvision.models import alexnet, vgg16

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    torch.manual_seed(1)
    mine = _write_random_weights(tmp_path / "mine", "vgg16-397923af.pth", vgg16(weights=None))
    assert "--vgg-weights" in MetricSuite(lpips_nets=("vgg",)).unavailable["lpips_vgg"]
    suite = MetricSuite(vgg_weights=str(mine), lpips_nets=("vgg",))
    assert suite.perceptual_name == "perceptual_vgg16" and "lpips_vgg" not in suite.unavailable
    assert suite.describe()["networks"]["lpips_vgg"]["backbone"] == str(mine)
    gt = batch(demo, ["coffee_full", "rocket_c"])
    hole = torch.zeros(2, 1, 256, 256)
    hole[..., 60:140, 40:210] = 1
    comp = gt * (1 - hole) + 0.3 * hole
    scores, _ = suite.score(comp, gt, hole, ["coffee_full", "rocket_c"])
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "mine"))
    with torch.no_grad():
        direct = lpips.LPIPS(net="vgg", verbose=False)(comp * 2 - 1, gt * 2 - 1).flatten().double()
    assert torch.allclose(scores["lpips_vgg"], direct, rtol=1e-5) and (direct > 0).all()
    # another network's file in its place is named, not loaded half
    other = _write_random_weights(tmp_path / "other", "alexnet-owt-7be5be79.pth", alexnet(weights=None))
    with pytest.raises(InputError, match="not torchvision vgg16 weights"):
        LPIPSMetric("vgg", other)


def test_pytorch_fid_inception_path(tmp_path, monkeypatch):
    import pytorch_fid.inception as pfi

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    # build pytorch-fid's network with random weights (its loader fetches a state dict by URL,
    # so hand it the model's own fresh parameters), then place them where its loader looks
    captured = {}

    def fake_load(url, progress=True):
        return captured["sd"]

    monkeypatch.setattr(pfi, "load_state_dict_from_url", lambda *a, **k: None)
    monkeypatch.setattr(torch.nn.Module, "load_state_dict", lambda self, sd, *a, **k: None)
    torch.manual_seed(0)
    model = pfi.fid_inception_v3()
    monkeypatch.undo()
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    _write_random_weights(tmp_path, "pt_inception-2015-12-05-6726825d.pth", model)
    net = load_fid_network("inception-pytorch-fid")
    direct = pfi.InceptionV3([3]).eval()
    x = torch.rand(2, 3, 256, 256)
    with torch.no_grad():
        assert torch.allclose(net(x)[1], direct(x)[0].flatten(1), atol=1e-5)
