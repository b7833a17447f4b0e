import json

import pytest
import torch

from inpaintbench import registry
from inpaintbench.ensemble import self_ensemble
from inpaintbench.errors import InputError
from inpaintbench.method import InpaintingMethod
from inpaintbench.report import caption_for, load_runs
from inpaintbench.runner import RECORDS, _name, read_records, run, split_name
from tests.test_runner import cfg


class Ramp(InpaintingMethod):
    """Fills with x / (W - 1), the column's position: its mirror-image run is 1 - x / (W - 1)."""

    name = "ramp"
    seen: list = []

    def inpaint(self, masked, hole):
        Ramp.seen.append((masked.clone(), hole.clone()))
        w = masked.shape[-1]
        return (torch.arange(w, dtype=torch.float32) / (w - 1)).expand_as(masked).clone()


class Keyed(Ramp):
    name = "keyed"
    wants_keys = True

    def inpaint(self, masked, hole, keys=None):
        return super().inpaint(masked, hole)


registry.register("ramp", Ramp)
registry.register("keyed", Keyed)


def test_hflip_averages_the_output_with_the_mirrored_inputs_output_mirrored_back():
    torch.manual_seed(0)
    masked, hole = torch.rand(2, 3, 8, 10), (torch.rand(2, 1, 8, 10) > 0.7).float()
    Ramp.seen.clear()
    ramp = Ramp()
    out = self_ensemble("hflip", ramp.inpaint, masked, hole)
    # ramp + its mirror: x/9 + (1 - x/9) over 2 = 0.5 everywhere
    assert torch.allclose(out, torch.full_like(masked, 0.5))
    (m1, h1), (m2, h2) = Ramp.seen
    assert torch.equal(m1, masked) and torch.equal(h1, hole)
    assert torch.equal(m2, masked.flip(-1)) and torch.equal(h2, hole.flip(-1))
    assert torch.equal(self_ensemble("none", ramp.inpaint, masked, hole), ramp.inpaint(masked, hole))
    with pytest.raises(InputError, match="unknown self-ensemble 'vflip'"):
        self_ensemble("vflip", ramp.inpaint, masked, hole)


def test_self_ensembled_run_is_its_own_named_row(tmp_path):
    plain, ens, both = tmp_path / "plain", tmp_path / "ens", tmp_path / "both"
    run(cfg("ramp"), plain, log=lambda s: None)
    run(cfg("ramp", self_ensemble="hflip"), ens, log=lambda s: None)
    run(cfg("ramp", self_ensemble="hflip", blend="poisson"), both, log=lambda s: None)
    a, b = read_records(plain / RECORDS), read_records(ens / RECORDS)
    assert {r["method"] for r in b} == {"ramp+hflip"} and {r["method"] for r in read_records(both / RECORDS)} == {"ramp+hflip+poisson"}
    # a flat 0.5 against a ramp: different scores for every pair
    assert all(ra["l1"] != rb["l1"] for ra, rb in zip(a, b))
    manifest = json.loads((ens / "manifest.json").read_text())
    assert manifest["config"]["self_ensemble"] == "hflip" and manifest["config_identity"]["self_ensemble"] == "hflip"
    assert "blend" not in manifest["config_identity"]
    assert "ramp+hflip+poisson (method ramp, weights: none, self-ensemble: hflip, fill blended: poisson)" in caption_for(load_runs([both])[1])
    with pytest.raises(InputError, match="different method"):
        run(cfg("ramp"), ens, log=lambda s: None)
    with pytest.raises(InputError, match="--self-ensemble must be one of"):
        run(cfg("ramp", self_ensemble="x8"), tmp_path / "bad", log=lambda s: None)
    with pytest.raises(InputError, match="cannot be self-ensembled"):
        run(cfg("keyed", self_ensemble="hflip"), tmp_path / "keyed", log=lambda s: None)


def test_run_names_split_back_into_their_settings():
    def parts(m, e="none", b="none"):
        return {"method": m, "self_ensemble": e, "blend": b}
    assert split_name("rwconv+poisson") == parts("rwconv", b="poisson")
    assert split_name("rwconv+hflip") == parts("rwconv", e="hflip")
    assert split_name("rwconv+hflip+poisson") == parts("rwconv", "hflip", "poisson")
    assert split_name("rwconv") == parts("rwconv")
    with pytest.raises(InputError, match="self-ensemble comes before the blend"):  # suffixes in their order only
        split_name("rwconv+poisson+hflip")
    assert split_name("a+b") == parts("a+b")  # only known suffixes are split off
    assert split_name("x+none") == parts("x+none")
    assert split_name("+poisson") == parts("+poisson")
    # a method's name with a suffix no run takes was "unknown method", naming a list that holds the method
    for name, suffix in (("telea+foo", "foo"), ("rwconv+Poisson", "Poisson"), ("rwconv+hflip+x", "x")):
        with pytest.raises(InputError, match=rf"{name.split('+')[0]} is a method, but \+{suffix} is no suffix a run takes"):
            split_name(name)
    for name in ("rwconv", "rwconv+hflip", "rwconv+poisson", "rwconv+hflip+poisson"):
        assert _name(split_name(name)) == name


def test_diagnosis_spec_runs_the_method_as_a_run_would():
    from inpaintbench.blend import blend_fill
    from methods.diagnostics.colour_bias import Finished, create_spec

    torch.manual_seed(0)
    gt = torch.rand(2, 3, 32, 32)
    hole = torch.zeros(2, 1, 32, 32)
    hole[:, :, 8:20, 4:28] = 1
    masked = gt * (1 - hole)
    spec = create_spec("ramp+hflip+poisson")
    assert isinstance(spec, Finished) and not isinstance(create_spec("ramp"), Finished)
    want = blend_fill("poisson", torch.full_like(gt, 0.5), masked, hole)
    assert torch.allclose(spec.inpaint(masked, hole), want)
