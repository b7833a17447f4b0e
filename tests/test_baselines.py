"""Learned baselines: each layer's maths by hand, the authors' checkpoint layouts, no peeking
into holes, and the shared trainer's resume for a GAN-trained recipe."""
import re
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage.feature import canny

from inpaintbench.errors import InputError
from methods.edgeconnect.model import EdgeConnect, EdgeConnectConfig
from methods.edgeconnect.train import EdgeConnectRecipe
from methods.gated.model import GatedConv2d, contextual_attention
from methods.gated.train import GatedRecipe, GatedTrainConfig
from methods.learned import load_weights
from methods.pconv.model import PartialConv2d, PConvConfig, PConvUNet
from methods.pconv.train import PConvRecipe
from methods.rwconv.train import RWRecipe
from methods.training.trainer import export_weights, load_checkpoint, train

from .conftest import held_out


def test_partial_conv_equals_hand_computation():
    layer = PartialConv2d(2, 1, 3, bias=True)
    with torch.no_grad():
        layer.input_conv.weight.fill_(1.0)
        layer.input_conv.bias.fill_(0.5)
    x = torch.arange(2 * 5 * 5, dtype=torch.float32).reshape(1, 2, 5, 5)
    valid = torch.ones(1, 2, 5, 5)
    valid[:, 0, :, :3] = 0  # channel 0: left three columns missing
    valid[:, 1, :, :2] = 0  # channel 1: left two columns missing
    out, new_valid = layer(x, valid)
    # window centred at (2, 2), zero padding: channel 0 sees column 3 only (3 px), channel 1 columns 2-3 (6 px)
    win = (x * valid)[0, :, 1:4, 1:4]
    count = valid[0, :, 1:4, 1:4].sum()
    assert count == 9
    assert torch.allclose(out[0, 0, 2, 2], win.sum() * (2 * 9) / count + 0.5)
    # window centred at (2, 0): all of channel 0 missing, channel 1 missing too -> output 0, mask 0
    assert out[0, 0, 2, 0] == 0 and new_valid[0, 0, 2, 0] == 0
    # at (0, 4) (corner, zero padding outside): count = valid inputs under the window only
    win = (x * valid)[0, :, 0:2, 3:5]
    assert torch.allclose(out[0, 0, 0, 4], win.sum() * 18 / valid[0, :, 0:2, 3:5].sum() + 0.5)
    assert new_valid[0, 0, 2, 2] == 1


def test_partial_conv_ignores_the_values_under_the_hole():
    torch.manual_seed(0)
    net = PConvUNet(PConvConfig(width=4, layers=3)).eval()
    img = torch.rand(1, 3, 32, 32)
    hole = torch.zeros(1, 1, 32, 32)
    hole[..., 8:20, 10:26] = 1
    a = net(img, hole)
    b = net(img + hole * torch.rand(1, 3, 32, 32) * 5, hole)
    assert torch.equal(a, b)


def test_naoto0804_checkpoints_load_with_the_renormalisation_folded_in(tmp_path):
    """naoto0804's layer computes W(X M) / sum(M) + b; written here by hand and compared."""
    torch.manual_seed(0)
    ours = PConvUNet(PConvConfig(width=4, layers=3)).eval()
    sd = {}
    for k, v in ours.state_dict().items():
        if k.endswith("input_conv.weight"):
            sd[k] = v * v.shape[1] * v.shape[2] * v.shape[3]
            sd[k.replace("input_conv", "mask_conv")] = torch.ones_like(v)
        else:
            sd[k] = v
    torch.save({"n_iter": 7, "model": sd, "optimizer": {}}, tmp_path / "naoto.pth")
    loaded, meta = load_weights(PConvRecipe, tmp_path / "naoto.pth")
    assert meta["model_config"] == {"width": 4, "layers": 3} and meta["step"] == 7
    # naoto's first layer by hand on a random input
    x, valid = torch.rand(1, 3, 32, 32), (torch.rand(1, 1, 32, 32) > 0.3).float().expand(-1, 3, -1, -1)
    w = sd["enc_1.conv.input_conv.weight"]
    raw = F.conv2d(x * valid, w, None, 2, 3)
    msum = F.conv2d(valid, sd["enc_1.conv.mask_conv.weight"], None, 2, 3)
    naoto = torch.where(msum == 0, torch.zeros_like(raw), raw / msum.clamp_min(1))
    assert torch.allclose(loaded.enc_1.conv(x, valid)[0], naoto, atol=1e-5)
    img, hole = torch.rand(1, 3, 128, 128), (torch.rand(1, 1, 128, 128) > 0.7).float()
    assert torch.allclose(loaded(img, hole), ours(img, hole), atol=1e-4)


def test_gated_layer_by_hand_and_a_closed_gate_outputs_zero():
    layer = GatedConv2d(2, 4, k=1)
    x = torch.randn(1, 2, 3, 3)
    f, g = layer.conv(x).chunk(2, 1)
    assert torch.allclose(layer(x), F.elu(f) * torch.sigmoid(g))
    assert layer(x).shape[1] == 2  # filters/2 channels, as the authors' gen_conv
    with torch.no_grad():
        layer.conv.weight[2:] = 0
        layer.conv.bias[2:] = -1e4  # gate = sigmoid(-1e4) = 0
    assert torch.equal(layer(x * 100), torch.zeros(1, 2, 3, 3))


def test_contextual_attention_copies_only_from_outside_the_hole():
    torch.manual_seed(0)
    x = F.interpolate(torch.rand(1, 4, 8, 8), size=(32, 32), mode="bilinear")
    # no hole, sharp softmax: every position attends to itself, pasting reproduces the map
    y = contextual_attention(x, x, torch.zeros(1, 1, 32, 32), softmax_scale=1e4)
    assert torch.allclose(y[..., 2:-2, 2:-2], x[..., 2:-2, 2:-2], atol=1e-4)
    # huge values inside the hole never get copied anywhere
    hole = torch.zeros(1, 1, 32, 32)
    hole[..., 8:24, 8:24] = 1
    y = contextual_attention(x + hole * 1e3, x + hole * 1e3, hole)
    assert y.abs().max() < 2


def test_edgeconnect_edges_are_scikit_image_canny_and_holes_stay_unseen():
    torch.manual_seed(0)
    model = EdgeConnect(EdgeConnectConfig(width=4, blocks=1)).eval()
    gray = torch.rand(2, 1, 32, 32)
    expected = np.stack([canny(g, sigma=2.0, mode="constant") for g in gray[:, 0].numpy()])
    assert np.array_equal(model.edges(gray)[:, 0].numpy().astype(bool), expected)


@pytest.mark.parametrize("recipe,config", [
    (RWRecipe, {"cnum": 4}), (PConvRecipe, {"width": 4, "layers": 3}),
    (GatedRecipe, {"cnum": 8, "attention": True}), (EdgeConnectRecipe, {"width": 4, "blocks": 1, "sigma": 2.0})])
def test_no_method_sees_the_pixels_under_the_hole(recipe, config):
    torch.manual_seed(0)
    model = recipe.build_model(config).eval()
    img = torch.rand(2, 3, 128, 128)
    hole = torch.zeros(2, 1, 128, 128)
    hole[:, :, 30:80, 40:100] = 1
    with torch.no_grad():
        a = recipe.prediction(model, img, hole)
        b = recipe.prediction(model, img * (1 - hole) + hole * torch.rand_like(img), hole)
    assert a.shape == img.shape and torch.equal(a, b)
    assert 0 <= float(a.min()) and float(a.max()) <= 1 + 1e-6


def test_gan_recipe_resumes_exactly_with_its_critic(tmp_path, photo_dir):
    base = dict(data=[str(photo_dir)], val_data=[str(held_out(photo_dir))], batch_size=2, crop=64, val_size=64, cnum=8,
                dis_cnum=8, val_every=2, ckpt_every=1, threads=1)
    train(GatedRecipe(GatedTrainConfig(out=str(tmp_path / "a"), steps=4, **base)), log=lambda s: None)
    train(GatedRecipe(GatedTrainConfig(out=str(tmp_path / "b"), steps=2, **base)), log=lambda s: None)
    train(GatedRecipe(GatedTrainConfig(out=str(tmp_path / "b"), steps=4, **base)), log=lambda s: None)
    a, b = load_checkpoint(tmp_path / "a" / "last.pt"), load_checkpoint(tmp_path / "b" / "last.pt")
    assert set(a["nets"]) == {"model", "sn_patchgan"}
    for net in a["nets"]:
        for k in a["nets"][net]:
            assert torch.equal(a["nets"][net][k], b["nets"][net][k]), (net, k)
    w = export_weights(a, tmp_path / "gated.pt", GatedRecipe.weights_format())
    model, meta = load_weights(GatedRecipe, w)
    assert meta["model_config"] == {"cnum": 8, "attention": True} and meta["step"] == 4
    # another method's file: the --method it is for is named
    with pytest.raises(InputError, match="not rwconv weights .*inpaintbench.gated.v1': --method gated's weights"):
        load_weights(RWRecipe, w)
    with pytest.raises(ValueError, match="this run asks for pconv"):
        from methods.pconv.train import PConvTrainConfig
        train(PConvRecipe(PConvTrainConfig(out=str(tmp_path / "a"), steps=5, data=[str(photo_dir)], val_data=[str(held_out(photo_dir))], width=4,
                                          layers=3)),
              log=lambda s: None)


def test_edgeconnect_authors_checkpoints_load(tmp_path):
    torch.manual_seed(0)
    ref = EdgeConnect(EdgeConnectConfig(width=4, blocks=2)).eval()
    edge = {"iteration": 10, "generator": ref.edge_generator.state_dict()}
    inpaint = {"iteration": 10, "generator": ref.inpaint_generator.state_dict()}
    (tmp_path / "release").mkdir()
    torch.save(edge, tmp_path / "release" / "EdgeModel_gen.pth")
    torch.save(inpaint, tmp_path / "release" / "InpaintingModel_gen.pth")
    model, meta = load_weights(EdgeConnectRecipe, tmp_path / "release")
    assert meta["model_config"]["width"] == 4 and meta["model_config"]["blocks"] == 2
    img, hole = torch.rand(1, 3, 64, 64), torch.zeros(1, 1, 64, 64)
    hole[..., 10:40, 20:50] = 1
    with torch.no_grad():
        assert torch.allclose(model(img, hole)["output"], ref(img, hole)["output"], atol=1e-6)
    with pytest.raises(InputError, match="EdgeModel_gen.pth"):
        load_weights(EdgeConnectRecipe, tmp_path / "nothing_here")


@pytest.mark.parametrize("recipe,config", [
    (RWRecipe, {"cnum": 8}), (PConvRecipe, {"width": 8, "layers": 4}),
    (GatedRecipe, {"cnum": 24, "attention": True}), (EdgeConnectRecipe, {"width": 8, "blocks": 2, "sigma": 2.0})])
def test_untrained_networks_pass_the_known_pixels_through(recipe, config):
    """At initialisation the output must depend on the input: gated's first version did not
    (1e-9 change; its stacked half-open gates killed the signal) and learned a constant colour."""
    torch.manual_seed(0)
    model = recipe.build_model(config).eval()
    hole = torch.zeros(2, 1, 128, 128)
    hole[..., 40:80, 40:80] = 1
    with torch.no_grad():
        a = recipe.prediction(model, torch.rand(2, 3, 128, 128), hole)
        b = recipe.prediction(model, torch.rand(2, 3, 128, 128), hole)
    assert (a - b).abs().mean() > 1e-2


def test_shipped_weights_are_small_fp16_files():
    from pathlib import Path

    from methods.training.model_card import card_path

    shipped = sorted((Path(__file__).resolve().parents[1] / "methods").glob("*/weights/**/*.pt"))
    assert shipped, "no shipped weights found"
    for f in shipped:
        assert f.stat().st_size < 20e6, f"{f} is {f.stat().st_size / 1e6:.1f} MB; shipped weights stay under 20 MB"
        sd = torch.load(f, map_location="cpu", weights_only=False)["state_dict"]
        assert all(v.dtype == torch.float16 for v in sd.values() if v.is_floating_point()), f
        method = f.parts[f.parts.index("weights") - 1]  # methods/METHOD/weights/...
        assert card_path(method, f).is_file(), f"{f} has no model card"


def test_bench_times_the_trainers_own_step(monkeypatch):
    """`inpaintbench bench` must time the step the trainer takes (critic first, then generator),
    not a copy of it that can drift: every timed step goes through trainer.train_step, and the
    critic's weights move."""
    import methods.training.trainer as trainer
    from inpaintbench import registry

    calls = []
    real = trainer.train_step

    def counted(recipe, model, critics, opts, gt, hole, bf16):
        calls.append({k: [p.detach().clone() for p in c.parameters()][0] for k, c in critics.items()})
        return real(recipe, model, critics, opts, gt, hole, bf16)

    monkeypatch.setattr(trainer, "train_step", counted)
    r = registry.create("gated", device="cpu").benchmark_training("cpu", batch=1, crop=64, steps=2)
    assert len(calls) == 3 and r["critics"] == sorted(calls[0]) and r["critics"]
    k = r["critics"][0]
    assert not torch.equal(calls[0][k], calls[2][k])  # the critic was stepped between timed steps
    assert r["images_per_s"] > 0 and r["precision"] == "fp32"
    # the trainer's --channels-last and --compile, as the GPU bench times them: the step runs the
    # compiled model, whose weights are NHWC
    compiled = []
    monkeypatch.setattr(torch, "compile", lambda m: compiled.append(m) or m)
    calls.clear()
    # the trainer's compile sets it; restored after (torch's patch, not monkeypatch: see test_rwconv's
    # test_channels_last_and_compile_train_the_same_steps)
    with torch._dynamo.config.patch(suppress_errors=False):
        r = registry.create("gated", device="cpu").benchmark_training("cpu", batch=1, crop=64, steps=1, channels_last=True, compile=True)
        assert torch._dynamo.config.suppress_errors  # compiled as the trainer compiles: a failure runs eager there too
    assert len(compiled) == 1 and len(calls) == 2 and r["channels_last"] and r["compile"] and r["first_step_s"] > 0
    convs = [p for p in compiled[0].parameters() if p.dim() == 4 and p.shape[-1] > 1]
    assert convs and all(p.is_contiguous(memory_format=torch.channels_last) and not p.is_contiguous() for p in convs)


@pytest.mark.parametrize("name", ["rwconv", "gated", "edgeconnect", "pconv"])
def test_learned_methods_name_the_image_sizes_they_cannot_take(name):
    """Too small (reflect padding deep in the network) or not a multiple of the downsampling: one
    error from the harness that names the limit, not torch's from inside a layer."""
    from inpaintbench import registry
    from inpaintbench.errors import MethodError

    m = registry.create(name, device="cpu")
    k, least = m.recipe.multiple_of, m.recipe.min_side
    side = -(-least // k) * k  # the smallest side that runs
    assert m.inpaint(torch.rand(1, 3, side, side), torch.zeros(1, 1, side, side)).shape == (1, 3, side, side)
    if side > k:
        with pytest.raises(MethodError, match=f"at least {least} px"):
            m.inpaint(torch.rand(1, 3, side - k, side), torch.zeros(1, 1, side - k, side))
    with pytest.raises(MethodError, match=f"divisible by {k}"):
        m.inpaint(torch.rand(1, 3, side + k + 2, side), torch.zeros(1, 1, side + k + 2, side))
    # a hole of the wrong shape, or an image without its batch dimension: called from Python, pconv,
    # gated and edgeconnect broadcast a 3-D image into a batch of one or failed inside a layer
    for image, hole in (((2, 3, side, side), (side, side)), ((2, 3, side, side), (2, 1, side, side - k)),
                        ((2, 3, side, side), (1, 1, side, side)), ((2, 3, side, side), (2, 3, side, side)),
                        ((3, side, side), (1, 1, side, side)), ((2, 1, side, side), (2, 1, side, side))):
        with pytest.raises(MethodError, match=re.escape(f"{name}: inpaint takes masked (B,3,H,W) and hole (B,1,H,W) "
                                                        f"of the same B, H and W; got {image} and {hole}")):
            m.inpaint(torch.rand(image), torch.zeros(hole))


def test_every_trainer_checks_its_own_settings_range():
    """Each method's config adds its widths to the shared floors; EdgeConnect's Canny sigma must be above 0."""
    from methods.edgeconnect.train import EdgeConnectTrainConfig
    from methods.gated.train import GatedTrainConfig
    from methods.rwconv.train import RWTrainConfig

    assert RWTrainConfig().setting_problems() == [] and PConvRecipe.Config().setting_problems() == []
    assert GatedTrainConfig(dis_cnum=0).setting_problems() == ["--dis-cnum must be at least 1, got 0"]
    # widths the networks cannot be built at ended at the first step in PyTorch's channel-count errors
    assert GatedTrainConfig(cnum=6).setting_problems() == ["--cnum must be a multiple of 4, got 6"]
    assert RWTrainConfig(cnum=1).setting_problems() == ["--cnum must be at least 2, got 1"]
    assert PConvRecipe.Config(layers=0).setting_problems() == ["--layers must be at least 1, got 0"]
    assert EdgeConnectTrainConfig(sigma=0.0, betas=(0.0, 1.0)).setting_problems() == [
        "--sigma must be above 0, got 0.0", "--betas must each be in [0, 1), got 0.0 1.0"]


def test_training_refuses_a_crop_the_network_cannot_take_before_loading_photos(tmp_path):
    from methods.rwconv.train import RWTrainConfig

    with pytest.raises(ValueError, match="--crop 64: rwconv needs image sides of at least 68 px"):
        train(RWRecipe(RWTrainConfig(out=str(tmp_path), crop=64, data=[str(tmp_path / "none")])), log=lambda s: None)
    with pytest.raises(ValueError, match="--val-size 100: pconv needs image sides divisible by 128"):
        train(PConvRecipe(PConvRecipe.Config(out=str(tmp_path), crop=128, val_size=100, data=[str(tmp_path / "none")])), log=lambda s: None)
    # the multiple follows --layers: 12 passed the default depth's check at 128 and stopped in the model
    with pytest.raises(ValueError, match="--crop 128: pconv needs image sides divisible by 4096, got 128x128"):
        train(PConvRecipe(PConvRecipe.Config(out=str(tmp_path), crop=128, layers=12, data=[str(tmp_path / "none")])), log=lambda s: None)
    # ... and a shallower one takes sides the default would refuse, in training and in a run
    assert PConvRecipe.size_problem(64, 64, {"width": 4, "layers": 3}) is None
    assert PConvRecipe.size_problem(64, 64) == "pconv needs image sides divisible by 128, got 64x64"
    from inpaintbench import registry

    config = {"width": 4, "layers": 3}
    ck = {"method": "pconv", "nets": {"model": PConvRecipe.build_model(config).state_dict()}, "model_config": config, "step": 0}
    shallow = registry.create("pconv", weights=str(export_weights(ck, tmp_path / "shallow.pt", PConvRecipe.weights_format())))
    assert shallow.size_problem(64, 64) is None and shallow.size_problem(60, 64) == "pconv needs image sides divisible by 8, got 60x64"
    assert shallow.inpaint(torch.rand(1, 3, 64, 64), torch.zeros(1, 1, 64, 64)).shape == (1, 3, 64, 64)


@pytest.mark.parametrize("args,message", [
    (["--crop", "30"], "error: --crop 30: rwconv needs image sides divisible by 4"),
    (["--data", "/no/such/photos"], "error: training photos not found: ['/no/such/photos']"),
    # a photo set's name mistyped: the names are listed
    (["--data", "plasma"], "error: training photos not found: ['plasma'] (or pass --data DIR; photo sets by name: "
                           "plasma-workspace-wallpapers, mate-backgrounds, lomiri-wallpapers-16.04"),
    # found only after the run folder was made and the training photos loaded
    (["--val-data", "/no/such/photos"], "error: validation photos not found: ['/no/such/photos'] (or pass --val-data DIR)"),
    (["--lr-schedule", "sideways"], "error: --lr-schedule must be one of constant, cosine, cosine-restart, got 'sideways'"),
    (["--precision", "fp8"], "error: --precision must be one of auto, bf16, fp32, got 'fp8'"),
    (["--device", "cuda:7"], "error: --device cuda:7: PyTorch sees"),
    # these trained on (a negative loss, batch 1) or ended in tracebacks
    (["--hole-weight", "-1"], "error: --hole-weight must be at least 0, got -1.0"),
    (["--lr", "-1"], "error: --lr must be at least 0, got -1.0"),
    (["--cnum", "0"], "error: --cnum must be at least 2, got 0"),
    (["--batch-size", "0", "--max-hole-pct", "5"], "error: --batch-size must be at least 1, got 0; --max-hole-pct must be at least 10, got 5"),
    (["--workers", "-7"], "error: --workers must be at least -1, got -7"),
    # holes come from whole buckets: 45 trained to 40%, 90 to 60%, unsaid; a loss network mistyped was found after the photos
    (["--max-hole-pct", "45"], "error: --max-hole-pct must be one of 10, 20, 30, 40, 50, 60 (holes are drawn from the buckets up to it), got 45"),
    (["--loss-net", "resnet50"], "error: --loss-net must be one of auto, vgg16, efficientnet-lite0, got 'resnet50'"),
    (["--betas", "0.5"], "error: --betas takes two values (Adam's beta1 beta2), got 0.5"),
    # a traceback; and a run folder with no checkpoint in it
    # and what --export does, for a user who gave it with --steps to train and then export
    (["--export", "w.pt"], "error: --export: {out} holds no checkpoint (best.pt or last.pt); --export writes a trained "
                           "run's weights and exits, training nothing: train first (the same command without --export)"),
])
def test_the_trainer_command_ends_bad_settings_in_one_line(tmp_path, capsys, photo_dir, args, message):
    """As the harness's commands do: exit 2 and the message, not a traceback (they were tracebacks),
    and no run folder left behind; the message is the only line (it came under an empty progress bar)."""
    from methods.training.trainer import main

    out = tmp_path / "run"
    with pytest.raises(SystemExit) as e:
        # photos made here (CI has no Debian wallpapers); a --data or --val-data in args comes later and wins
        main(RWRecipe, ["--out", str(out), "--steps", "1", "--cnum", "4", "--data", str(photo_dir), "--val-data", str(held_out(photo_dir)), *args])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert e.value.code == 2 and lines[-1].startswith(message.format(out=out)) and "Traceback" not in err, err
    assert len(lines) == 1, err
    assert not out.exists()


@pytest.mark.parametrize("flag,role", [("--data", "training"), ("--val-data", "validation")])
def test_a_photo_folder_with_no_image_in_it_is_named_as_such(tmp_path, capsys, photo_dir, flag, role):
    """An empty folder (or one of other files) was 'photos not found: [FOLDER]', a folder that is there."""
    from methods.training.trainer import main

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SystemExit) as e:
        main(RWRecipe, ["--out", str(tmp_path / "run"), "--steps", "1", "--cnum", "4", "--data", str(photo_dir),
                        "--val-data", str(held_out(photo_dir)), flag, str(empty)])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and err.startswith(f"error: {role} photos: no image (.png, .jpg") and \
        err.endswith(f"in {empty}; pass {flag} with folders or files of photos"), err


@pytest.mark.parametrize("copy", ["renamed", "saved-again"])
def test_the_trainer_refuses_to_validate_on_training_photos(tmp_path, capsys, photo_dir, copy):
    """A --val-data among the --data photos trained and picked its best step on photos the model
    had seen, and the model card called them held out; a copy under another name is the same photo,
    and so is one saved again (other PNG settings, metadata added: the same pixels in other bytes),
    which passed the byte comparison."""
    from PIL import Image, PngImagePlugin

    from methods.training.trainer import main

    first = sorted(photo_dir.glob("*.png"))[0]
    copies = tmp_path / "copies"
    copies.mkdir()
    val = copies / f"{copy}.png"
    if copy == "renamed":
        val.write_bytes(first.read_bytes())
        said = f"1 validation photo is also a training photo ({val} is {first})"
    else:
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "exported again")
        Image.open(first).save(val, pnginfo=info, compress_level=1)
        assert val.read_bytes() != first.read_bytes()
        said = f"1 validation photo is a training photo saved again ({val} has the pixels of {first})"
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as e:
        main(RWRecipe, ["--out", str(out), "--steps", "1", "--cnum", "4", "--data", str(photo_dir),
                        "--val-data", str(held_out(photo_dir)), str(copies)])
    err = " ".join(capsys.readouterr().err.split())
    assert e.value.code == 2 and not out.exists()
    assert (f"error: {said}: validation would measure what the model has seen; pass --val-data photos outside --data") in err, err


def test_a_training_out_that_is_a_file_is_one_line(tmp_path, capsys, photo_dir):
    """--out naming an existing file ended the trainer in a FileExistsError traceback."""
    from methods.training.trainer import main

    f = tmp_path / "afile"
    f.write_text("mine")
    with pytest.raises(SystemExit) as e:
        main(RWRecipe, ["--out", str(f), "--steps", "1", "--cnum", "4", "--data", str(photo_dir),
                        "--val-data", str(held_out(photo_dir))])
    err = capsys.readouterr().err
    assert e.value.code == 2 and f"error: {f}: a file is in the way of a folder on this path" in err, err
    assert "Traceback" not in err and f.read_text() == "mine"


@pytest.mark.parametrize("recipe, width", [(RWRecipe, ["--cnum", "4"]), (EdgeConnectRecipe, ["--width", "4", "--blocks", "1"])])
def test_the_training_bar_keeps_its_step_and_times_in_80_columns(tmp_path, capsys, photo_dir, monkeypatch, recipe, width):
    """In an 80-column terminal rich shrank every column of the trainer's bar alike: the step showed
    as "1…" and both times as "0:0…" behind rwconv's loss terms, and beside EdgeConnect's eleven they
    were dropped whole. Those keep their width now; the loss terms (total first) get what is left
    and are cut at the end. Where the output is no terminal (a background job's log) rich drew the
    bar only at the end: a line every LogLines.every_s seconds (0 here) says the step and the terms."""
    import re

    from inpaintbench.progress import LogLines
    from methods.training.trainer import main

    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(LogLines, "every_s", 0.0)
    main(recipe, ["--out", str(tmp_path / "t"), "--steps", "2", *width, "--crop", "128", "--batch-size", "2",
                  "--val-every", "0", "--data", str(photo_dir), "--val-data", str(held_out(photo_dir))])
    err = capsys.readouterr().err.splitlines()
    # a log line longer than the console (rwconv's lambdas) stays one line: rich had folded it
    said = [s for s in err if s.startswith("loss network ")]
    assert len(said) == 1 and err[err.index(said[0]) + 1].startswith("training on "), err
    line = [s for s in err if s.startswith(f"train {recipe.name} ")][-1]
    assert len(line) <= 80 and re.match(rf"train {recipe.name}[ ━╸╺]* 2/2 \d:\d\d:\d\d \d:\d\d:\d\d total \d\.\d{{4}} ", line), line
    logged = [s for s in err if s.startswith(f"train {recipe.name}:")]
    assert [s.split(";")[0].split(",")[0] for s in logged] == [f"train {recipe.name}: 1/2 steps (50%)",
                                                               f"train {recipe.name}: 2/2 steps (100%)"], err
    assert all(re.search(r"; total \d\.\d{4} ", s) for s in logged), logged


def test_every_tenth_steps_losses_go_to_the_log_file_not_between_the_bars_lines(tmp_path, capsys, photo_dir):
    """Each tenth step's row was printed as well as written to train_log.csv: on a GPU (11 steps a
    second) a line a second scrolled above the bar, which shows the same terms."""
    import csv

    from methods.training.trainer import main

    out = tmp_path / "t"
    main(RWRecipe, ["--out", str(out), "--steps", "10", "--cnum", "4", "--crop", "128", "--batch-size", "1",
                    "--val-every", "0", "--data", str(photo_dir), "--val-data", str(held_out(photo_dir))])
    err = capsys.readouterr().err
    assert "step=10" not in err and "images_per_s" not in err, err
    with open(out / "train_log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["10"] and float(rows[0]["total"]) > 0 and float(rows[0]["images_per_s"]) > 0


def test_an_interrupted_training_run_says_where_it_resumes_from(tmp_path, capsys, photo_dir, monkeypatch):
    """Ctrl-C ended the trainer with its bar half drawn and not a word on what was kept."""
    from methods.training import trainer

    step = trainer.train_step
    done = []

    def interrupted_at_the_third_step(*args, **kwargs):
        if len(done) == 2:
            raise KeyboardInterrupt
        done.append(1)
        return step(*args, **kwargs)

    monkeypatch.setattr(trainer, "train_step", interrupted_at_the_third_step)
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as e:
        trainer.main(RWRecipe, ["--out", str(out), "--steps", "5", "--cnum", "4", "--crop", "96", "--batch-size", "2",
                                "--ckpt-every", "1", "--val-every", "0", "--data", str(photo_dir)])
    err = " ".join(capsys.readouterr().err.split())
    assert e.value.code == 130 and f"interrupted: {out / 'last.pt'} holds the last checkpoint" in err, err
    assert trainer.load_checkpoint(out / "last.pt")["step"] == 2


def test_the_training_bar_reads_loss_terms_from_the_device_at_its_own_pace(tmp_path, photo_dir, monkeypatch):
    """The bar formatted every step's loss terms with float(): on a GPU each is a wait for the step to
    finish, so the host could not queue the next one. They are read every LOSSES_EVERY_S seconds
    (made endless here: the first step's only) and for the log row every 10 steps."""
    from methods.training import trainer

    reads = []

    class Term:
        def __init__(self, t):
            self.t = t

        def detach(self):
            return self

        def __float__(self):
            reads.append(1)
            return float(self.t.detach())

    step = trainer.train_step
    terms_per_step = []

    def counted(*args, **kwargs):
        terms = step(*args, **kwargs)
        terms_per_step.append(len(terms))
        return {k: Term(v) for k, v in terms.items()}

    monkeypatch.setattr(trainer, "train_step", counted)
    monkeypatch.setattr(trainer, "LOSSES_EVERY_S", float("inf"))
    trainer.main(RWRecipe, ["--out", str(tmp_path / "t"), "--steps", "20", "--cnum", "4", "--crop", "96",
                            "--batch-size", "1", "--val-every", "0", "--data", str(photo_dir)])
    n = terms_per_step[0]
    assert len(terms_per_step) == 20 and len(reads) == n + 2 * n, (len(reads), n)


def test_patchmatch_names_the_pypatchmatch_it_needs(monkeypatch):
    """Python 3.10 resolves PyPatchMatch 1.0, which has no seed: the run stopped on its first batch
    with AttributeError 'set_random_seed'."""
    import types

    from inpaintbench import registry

    monkeypatch.setitem(sys.modules, "patchmatch", types.ModuleType("patchmatch"))  # 1.0's module: inpaint, no seed
    with pytest.raises(InputError, match=r"patchmatch needs PyPatchMatch 2.2 or newer .*, found [0-9.]+: python -m pip install -U 'pypatchmatch>=2.2'"):
        registry.create("patchmatch")
    import importlib.metadata

    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)  # a module of another origin
    with pytest.raises(InputError, match="found a patchmatch module at None: python -m pip"):
        registry.create("patchmatch")
