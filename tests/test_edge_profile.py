import math

import pytest
import torch

from methods.diagnostics.edge_profile import BANDS, distance_to_known, profile


def square_hole():
    hole = torch.zeros(1, 1, 32, 32)
    hole[..., 8:18, 8:18] = 1  # 10 x 10: rings at distance 1, 2, 3, 4, 5 of 36, 28, 20, 12, 4 pixels
    return hole


def test_distance_rings_by_hand():
    d = distance_to_known(square_hole())
    assert [int((d == k).sum()) for k in range(1, 6)] == [36, 28, 20, 12, 4]
    assert d[0, 0, 0, 0] == 0 and d[0, 0, 8, 8] == 1 and d[0, 0, 12, 12] == 5


def test_error_lands_in_its_band():
    hole, gt = square_hole(), torch.full((1, 3, 32, 32), 0.5)
    d = distance_to_known(hole)
    out = gt + 0.1 * (d == 1) + 0.01 * (d >= 4)  # a seam one pixel wide, small error deep inside
    rows = profile(out, gt, hole)
    assert [r["share"] for r in rows] == pytest.approx([0.36, 0.48, 0.16, 0, 0])
    assert rows[0]["psnr"] == pytest.approx(20.0)  # mse 0.01
    assert rows[1]["mse"] == 0 and rows[1]["psnr"] == math.inf  # rings 2 and 3 are exact
    assert rows[2]["psnr"] == pytest.approx(40.0) and math.isnan(rows[3]["mse"])
    assert len(rows) == len(BANDS)
    assert [r["band"] for r in rows] == ["1 px", "2-3 px", "4-7 px", "8-15 px", "16+ px"]


def test_ssim_by_band_agrees_with_the_suites_hole_ssim():
    """The whole-hole band's SSIM is the suite's ssim_hole (same map, same pixels); a seam lowers
    the SSIM of the rings near it more than of the centre, and an exact copy scores 1 everywhere."""
    from inpaintbench.metrics.pixel import pixel_metrics

    hole = square_hole()
    gt = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    d = distance_to_known(hole)
    out = (gt + 0.2 * (d == 1)).clamp(0, 1)
    rows = profile(out, gt, hole, BANDS + ((0.0, math.inf),))
    assert rows[-1]["ssim"] == pytest.approx(float(pixel_metrics(out, gt, hole)["ssim_hole"][0]), abs=1e-9)
    assert rows[0]["ssim"] < rows[2]["ssim"] < 1
    assert all(r["ssim"] == pytest.approx(1.0) for r in profile(gt, gt, hole)[:3])


def test_grain_by_hand():
    """A checkerboard of +-a has a 4-neighbour Laplacian of -+8a at every pixel whose neighbours
    all carry it: rings 2-3 of a 10 x 10 hole; a flat fill has none."""
    hole, gt = square_hole(), torch.full((1, 3, 32, 32), 0.5)
    y, x = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
    out = gt + 0.01 * (-1.0) ** (x + y) * hole
    rows = profile(out, gt, hole)
    assert rows[1]["grain"] == pytest.approx(0.08) and rows[2]["grain"] == pytest.approx(0.08)
    assert 0 < rows[0]["grain"] < 0.08  # ring 1 also has known (flat) neighbours
    assert all(r["grain"] == 0 for r in profile(gt, gt, hole)[:3])


@pytest.mark.parametrize("module", ["edge_profile", "colour_bias"])
def test_the_diagnoses_end_bad_input_in_one_line(tmp_path, capsys, module):
    """A mistyped method or weights file ended both diagnoses in a traceback, and missing --val-data
    photos were "training photos not found ... or pass --data DIR", an option they do not have."""
    import importlib

    import numpy as np
    from PIL import Image

    main = importlib.import_module(f"methods.diagnostics.{module}").main
    (tmp_path / "val").mkdir()
    Image.fromarray(np.full((300, 300, 3), 90, np.uint8)).save(tmp_path / "val" / "p.png")
    for args, said in ((["telae", "--val-data", str(tmp_path / "val")], "error: unknown method 'telae'"),
                       (["rwconv=" + str(tmp_path / "w.pt"), "--val-data", str(tmp_path / "val")], "error: rwconv weights"),
                       (["telea", "--val-data", str(tmp_path / "none")],
                        f"error: validation photos not found: ['{tmp_path / 'none'}'] (or pass --val-data DIR")):
        with pytest.raises(SystemExit) as e:
            main(args)
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.startswith(said) and "Traceback" not in err, err
