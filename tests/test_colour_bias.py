import pytest
import torch

from methods.diagnostics.colour_bias import colour_oracle, hole_colour_error, measure


class Shifted:
    """Fills holes with the truth plus a fixed colour shift plus noise: the split must find both."""

    def __init__(self, gt, shift):
        self.gt, self.shift, self.i = gt, torch.tensor(shift)[None, :, None, None], 0

    def inpaint(self, masked, hole):
        g = self.gt[self.i : self.i + len(masked)]
        self.i += len(masked)
        return g + self.shift + 0.01 * torch.randn(g.shape, generator=torch.Generator().manual_seed(self.i))


def test_colour_split_by_hand():
    gt = 0.2 + 0.6 * torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    hole = torch.zeros(6, 1, 32, 32)
    hole[:, :, 8:20, 4:30] = 1
    out = gt + torch.tensor([0.1, 0.0, -0.05])[None, :, None, None] * hole
    assert hole_colour_error(out, gt, hole)[0].tolist() == pytest.approx([0.1, 0.0, -0.05])
    assert torch.allclose(colour_oracle(out, gt, hole), gt, atol=1e-6)

    r = measure(Shifted(gt, [0.1, 0.0, -0.05]), gt, hole, batch=4)
    assert (r["bias_r"], r["bias_g"], r["bias_b"]) == pytest.approx((0.1, 0.0, -0.05), abs=2e-3)
    assert r["hole_colour_error"] == pytest.approx(0.05, abs=2e-3)  # mean |.| of (0.1, 0, 0.05)
    # composite error is noise + shift in 39% of the pixels; the oracle leaves the 0.01 noise alone
    assert r["psnr"] == pytest.approx(-10 * torch.log10(torch.tensor((0.01 + 0.0025 + 3e-4) / 3 * 312 / 1024)).item(), abs=0.3) and r["psnr_colour_oracle"] == pytest.approx(-10 * torch.log10(torch.tensor(1e-4 * 312 / 1024)).item(), abs=0.3)


def test_blended_spec_is_the_methods_fill_through_the_blend():
    from inpaintbench.blend import blend_fill
    from methods.diagnostics.colour_bias import Finished, composites, create_spec

    torch.manual_seed(0)
    gt = torch.rand(2, 3, 32, 32)
    hole = torch.zeros(2, 1, 32, 32)
    hole[:, :, 8:20, 4:28] = 1
    plain, blended = create_spec("telea"), create_spec("telea+poisson")
    assert isinstance(blended, Finished) and not isinstance(plain, Finished)
    masked = gt * (1 - hole)
    want = blend_fill("poisson", plain.inpaint(masked, hole).float(), masked, hole)
    assert torch.allclose(composites(blended, gt, hole), want * hole + gt * (1 - hole))
    assert not torch.allclose(composites(blended, gt, hole), composites(plain, gt, hole), atol=1e-3)
