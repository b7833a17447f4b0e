import numpy as np
import pytest
import torch
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

from inpaintbench.masks import BUCKETS, generate_hole
from inpaintbench.metrics.pixel import pixel_metrics

from .conftest import to_tensor


@pytest.mark.parametrize("bucket", [BUCKETS[0], BUCKETS[3], BUCKETS[5]], ids=lambda b: b.name)
def test_against_scikit_image_on_real_photos(photo_pair, bucket):
    a, b = photo_pair
    hole = generate_hole(bucket, 0)
    # a composite: known pixels from b, hole pixels from a, as the harness scores it
    out = np.where(hole[..., None], a, b)
    m = pixel_metrics(to_tensor(out), to_tensor(b), torch.from_numpy(hole)[None, None].float())
    ssim, smap = structural_similarity(out, b, channel_axis=2, gaussian_weights=True, use_sample_covariance=False,
                                       data_range=1.0, full=True)
    assert m["psnr"].item() == pytest.approx(peak_signal_noise_ratio(b, out, data_range=1.0), abs=1e-6)
    assert m["ssim"].item() == pytest.approx(ssim, abs=1e-6)
    assert m["l2"].item() == pytest.approx(mean_squared_error(b, out), abs=1e-9)
    assert m["l1"].item() == pytest.approx(np.abs(out - b).mean(), abs=1e-9)
    # hole only: divide by hole pixels x channels, never by all pixels
    d = (out - b)[hole]
    assert m["l1_hole"].item() == pytest.approx(np.abs(d).mean(), abs=1e-9)
    assert m["l2_hole"].item() == pytest.approx((d**2).mean(), abs=1e-9)
    assert m["psnr_hole"].item() == pytest.approx(10 * np.log10(1 / (d**2).mean()), abs=1e-6)
    assert m["ssim_hole"].item() == pytest.approx(smap.mean(axis=2)[hole].mean(), abs=1e-6)
    # the known region is identical, so whole-image l1 is the hole l1 scaled by the hole ratio
    assert m["l1"].item() == pytest.approx(m["l1_hole"].item() * hole.mean(), rel=1e-9)


def test_identical_images_are_capped_and_perfect(photo_pair):
    a, _ = photo_pair
    hole = torch.zeros(1, 1, 256, 256)
    hole[..., 10:20, 10:20] = 1
    m = pixel_metrics(to_tensor(a), to_tensor(a), hole)
    assert m["psnr"].item() == pytest.approx(100.0)
    assert m["ssim"].item() == pytest.approx(1.0)
    assert m["l1"].item() == 0


def test_batch_equals_single(photo_pair):
    a, b = photo_pair
    holes = torch.stack([torch.from_numpy(generate_hole(BUCKETS[i], 1))[None].float() for i in (1, 4)])
    x, y = torch.cat([to_tensor(a), to_tensor(b)]), torch.cat([to_tensor(b), to_tensor(a)])
    batch = pixel_metrics(x, y, holes)
    for i in range(2):
        single = pixel_metrics(x[i : i + 1], y[i : i + 1], holes[i : i + 1])
        for k in batch:
            assert batch[k][i].item() == pytest.approx(single[k].item(), abs=1e-12)
