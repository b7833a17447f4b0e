"""Photos packed for a GPU machine must give the trainer the pixels the originals give."""
from pathlib import Path

import numpy as np
from PIL import Image

from methods.training.photo_pack import destination, packed_bytes
from methods.training.photos import MAX_SHORT_SIDE, load_photo, photo_bytes


def _photo(path: Path, w: int, h: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 // w, y * 255 // h, (x + y) * 127 // (w + h)], -1) + rng.integers(0, 40, (h, w, 3))
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path, quality=95)
    return str(path)


def test_a_big_photo_travels_as_the_trainers_own_pixels(tmp_path):
    big = _photo(tmp_path / "big.jpg", 2400, 1500)
    data = packed_bytes(big)
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) < len(photo_bytes(Path(big)))
    copy = tmp_path / "copy" / "big.jpg"  # the same name: the trainer decodes by content
    copy.parent.mkdir()
    copy.write_bytes(data)
    assert np.array_equal(load_photo(copy), load_photo(Path(big)))
    assert min(load_photo(copy).shape[:2]) == MAX_SHORT_SIDE


def test_a_photo_the_trainer_does_not_shrink_travels_as_it_is(tmp_path):
    small = _photo(tmp_path / "small.jpg", 600, 400)
    assert packed_bytes(small) == Path(small).read_bytes()
    assert destination(Path("/d"), "/usr/share/x/a.jpg") == Path("/d/usr/share/x/a.jpg")
    assert destination(Path("/d"), "/usr/share/b.rcc#g/a.webp") == Path("/d/usr/share/b.rcc/g/a.webp")
