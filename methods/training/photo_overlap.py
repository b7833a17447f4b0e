"""Does a training photo show what an evaluation photo shows? The check behind "none is in the
demo evaluation set": every photo set's claim, made by eye from contact sheets, measured.

    python -m methods.training.photo_overlap [PHOTOS...] [--against PHOTOS...] [--threshold 50]

PHOTOS are photo set names (PHOTO_SETS, VAL_PHOTOS), files or folders; `demo` stands for the
demo set's 8 source photos (each demo crop is cut from one). Default: every training and
validation photo against `demo`, and the training photos against the validation ones. Exit 1
when a pair reaches the threshold, listing it.

Two photos share content when OpenCV's ORB keypoints of one match the other's under a single
similarity transform (RANSAC inliers): a crop, rescale, re-encode or mirror of a photo keeps
hundreds of such matches, unrelated photos a few dozen at most. Measured: the 8 demo photos cropped
to 60%, enlarged 1.7x and saved as JPEG at quality 70: 203-612; halved, mirrored and with red and
blue swapped: 292-1160; scikit-image's motorcycle_right, the other view of the demo's stereo
pair: 325. Unrelated: the 264 training and 8 validation photos against the demo photos, 20 at
the most; the training against the validation photos, 17; 19 other photos inside scikit-image
and matplotlib, 28 (the Shepp-Logan phantom). Hand-written here is only that rule; keypoints,
matching and RANSAC are OpenCV's. Each photo is compared at 512 px short side (small ones
enlarged: ORB finds few keypoints on them) and, since ORB is not mirror-invariant, also mirrored.
The default check takes about 80 s on 2 cores (8,600 matchings): it is for photo lists, not for
millions of images, where hash-based near-duplicate search is the tool.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from inpaintbench.data.demo import source_files

from .photos import PHOTO_SETS, VAL_PHOTOS, decode_photo, photo_exists, photo_files, photo_name

SIDE = 512  # short side the keypoints are found at: the demo photos are 300-512 px
THRESHOLD = 50  # shared points; unrelated photos here reach 28, altered copies 203 and more
DEMO = "demo"

_orb = cv2.ORB_create(nfeatures=2000)
_matcher = cv2.BFMatcher(cv2.NORM_HAMMING)


def keypoints(img: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(positions (n, 2), binary descriptors) of an RGB photo at SIDE px short side."""
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    s = SIDE / min(grey.shape)
    grey = cv2.resize(grey, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
    kp, desc = _orb.detectAndCompute(grey, None)
    return np.float32([k.pt for k in kp]).reshape(-1, 2), desc


def shared_points(a: tuple, b: tuple) -> int:
    """How many of a's keypoints land on b's under one similarity transform: ratio-tested
    matches (Lowe's 0.75) that RANSAC keeps within 4 px."""
    (pa, da), (pb, db) = a, b
    if da is None or db is None or len(pa) < 2 or len(pb) < 2:
        return 0
    good = [p[0] for p in _matcher.knnMatch(da, db, k=2) if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
    if len(good) < 3:
        return 0
    src = pa[[m.queryIdx for m in good]]
    dst = pb[[m.trainIdx for m in good]]
    cv2.setRNGSeed(0)  # RANSAC's draws: the same count for the same pair, whatever ran before
    _, inlier = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0)
    return int(inlier.sum()) if inlier is not None else 0


def resolve(words: list[str]) -> dict[str, Path]:
    """Photo set names, `demo`, files and folders to {label: file}. A set name means its training
    and validation photos; a set whose package is not installed is skipped with a note (the check
    covers what this machine has)."""
    out = {}
    for w in words:
        if w == DEMO:
            out.update({f"demo:{stem}": f for stem, f in source_files().items()})
        elif w in PHOTO_SETS or w in VAL_PHOTOS:
            out.update(installed(PHOTO_SETS.get(w, []) + VAL_PHOTOS.get(w, []), w))
        else:
            for f in photo_files([w]):
                if not photo_exists(f):
                    raise FileNotFoundError(f"photo_overlap: {f} does not exist")
                out[str(f)] = f
    return out


def installed(files: list[str], name: str) -> dict[str, Path]:
    there = {f: Path(f) for f in files if photo_exists(Path(f))}
    if not there:
        print(f"skipped {name}: package not installed", file=sys.stderr)
    return there


def overlaps(photos: dict[str, Path], against: dict[str, Path]) -> list[tuple[int, str, str]]:
    """(shared points, photo, reference) for every pair, most shared first; a pair of the same
    file is left out."""
    refs = {k: keypoints(decode_photo(f)) for k, f in against.items()}
    pairs = []
    for k, f in photos.items():
        img = decode_photo(f)
        plain, mirrored = keypoints(img), keypoints(np.ascontiguousarray(img[:, ::-1]))
        for r, ref in refs.items():
            if against[r] != f:
                pairs.append((max(shared_points(plain, ref), shared_points(mirrored, ref)), k, r))
    return sorted(pairs, key=lambda p: -p[0])


def name(label: str) -> str:
    return label if label.startswith("demo:") else photo_name(label.split("#")[-1])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("photos", nargs="*", help="photo set names, files or folders (default: every training and validation set)")
    p.add_argument("--against", nargs="+", default=[DEMO], help="what they must not show (default: demo, the demo set's source photos)")
    p.add_argument("--threshold", type=int, default=THRESHOLD, help="shared points that mean the same content")
    p.add_argument("--top", type=int, default=3, help="closest pairs printed per comparison")
    a = p.parse_args(argv)
    if a.photos:
        try:
            checks = [(resolve(a.photos), resolve(a.against), " ".join(a.against))]
        except FileNotFoundError as e:
            p.error(str(e))
    else:
        training = {k: f for n, v in PHOTO_SETS.items() for k, f in installed(v, n).items()}
        validation = {k: f for n, v in VAL_PHOTOS.items() for k, f in installed(v, n).items()}
        checks = [(training | validation, resolve(a.against), " ".join(a.against)), (training, validation, "validation photos")]
    failed = []
    for mine, theirs, what in checks:
        pairs = overlaps(mine, theirs)
        hits = [q for q in pairs if q[0] >= a.threshold]
        print(f"{len(mine)} photos against {len(theirs)} ({what}): "
              + (f"{len(hits)} pairs reach {a.threshold} shared points" if hits else f"no pair reaches {a.threshold} shared points"))
        for n, x, y in (hits or pairs[: a.top]):
            print(f"  {n:5d}  {name(x)}  ~  {name(y)}")
        failed += hits
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
