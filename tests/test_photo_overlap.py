"""Training photos must not show what the demo set shows: the detector, and the photo sets."""
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pytest
import skimage.data
from PIL import Image

from inpaintbench.data.demo import PHOTOS, source_files
from inpaintbench.data.image_io import decode_rgb
from methods.training.photo_overlap import THRESHOLD, main

SKIMAGE = Path(skimage.data.data_dir)  # skimage/data before 0.27, _skimage2/data since
# photos inside the installed packages that are not demo sources (the phantom scored highest, 28)
UNRELATED = [SKIMAGE / n for n in ("camera.png", "coins.png", "horse.png", "text.png", "phantom.png", "brick.png")] + [
    Path(matplotlib.__file__).parent / "mpl-data/sample_data/Minduka_Present_Blue_Pack.png"]


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, enc = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(enc, cv2.IMREAD_COLOR)[..., ::-1]


def test_altered_copies_of_demo_photos_and_the_other_stereo_view_are_caught_other_photos_are_not(tmp_path, capsys):
    (tmp_path / "copies").mkdir()
    for i, f in enumerate(source_files().values()):
        img = decode_rgb(f)
        h, w = img.shape[:2]
        crop = img[h // 5 : h * 4 // 5, w // 5 : w * 4 // 5]  # centre 60% enlarged 1.7x, JPEG 70
        enlarged = _jpeg(np.asarray(Image.fromarray(crop).resize((round(crop.shape[1] * 1.7), round(crop.shape[0] * 1.7)), Image.BICUBIC)), 70)
        halved = np.asarray(Image.fromarray(img).resize((w // 2, h // 2), Image.BILINEAR))[:, ::-1, ::-1]  # mirrored, R and B swapped
        for suffix, copy in (("a", enlarged), ("b", halved)):
            Image.fromarray(np.ascontiguousarray(copy)).save(tmp_path / "copies" / f"{i}{suffix}.png")
    (tmp_path / "stereo").mkdir()
    Image.open(SKIMAGE / "motorcycle_right.png").save(tmp_path / "stereo" / "right.png")

    with pytest.raises(SystemExit) as e:
        main([str(tmp_path / "copies"), str(tmp_path / "stereo")])
    out = capsys.readouterr().out
    assert e.value.code == 1
    assert f"17 pairs reach {THRESHOLD}" in out, out
    for i, (stem, _, _) in enumerate(PHOTOS):  # each copy found with its own source, nothing else
        assert f"  {i}a  ~  demo:{stem}" in out and f"  {i}b  ~  demo:{stem}" in out, (stem, out)
    assert "  right  ~  demo:motorcycle" in out

    with pytest.raises(SystemExit) as e:
        main([str(f) for f in UNRELATED])
    out = capsys.readouterr().out
    assert e.value.code == 0 and f"7 photos against 8 (demo): no pair reaches {THRESHOLD}" in out, out


def test_two_folders_and_a_missing_file(tmp_path, capsys):
    """Any photo list against any other (a user's training folder against their test folder)."""
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    camera = decode_rgb(SKIMAGE / "camera.png")
    Image.fromarray(camera).save(tmp_path / "test" / "camera.png")
    Image.fromarray(_jpeg(camera[40:, 60:], 60)).save(tmp_path / "train" / "crop.png")
    Image.fromarray(decode_rgb(SKIMAGE / "coins.png")).save(tmp_path / "train" / "coins.png")
    with pytest.raises(SystemExit) as e:
        main([str(tmp_path / "train"), "--against", str(tmp_path / "test")])
    out = capsys.readouterr().out
    assert e.value.code == 1 and "1 pairs reach" in out and "crop  ~  camera" in out and "coins  ~" not in out, out
    with pytest.raises(SystemExit) as e:
        main([str(tmp_path / "nope.png")])
    assert e.value.code == 2 and "nope.png does not exist" in capsys.readouterr().err


def _some_set_installed() -> bool:
    from methods.training.photos import PHOTO_SETS, photo_exists

    return any(photo_exists(Path(v[0])) for v in PHOTO_SETS.values())


@pytest.mark.skipif(not _some_set_installed(), reason="no photo set installed (here, not on CI)")
def test_no_installed_training_or_validation_photo_shows_a_demo_photo_or_a_validation_photo(capsys):
    """The photo sets' claim, measured where their packages are installed (about 80 s): a photo
    added to PHOTO_SETS that shows a demo or validation photo fails here."""
    with pytest.raises(SystemExit) as e:
        main([])
    out = capsys.readouterr().out
    assert e.value.code == 0, out
    assert "(demo): no pair reaches" in out and "(validation photos): no pair reaches" in out, out
