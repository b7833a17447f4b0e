"""The authors' TensorFlow checkpoints as weights (methods/tf_checkpoint.py, methods/tf_compat.py,
methods/rwconv/convert_tf.py, methods/gated/convert_tf.py).

tests/fixtures/rwconv_tf and gated_tf were written by TensorFlow 2.21 (their make.py): TF1 Saver
checkpoints with the authors' generator variable names, and TensorFlow's own forward pass of their
graphs on one input. TensorFlow is not needed here."""
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from inpaintbench.cli import app
from inpaintbench.errors import InputError
from methods.rwconv.convert_tf import convert, main, tf_name
from methods.rwconv.method import load_model
from methods.rwconv.model import RegionWiseInpainter, RWConfig, resize_mask
from methods.tf_checkpoint import TFCheckpoint

FIXTURE = Path(__file__).parent / "fixtures" / "rwconv_tf"
PREFIX = FIXTURE / "model.ckpt"


def test_the_reader_sees_what_tensorflow_wrote():
    ck = TFCheckpoint(PREFIX)
    # SINet's 18 and GPNet's 17 convolutions x (kernel, bias), an Adam slot, the discriminator, global_step
    assert len(ck.shapes) == (18 + 17) * 2 + 3
    assert ck.shapes["inpaint_net/com_14_fusion/kernel"] == (3, 3, 40, 16)  # [x13, x3] known + x13 missing
    assert ck.shapes["inpaint_net_1/conv17_1/kernel"] == (3, 3, 2, 3) and ck.shapes["global_step"] == ()
    step = ck.tensor("global_step")
    assert step.dtype == np.int64 and int(step) == 3500
    assert ck.tensor("inpaint_net/conv1_1/kernel/Adam").shape == (5, 5, 4, 4)


def test_a_cut_or_missing_checkpoint_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="no TensorFlow checkpoint here"):
        TFCheckpoint(tmp_path / "nothing.ckpt")
    for f in FIXTURE.glob("model.ckpt.*"):
        shutil.copy(f, tmp_path / f.name)
    # the folder a release unpacks to, given for its checkpoint: "no TensorFlow checkpoint here (no NAME.index)"
    with pytest.raises(InputError, match=f"{tmp_path}: a folder; give the checkpoint's prefix inside it, {tmp_path / 'model.ckpt'}$"):
        TFCheckpoint(tmp_path)
    # a Saver's last steps are named by step, as `run --weights FOLDER` names them (10000 sorts first by name)
    steps = tmp_path / "steps"
    steps.mkdir()
    for step in (10000, 3500):
        for f in FIXTURE.glob("model.ckpt.*"):
            shutil.copy(f, steps / f.name.replace("model.ckpt", f"model.ckpt-{step}"))
    with pytest.raises(InputError, match=re.escape(f"prefix inside it, {steps / 'model.ckpt-3500'} or {steps / 'model.ckpt-10000'}")):
        TFCheckpoint(steps)
    data = tmp_path / "model.ckpt.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:1000])
    with pytest.raises(InputError, match="cut short"):
        convert(tmp_path / "model.ckpt")
    (tmp_path / "model.ckpt.index").write_bytes(b"not a table" * 10)
    with pytest.raises(InputError, match="not a TensorFlow V2 checkpoint index"):
        TFCheckpoint(tmp_path / "model.ckpt")


def test_names_follow_the_authors_graph():
    assert tf_name("sinet.encoder.conv1.conv.weight") == "inpaint_net/conv1_1/kernel"
    assert tf_name("sinet.com_13.conv.conv.bias") == "inpaint_net/com_13_fusion_1/bias"
    assert tf_name("sinet.com_14.conv.conv.weight") == "inpaint_net/com_14_fusion/kernel"
    assert tf_name("gpnet.encoder.conv10_atrous.conv.weight") == "inpaint_net_1/conv10_atrous_1/kernel"
    assert tf_name("gpnet.conv15_upsample.conv.bias") == "inpaint_net_1/conv15_upsample_1/bias"


def test_the_tf_mask_resize_is_tensorflows_align_corners_rule():
    """resize_nearest_neighbor(align_corners=True) takes source pixel round(i * (in-1)/(out-1)),
    halves away from zero: 8 -> 3 reads 0, 4 (3.5 rounded up), 7; PyTorch's nearest reads 0, 2, 5."""
    m = torch.arange(64.0).reshape(1, 1, 8, 8)
    tf_way = resize_mask(m, (3, 3), "tf-align-corners")
    assert tf_way[0, 0].tolist() == [[0, 4, 7], [32, 36, 39], [56, 60, 63]]
    assert resize_mask(m, (3, 3), "nearest")[0, 0, 0].tolist() == [0, 2, 5]
    with pytest.raises(ValueError, match="mask_resize must be one of"):
        RWConfig(mask_resize="bilinear")
    assert "mask_resize" not in RWConfig().as_dict()  # configs written before the setting read the same


def test_converted_weights_compute_what_tensorflow_computed(tmp_path):
    """Every layer, name, kernel layout and convention at once: the PyTorch model with the
    converted weights gives TensorFlow's outputs of the authors' graph to float rounding. With
    PyTorch's own mask resizing it does not: the setting matters."""
    main([str(PREFIX), "--out", str(tmp_path / "w.pt")])
    model, meta = load_model(tmp_path / "w.pt")
    io = np.load(FIXTURE / "io.npz")
    assert meta["model_config"] == {"cnum": 4, "region_wise": True, "coarse_only": False, "mask_resize": "tf-align-corners"}
    assert meta["step"] == 3500 and set(meta["converted_from"]) == {"model.ckpt.index", "model.ckpt.data-00000-of-00001"}
    image, hole = torch.from_numpy(io["image"]), torch.from_numpy(io["hole"])
    with torch.no_grad():
        out = model(image, hole)
        plain = RegionWiseInpainter(RWConfig(cnum=4))
        plain.load_state_dict(model.state_dict())
        other = plain(image, hole)
    for k in ("p1", "p2"):
        assert np.abs(out[k].numpy() - io[k]).max() < 1e-5, k
        assert np.abs(other[k].numpy() - io[k]).max() > 0.1, k


def test_converted_weights_run_in_the_harness_and_say_where_they_came_from(tmp_path):
    main([str(PREFIX), "--out", str(tmp_path / "w.pt")])
    r = CliRunner().invoke(app, ["run", "--method", "rwconv", "--weights", str(tmp_path / "w.pt"), "--limit", "1",
                                 "--buckets", "10-20", "--no-deep-metrics", "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    method = json.loads((tmp_path / "run" / "manifest.json").read_text())["method"]
    assert method["source"].startswith("the authors' TensorFlow checkpoint model.ckpt")
    assert method["model_config"]["mask_resize"] == "tf-align-corners" and method["trained_steps"] == 3500


def test_the_command_refuses_what_is_not_the_generator(tmp_path, capsys):
    from methods.gated.convert_tf import main as convert_gated

    for command, prefix, message in ((main, tmp_path / "none.ckpt", "no TensorFlow checkpoint here"),
                                     (main, FIXTURE.parent / "gated_tf" / "model.ckpt", "no region-wise generator here"),
                                     (convert_gated, PREFIX, "no DeepFill v2 generator here")):
        with pytest.raises(SystemExit) as e:
            command([str(prefix), "--out", str(tmp_path / "w.pt")])
        assert e.value.code == 2 and message in capsys.readouterr().err
        assert not (tmp_path / "w.pt").exists()


def test_a_tensorflow_checkpoint_given_as_weights_names_its_converter(tmp_path, photo_dir):
    """--weights or --init-from the authors' checkpoint as a release unpacks it (its folder, one of
    its files, its prefix) ended in torch.load's words ("invalid load key, '\\x00'",
    IsADirectoryError, not found); each names the converter, with the newest of a folder's steps.
    A trainer refused its --init-from leaves no run folder, as for any other refused setting."""
    from inpaintbench import registry
    from methods.rwconv.train import RWTrainConfig, train

    from .conftest import held_out

    release = tmp_path / "release"
    release.mkdir()
    for step in (3500, 10000):  # 10000 sorts first by name
        for f in FIXTURE.glob("model.ckpt.*"):
            shutil.copy(f, release / f.name.replace("model.ckpt", f"model.ckpt-{step}"))
    newest = release / "model.ckpt-10000"
    command = f"`python -m methods.rwconv.convert_tf {newest} --out FILE.pt`"
    for given in (release, Path(f"{newest}.index"), Path(f"{newest}.data-00000-of-00001"), newest):
        with pytest.raises(InputError, match=re.escape(f"{command}, then give --weights FILE.pt")):
            load_model(given)
    with pytest.raises(InputError, match=re.escape(f"{release}: a TensorFlow checkpoint ({release}/model.ckpt-3500 or "
                                                   f"{newest}), which pconv cannot read or convert")):
        registry.create("pconv", weights=str(release))
    runs = tmp_path / "train_runs"
    (runs / "earlier").mkdir(parents=True)
    shutil.copy(PREFIX.with_name("model.ckpt.index"), runs / "earlier" / "last.pt")  # stands for a checkpoint
    for given, message in ((release, f"{command}, then give --init-from FILE.pt"),
                           (runs / "earlier", (f"--init-from {runs / 'earlier'} is a training run's folder: give "
                                               f"{runs / 'earlier' / 'last.pt'}")),
                           # a path mistyped said "not a readable checkpoint (FileNotFoundError: [Errno 2] ...)"
                           (runs / "nothere.pt", f"--init-from {runs / 'nothere.pt'}: no such file")):
        cfg = RWTrainConfig(out=str(runs / "new"), data=[str(photo_dir)], val_data=[str(held_out(photo_dir))], steps=1,
                            batch_size=2, crop=128, val_size=128, cnum=4, threads=1, init_from=str(given))
        with pytest.raises(InputError, match=re.escape(message)):
            train(cfg, log=lambda s: None)
        assert not (runs / "new").exists()


def test_the_trainer_continues_converted_weights_with_their_mask_resizing(tmp_path):
    """--init-from a converted file was refused (its model config has the authors' mask resizing,
    the trainer's had no way to ask for it); a wrong --mask-resize is refused with the settings."""
    from methods.rwconv.train import RWRecipe, RWTrainConfig

    main([str(PREFIX), "--out", str(tmp_path / "w.pt")])
    _, meta = load_model(tmp_path / "w.pt")
    assert RWRecipe(RWTrainConfig(cnum=4, mask_resize="tf-align-corners")).model_config() == meta["model_config"]
    assert RWRecipe(RWTrainConfig(cnum=4)).model_config() != meta["model_config"]
    assert "--mask-resize must be one of nearest, tf-align-corners, got 'bilinear'" in \
        RWTrainConfig(mask_resize="bilinear").setting_problems()


GATED = Path(__file__).parent / "fixtures" / "gated_tf"


def test_same_padding_is_tensorflows():
    """'SAME' at stride 2 on an even side pads 0 before and 1 after (hand-computed: 4 -> 5 rows,
    the zero row last); stride 1 pads evenly."""
    from methods.tf_compat import same_padding

    x = same_padding(torch.ones(1, 1, 4, 4), 3, 2)
    assert x.shape == (1, 1, 5, 5) and x[0, 0, 0].tolist() == [1, 1, 1, 1, 0] and x[0, 0, 4].sum() == 0
    assert same_padding(torch.ones(1, 1, 4, 4), 3, 1, dilation=2).shape == (1, 1, 8, 8)


def test_deepfill_v2_converted_weights_compute_what_tensorflow_computed(tmp_path):
    """DeepFill v2's graph with contextual attention, BGR in and out as the authors' test.py feeds
    it: the converted model, which takes RGB, gives TF's outputs. Without TF's padding and
    resizing, or without the attention branch, it does not, so both are checked."""
    from methods.gated.convert_tf import main as convert_gated, tf_name as gated_name
    from methods.gated.model import GatedConfig, GatedInpainter
    from methods.gated.train import GatedRecipe
    from methods.learned import load_weights

    assert gated_name("coarse.body.conv13_upsample.conv.weight") == "inpaint_net/conv13_upsample/conv13_upsample_conv/kernel"
    assert gated_name("refine.attention_branch.pmconv6.conv.bias") == "inpaint_net/pmconv6/bias"
    convert_gated([str(GATED / "model.ckpt"), "--out", str(tmp_path / "g.pt")])
    model, meta = load_weights(GatedRecipe, tmp_path / "g.pt")
    assert meta["model_config"] == {"cnum": 8, "attention": True, "tf_compat": True}
    io = np.load(GATED / "io.npz")
    image, hole = torch.from_numpy(io["image"]), torch.from_numpy(io["hole"])
    others = {}
    for name, config in (("pytorch arithmetic", GatedConfig(cnum=8)), ("no attention", GatedConfig(cnum=8, attention=False, tf_compat=True))):
        others[name] = GatedInpainter(config).eval()
        others[name].load_state_dict(model.state_dict())
    with torch.no_grad():
        out = model(image, hole)
        other = {name: m(image, hole) for name, m in others.items()}
    for k in ("x1", "x2"):
        assert np.abs(out[k].numpy() - io[k]).max() < 1e-5, k
        assert np.abs(other["pytorch arithmetic"][k].numpy() - io[k]).max() > 0.1, k
    assert np.abs(other["no attention"]["x2"].numpy() - io["x2"]).max() > 0.1
    from methods.gated.train import GatedTrainConfig
    assert GatedRecipe(GatedTrainConfig(cnum=8, tf_compat=True)).model_config() == meta["model_config"]  # --tf-compat continues them
    r = CliRunner().invoke(app, ["run", "--method", "gated", "--weights", str(tmp_path / "g.pt"), "--limit", "1",
                                 "--buckets", "10-20", "--no-deep-metrics", "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    method = json.loads((tmp_path / "run" / "manifest.json").read_text())["method"]
    assert method["source"].startswith("the authors' TensorFlow checkpoint model.ckpt (JiahuiYu/generative_inpainting v2)")
