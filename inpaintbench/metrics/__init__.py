"""Metrics: pixel (pixel.py), deep per-image (perceptual.py), set-level (fid.py), run together by suite.py."""
from ..errors import InputError, did_you_mean

# name -> (higher is better, display scale, display label); reports show only these, in this order
METRIC_INFO = {
    "psnr": (True, 1, "PSNR"), "ssim": (True, 1, "SSIM"),
    "l1": (False, 1e3, "l1 (1e-3)"), "l2": (False, 1e3, "l2 (1e-3)"),
    "fid": (False, 1, "FID"), "kid": (False, 1e3, "KID (1e-3)"),
    "perceptual_vgg16": (False, 1, "Perceptual VGG16"), "perceptual_inception": (False, 1, "Perceptual Inception"),
    "lpips_alex": (False, 1, "LPIPS alex"), "lpips_vgg": (False, 1, "LPIPS vgg"),
    "psnr_hole": (True, 1, "PSNR hole"), "ssim_hole": (True, 1, "SSIM hole"),
    "l1_hole": (False, 1e3, "l1 hole (1e-3)"), "l2_hole": (False, 1e3, "l2 hole (1e-3)"),
}
SET_METRICS = ("fid", "kid")


def known_metrics(names, flag: str = "--metrics"):
    """Names as given, each checked: a misspelt one (PSNR) would be dropped, left at a default, or
    said to be unscored by the runs, without a word that there is no such metric."""
    for n in names or []:
        if n not in METRIC_INFO:
            raise InputError(f"{flag} {n!r}: no such metric{did_you_mean(n, METRIC_INFO)}; metrics: {', '.join(METRIC_INFO)}")
    return names
