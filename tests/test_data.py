import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inpaintbench.data import get_dataset
from inpaintbench.data.image_io import decode_rgb, fit_to_size
from inpaintbench.errors import InputError


def test_demo_is_deterministic_and_matches_its_manifest(demo):
    ids = demo.ids()
    assert len(ids) >= 24
    for i in ids[::5]:
        img = demo.load(i)
        assert img.shape == (256, 256, 3) and img.dtype == np.uint8
        assert hashlib.sha256(img.tobytes()).hexdigest() == demo.rows[i]["pixels_sha256"]


def test_the_demo_finds_scikit_images_photos_where_its_0_27_keeps_them(tmp_path, monkeypatch):
    """scikit-image 0.27 (the first with wheels for Python 3.15) moved its sample photos out of
    skimage/data into another package (_skimage2/data), which skimage.data.data_dir names: every
    demo run stopped with 'skimage has no data/astronaut.png'."""
    import importlib.machinery
    import importlib.util
    import shutil

    import skimage.data

    from inpaintbench.data import demo as demo_module

    photos = {stem: demo_module._package_file(package, rel) for stem, package, rel in demo_module.PHOTOS if package == "skimage"}
    want = {i: get_dataset("demo").load(i) for i in ("astronaut_full", "motorcycle_br")}
    moved = tmp_path / "_skimage2" / "data"
    moved.mkdir(parents=True)
    for path in photos.values():
        shutil.copy(path, moved)
    (tmp_path / "skimage").mkdir()  # the package, its data folder gone
    find_spec = importlib.util.find_spec

    def as_0_27(name, *args):
        if name != "skimage":
            return find_spec(name, *args)
        spec = importlib.machinery.ModuleSpec("skimage", None, is_package=True)
        spec.submodule_search_locations = [str(tmp_path / "skimage")]
        return spec

    monkeypatch.setattr(importlib.util, "find_spec", as_0_27)
    monkeypatch.setattr(skimage.data, "data_dir", str(moved))
    demo_module._source.cache_clear()
    try:
        assert {stem: demo_module.source_files()[stem] for stem in photos} == {s: moved / p.name for s, p in photos.items()}
        for i, pixels in want.items():  # the same files, so the manifest's hashes hold
            assert np.array_equal(get_dataset("demo").load(i), pixels)
        skimage.data.data_dir = str(tmp_path)  # and where that folder lacks a photo, the error names it
        demo_module._source.cache_clear()
        with pytest.raises(InputError, match="skimage has no data/astronaut.png"):
            get_dataset("demo").load("astronaut_full")
    finally:
        demo_module._source.cache_clear()


def test_files_a_folder_holds_beside_its_images_are_named_not_dropped_silently(tmp_path, caplog):
    """A GIF (or a notes.txt) among a folder's images left the set without a word: the run scored
    the others and the user never learned one image was not in it. Hidden names are skipped on
    purpose (a Mac's ._ files) and stay unmentioned."""
    rgb = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    for name in ("a.png", "b.jpg"):
        Image.fromarray(rgb).save(tmp_path / name)
    Image.fromarray(rgb).save(tmp_path / "c.gif")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "notes.txt").write_text("shot on a phone")
    (tmp_path / "._a.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    with caplog.at_level("WARNING", logger="inpaintbench"):
        ds = get_dataset("folder", tmp_path)
    assert ds.ids() == ["a.png", "b.jpg"]
    (said,) = [r.getMessage() for r in caplog.records]
    assert said.startswith(f"{tmp_path}: 2 files skipped (c.gif, sub/notes.txt): not of the image types read here (.png ")
    caplog.clear()
    for f in ("c.gif", "sub/notes.txt"):
        (tmp_path / f).unlink()
    with caplog.at_level("WARNING", logger="inpaintbench"):
        get_dataset("folder", tmp_path)
    assert not caplog.records


def test_folder_converts_modes_and_bit_depths(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a_rgb.png")
    Image.fromarray(rgb[..., 0]).save(tmp_path / "b_gray.png")
    Image.fromarray(np.dstack([rgb, np.full((300, 400), 7, np.uint8)])).save(tmp_path / "c_rgba.png")
    Image.fromarray((rgb[..., 0].astype(np.uint16) * 257)).save(tmp_path / "d_16bit.png")
    (tmp_path / "sub").mkdir()
    Image.fromarray(rgb).convert("P").save(tmp_path / "sub" / "e_palette.png")
    # what a copy from a Mac and a Jupyter session leave: not images, and copies of the images
    (tmp_path / "._a_rgb.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    Image.fromarray(rgb).save(tmp_path / ".ipynb_checkpoints" / "a_rgb-checkpoint.png")
    ds = get_dataset("folder", tmp_path)
    assert ds.ids() == ["a_rgb.png", "b_gray.png", "c_rgba.png", "d_16bit.png", "sub/e_palette.png"]
    # only names under the root count: a dataset kept under ~/.cache/... is read whole
    inside = tmp_path / ".cache" / "photos"
    inside.mkdir(parents=True)
    Image.fromarray(rgb).save(inside / "x.png")
    assert get_dataset("folder", inside).ids() == ["x.png"]
    gray = decode_rgb(tmp_path / "b_gray.png")
    assert np.array_equal(gray[..., 0], gray[..., 2]) and np.array_equal(gray[..., 0], rgb[..., 0])
    assert np.array_equal(decode_rgb(tmp_path / "c_rgba.png"), rgb)  # alpha dropped
    assert np.array_equal(decode_rgb(tmp_path / "d_16bit.png")[..., 0], rgb[..., 0])  # 16-bit rounded to 8
    # 16-bit colour PNG and TIFF, which Pillow reads as 8-bit keeping the high byte (0x00ff -> 0, not 1)
    import cv2

    deep = np.random.default_rng(3).integers(0, 65536, (40, 50, 3), dtype=np.uint16)
    deep[0, 0] = (0x00FF, 0x80FF, 0xFF7F)
    expected = np.rint(deep / 257).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "f_rgb16.png"), deep[..., ::-1])
    cv2.imwrite(str(tmp_path / "g_rgba16.png"), np.dstack([deep[..., ::-1], np.full((40, 50), 9, np.uint16)]))
    cv2.imwrite(str(tmp_path / "h_rgb16.tif"), deep[..., ::-1])
    for name in ("f_rgb16.png", "g_rgba16.png", "h_rgb16.tif"):
        assert np.array_equal(decode_rgb(tmp_path / name), expected), name
        assert np.array_equal(decode_rgb(Path(name), data=(tmp_path / name).read_bytes()), expected)  # an archive member's bytes
    assert decode_rgb(tmp_path / "f_rgb16.png")[0, 0].tolist() == [1, 128, 255]
    for i in ds.ids():
        assert ds.load(i).shape == (256, 256, 3)


def test_a_floating_point_grey_image_is_read_on_its_scale(tmp_path):
    """A 32-bit float TIFF (written from numpy) on a 0-1 scale went through PIL's conversion, which
    cuts values to integers: all 0 and 1, scored as a black image without a word."""
    grey = np.random.default_rng(0).integers(0, 256, (40, 50)).astype(np.uint8)
    grey[0, :2] = 0, 255
    for name, values in (("unit.tif", grey / 255), ("byte.tif", grey.astype(np.float64))):
        Image.fromarray(values.astype(np.float32), mode="F").save(tmp_path / name)
        got = decode_rgb(tmp_path / name)
        assert got.shape == (40, 50, 3) and np.array_equal(got[..., 1], grey), name
    for name, values, said in (("wide.tif", grey * 10.0, "values from 0 to 2550, on neither a 0-1 nor a 0-255 scale"),
                               ("nan.tif", np.where(grey > 128, np.nan, 0.5), "NaN or infinite values")):
        Image.fromarray(values.astype(np.float32), mode="F").save(tmp_path / name)
        with pytest.raises(InputError, match=re.escape(f"{tmp_path / name}: a floating-point image ") + ".*" + re.escape(said)):
            decode_rgb(tmp_path / name)


def test_folders_follow_linked_folders_once_and_name_a_broken_link(tmp_path):
    """A dataset on a shared machine is often a folder of links to where the images live; Path.rglob
    (before Python 3.13) skipped linked folders without a word."""
    import os

    real, root = tmp_path / "store" / "set1", tmp_path / "root"
    real.mkdir(parents=True)
    root.mkdir()
    px = np.full((256, 256, 3), 60, np.uint8)
    Image.fromarray(px).save(real / "a.png")
    Image.fromarray(px).save(root / "b.png")
    os.symlink(real, root / "linked")
    os.symlink(real, root / "z_same_folder_again")  # listed once, under the first name in sorted order
    os.symlink(root, root / "loop")  # a link to its own parent ends
    assert get_dataset("folder", root).ids() == ["b.png", "linked/a.png"]
    os.symlink(tmp_path / "gone.png", root / "c.png")
    with pytest.raises(InputError, match="c.png: a link to .*gone.png, which is not there"):
        get_dataset("folder", root)
    os.remove(root / "c.png")
    # a folder the user may not read (a test running as root cannot make one: os.scandir refuses here)
    real_scandir = os.scandir

    def refusing(path="."):
        if os.path.realpath(path).endswith("set1"):  # reached through the links
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "scandir", refusing)
        with pytest.raises(InputError, match="linked: cannot list this folder .Permission denied"):
            get_dataset("folder", root)
    # a Latin-1 name from an old archive: one line naming it, not a UnicodeEncodeError from the records
    Image.fromarray(px).save(os.fsdecode(bytes(root) + b"/caf\xe9.png"))
    with pytest.raises(InputError, match=r"caf\\xe9.png'.*not UTF-8"):
        get_dataset("folder", root)


def test_bad_images_name_the_file(tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(InputError, match="broken.jpg: not a readable image"):
        decode_rgb(tmp_path / "broken.jpg")
    good = tmp_path / "trunc.png"
    Image.fromarray(np.zeros((300, 300, 3), np.uint8) + 9).save(good)
    good.write_bytes(good.read_bytes()[:200])
    with pytest.raises(InputError, match="trunc.png"):
        decode_rgb(good)
    small = np.zeros((100, 120, 3), np.uint8)
    with pytest.raises(InputError, match="smaller than the evaluation size"):
        fit_to_size(small, 256, "center-crop", "small.png")
    assert fit_to_size(small, 256, "resize-crop", "small.png").shape == (256, 256, 3)


def test_resize_crop_keeps_the_centre(tmp_path):
    img = np.zeros((512, 1024, 3), np.uint8)
    img[:, 256:768] = 200  # the central square
    out = fit_to_size(img, 256, "resize-crop")
    # a shifted crop would show the black sides; bicubic ringing touches only the outer 2 columns
    assert out.shape == (256, 256, 3) and out[:, 2:-2].min() == 200 and out[:, :2].min() > 150


def test_places2_easy_format_and_lamas_copy(tmp_path):
    """Places365's "easy format" (places365standard_easyformat.tar: the 256 px images in one folder
    per category, places365_standard/val/airfield/Places365_val_00000435.jpg) and LaMa's copy were
    "not a places2 root". Their ids are the file names, as in val_256/, so every copy gives an image
    the same masks."""
    flat, easy = tmp_path / "flat" / "val_256", tmp_path / "easy" / "places365_standard" / "val"
    flat.mkdir(parents=True)
    for i, cat in ((3, "zoo"), (1, "airfield"), (2, "apartment_building-outdoor")):
        (easy / cat).mkdir(parents=True, exist_ok=True)
        for d in (flat, easy / cat):
            Image.fromarray(np.full((256, 256, 3), 40 * i, np.uint8)).save(d / f"Places365_val_{i:08d}.jpg")
    want = get_dataset("places2", tmp_path / "flat").describe()
    for root in (tmp_path / "easy", easy.parent, easy):
        ds = get_dataset("places2", root)
        assert ds.ids() == ["Places365_val_00000001.jpg", "Places365_val_00000002.jpg", "Places365_val_00000003.jpg"]
        assert ds.describe()["ids_sha256"] == want["ids_sha256"] and ds.root == easy
        assert abs(int(ds.load("Places365_val_00000002.jpg")[128, 128, 0]) - 80) <= 2
    # LaMa's fetch_data unpacks val_large.tar flat into places_standard_dataset/original/val/; its val/
    # beside it holds the masked crops it evaluates on (PNG), which are no test images
    lama = tmp_path / "lama" / "places_standard_dataset"
    (lama / "original" / "val").mkdir(parents=True)
    (lama / "val").mkdir()
    Image.fromarray(np.zeros((256, 256, 3), np.uint8)).save(lama / "val" / "Places365_val_00000001_crop000.png")
    for f in flat.iterdir():
        (lama / "original" / "val" / f.name).write_bytes(f.read_bytes())
    for root in (tmp_path / "lama", lama, lama / "original" / "val"):
        ds = get_dataset("places2", root)
        assert ds.describe()["ids_sha256"] == want["ids_sha256"] and ds.root == lama / "original" / "val"
    (easy / "zoo" / "Places365_val_00000001.jpg").write_bytes((easy / "airfield" / "Places365_val_00000001.jpg").read_bytes())
    with pytest.raises(InputError, match=r"Places365_val_00000001.jpg is in two category folders \(airfield/, zoo/\)"):
        get_dataset("places2", tmp_path / "easy")
    with pytest.raises(InputError, match="or ROOT/places365_standard/val/CATEGORY/"):
        get_dataset("places2", tmp_path)


def test_official_layouts(tmp_path):
    px = np.full((256, 256, 3), 50, np.uint8)
    (tmp_path / "val_256").mkdir()
    for i in (2, 1):
        Image.fromarray(px).save(tmp_path / "val_256" / f"Places365_val_{i:08d}.jpg")
    ds = get_dataset("places2", tmp_path)
    assert ds.ids() == ["Places365_val_00000001.jpg", "Places365_val_00000002.jpg"]
    with pytest.raises(InputError, match="val_256/Places365_val_00000001.jpg"):
        get_dataset("places2", tmp_path / "nowhere")
    with pytest.raises(InputError, match="needs --data-root"):
        get_dataset("places2", None)
    # beside val_256/, val_large/ (full size) is the one a `--size` above 256 reads: val_256's would be upsampled
    (tmp_path / "val_large").mkdir()
    for i in (1, 2):
        Image.fromarray(np.full((480, 640, 3), 120, np.uint8)).save(tmp_path / "val_large" / f"Places365_val_{i:08d}.jpg")
    assert get_dataset("places2", tmp_path).load("Places365_val_00000001.jpg")[100, 100, 0] == 50
    at512 = get_dataset("places2", tmp_path, 512).load("Places365_val_00000001.jpg")
    assert at512.shape == (512, 512, 3) and abs(int(at512[100, 100, 0]) - 120) <= 2
    # the demo is embedded: a root given with it was ignored, and the run of the demo looked like one of the folder
    with pytest.raises(InputError, match="embedded and takes no --data-root .* use --dataset folder"):
        get_dataset("demo", tmp_path)
    celeb = tmp_path / "celeba" / "data256x256"
    celeb.mkdir(parents=True)
    for n in ("00001.jpg", "00002.jpg", "00003.jpg"):
        Image.fromarray(px).save(celeb / n)
    with pytest.raises(InputError, match="val_shuffled.flist"):
        get_dataset("celeba-hq", celeb.parent)
    (celeb.parent / "val_shuffled.flist").write_text("/data/00003.jpg\n/data/00001.jpg\n")
    assert get_dataset("celeba-hq", celeb.parent).ids() == ["00001.jpg", "00003.jpg"]
    paris = tmp_path / "paris" / "paris_eval_gt"
    paris.mkdir(parents=True)
    Image.fromarray(np.full((227, 227, 3), 9, np.uint8)).save(paris / "001_im.png")
    (paris / "._001_im.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    ds = get_dataset("paris", paris.parent)
    assert ds.ids() == ["001_im.png"]
    assert ds.load("001_im.png").shape == (256, 256, 3)  # upsampled from 227, as documented


def test_celeba_hq_reads_lamas_test_list_in_each_layout_a_copy_may_have(tmp_path):
    """LaMa's list names images 0.jpg ... 29999.jpg, its script's renaming of data256x256.zip's
    00001.jpg ... 30000.jpg. Over the zip as unpacked (the layout the error message described) the
    list's 0.jpg was missing, and had it not been, its 10000.jpg would have been the zip's 10000.jpg,
    another face; a root LaMa's script prepared (test images moved to visual_test_source_256/,
    val_shuffled.flist there a random validation split) was refused. Now every layout gives each of
    the list's names the same face, so the same masks."""
    import shutil

    def face(zip_index):  # a colour per image, as the zip numbers them
        return np.full((256, 256, 3), (zip_index * 7) % 256, np.uint8)

    zip_dir = tmp_path / "zip" / "data256x256"
    zip_dir.mkdir(parents=True)
    for i in (*range(1, 13), 10000, 10001, 10002):
        Image.fromarray(face(i)).save(zip_dir / f"{i:05d}.jpg")
    listed = ["10000.jpg", "0.jpg", "3.jpg"]  # LaMa's, shuffled as its file is
    (zip_dir.parent / "val_shuffled.flist").write_text("\n".join(listed) + "\n")
    renamed = tmp_path / "renamed" / "data256x256"  # the script's first step only
    renamed.mkdir(parents=True)
    for f in zip_dir.iterdir():
        shutil.copy(f, renamed / f"{int(f.stem) - 1}.jpg")
    shutil.copy(zip_dir.parent / "val_shuffled.flist", renamed.parent)
    prepared = tmp_path / "lama" / "visual_test_source_256"  # the whole script
    prepared.mkdir(parents=True)
    (prepared.parent / "data256x256").mkdir()  # emptied by the split
    (prepared.parent / "val_shuffled.flist").write_text("5.jpg\n7.jpg\n")  # its random validation split
    for n in listed:
        shutil.copy(renamed / n, prepared / n)
    layouts = [get_dataset("celeba-hq", root) for root in (zip_dir.parent, renamed.parent, prepared.parent)]
    for ds in layouts:
        assert ds.ids() == ["0.jpg", "10000.jpg", "3.jpg"]
        assert ds.describe()["ids_sha256"] == layouts[0].describe()["ids_sha256"]
        for image_id in ds.ids():  # LaMa's N.jpg is the zip's N+1
            assert np.abs(ds.load(image_id).astype(int) - face(int(image_id[:-4]) + 1)).max() <= 2, (ds.root, image_id)
    assert [ds.describe()["file_names"] for ds in layouts] == ["zip, read as the list's names + 1", "lama", "lama"]
    # a name of neither scheme in the list: missing, named, not a traceback
    (zip_dir.parent / "val_shuffled.flist").write_text("0.jpg\nface.jpg\n")
    with pytest.raises(InputError, match=r"1 listed image is missing, e.g. .*data256x256/face.jpg"):
        get_dataset("celeba-hq", zip_dir.parent)
    # a list in the zip's names over LaMa's renamed files: the other way round
    (renamed.parent / "val_shuffled.flist").write_text("00004.jpg\n10001.jpg\n")
    ds = get_dataset("celeba-hq", renamed.parent)
    assert ds.ids() == ["00004.jpg", "10001.jpg"] and ds.load("10001.jpg")[0, 0, 0] in range(10001 * 7 % 256 - 2, 10001 * 7 % 256 + 3)
    # both namings in one folder name two faces by one name: refused, not guessed
    shutil.copy(zip_dir / "00001.jpg", renamed / "00001.jpg")
    with pytest.raises(InputError, match="both data256x256.zip's names .* and LaMa's"):
        get_dataset("celeba-hq", renamed.parent)


def test_upsampling_is_said_once_per_image_and_a_few_images_by_name(tmp_path, caplog):
    # a run loads each image for its reference features and again per bucket: Paris StreetView's
    # 100 test images (227 px) printed 200 lines
    from inpaintbench.data.base import UPSAMPLED_NAMED
    for i in range(UPSAMPLED_NAMED + 3):
        Image.fromarray(np.full((227, 240, 3), i, np.uint8)).save(tmp_path / f"{i}.png")
    Image.fromarray(np.full((300, 300, 3), 7, np.uint8)).save(tmp_path / "big.png")
    ds = get_dataset("folder", tmp_path)
    with caplog.at_level("WARNING", logger="inpaintbench"):
        for _ in range(3):
            for image_id in ds.ids():
                assert ds.load(image_id).shape == (256, 256, 3)
    lines = [r.getMessage() for r in caplog.records]
    named = [m for m in lines if "240x227 is smaller than 256; upsampled" in m]
    assert len(named) == UPSAMPLED_NAMED and len(set(named)) == UPSAMPLED_NAMED
    assert len(lines) == UPSAMPLED_NAMED + 1 and "more images smaller than 256" in lines[-1]
    assert not any("big.png" in m for m in lines)


def test_a_run_export_or_report_into_the_datasets_own_folder_is_refused(tmp_path, monkeypatch):
    """`run --out photos --save-images` and `export-inputs --out photos` wrote their PNGs among the
    photos (and a run from inside the folder, by its default runs/folder/NAME): the next run over the
    folder listed them as images, a longer list that gives every image other masks."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.full((256, 256, 3), 90, np.uint8)).save(photos / "a.png")
    args = ["--dataset", "folder", "--data-root", str(photos), "--limit", "1", "--buckets", "10-20"]
    commands = (["run", "--method", "telea", "--no-deep-metrics", "--save-images", *args, "--out", str(photos)],
                ["run", "--method", "telea", "--no-deep-metrics", *args, "--out", str(photos / "runs" / "telea")],
                ["export-inputs", *args, "--out", str(photos / "exported")])
    for command in commands:
        r = CliRunner().invoke(app, command)
        assert r.exit_code == 2 and f"is inside the dataset's folder {photos}" in " ".join(r.output.split()), r.output
    monkeypatch.chdir(photos)
    r = CliRunner().invoke(app, ["run", "--method", "telea", "--no-deep-metrics", *args])
    assert r.exit_code == 2 and "--out runs/folder/telea is inside the dataset's folder" in " ".join(r.output.split()), r.output
    assert [p.name for p in photos.iterdir()] == ["a.png"] and get_dataset("folder", photos).ids() == ["a.png"]
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["export-inputs", *args, "--out", str(tmp_path / "exported")]).exit_code == 0
    # a report's folder holds its grids and plots: not among the photos either; a table alone may go there
    assert CliRunner().invoke(app, ["run", "--method", "telea", "--no-deep-metrics", *args, "--out", "r"]).exit_code == 0
    r = CliRunner().invoke(app, ["report", "r", "--out", str(photos / "report")])
    assert r.exit_code == 2 and "the report's grids and plots would be listed as images" in " ".join(r.output.split()), r.output
    assert CliRunner().invoke(app, ["report", "r", "--out", str(photos / "table1.md")]).exit_code == 0


def test_an_archive_given_for_a_folder_is_named_with_the_command_that_unpacks_it(tmp_path):
    """NVIDIA's masks come as a zip and Places2's val_256 as a tar: given as they were downloaded,
    each was "a file, not a folder", "cannot list this folder (Not a directory)", "not a places2
    root" or, to the trainer, a photo that does not decode."""
    import tarfile
    import zipfile

    from inpaintbench.masks.build import import_set
    from inpaintbench.masks.maskset import manifest_of
    from methods.predictions import Predictions
    from methods.training.photos import found_photos

    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "a.png")
    with zipfile.ZipFile(tmp_path / "masks.zip", "w") as z:
        z.write(tmp_path / "a.png", "irregular_mask/a.png")
    with tarfile.open(tmp_path / "val_256.tar.gz", "w:gz") as t:
        t.add(tmp_path / "a.png", "val_256/Places365_val_00000001.jpg")
    (tmp_path / "notes.txt").write_text("not an archive")
    zipped = f"a zip archive, not a folder{{}}: unpack it first (`unzip {tmp_path / 'masks.zip'} -d {tmp_path / 'masks'}`)"
    tarred = f"a tar archive, not a folder{{}}: unpack it first (`tar xf {tmp_path / 'val_256.tar.gz'}`)"
    calls = [
        (lambda: get_dataset("folder", root=tmp_path / "masks.zip"), zipped.format(" of images")),
        (lambda: get_dataset("places2", root=tmp_path / "val_256.tar.gz"), tarred.format("")),
        (lambda: manifest_of(tmp_path / "masks.zip"), zipped.format("")),
        (lambda: import_set(tmp_path / "masks.zip", tmp_path / "out", "hole-white"), zipped.format(" of masks")),
        (lambda: Predictions(predictions=str(tmp_path / "masks.zip")), zipped.format(" of outputs")),
        (lambda: found_photos([str(tmp_path / "val_256.tar.gz")]), tarred.format(" of photos")),
        (lambda: get_dataset("folder", root=tmp_path / "notes.txt"), "a file, not a folder of images"),
    ]
    for call, said in calls:
        with pytest.raises(InputError) as e:
            call()
        assert said in str(e.value), str(e.value)
    # a photo named one by one, whatever its bytes, is left to decode as a photo
    assert found_photos([str(tmp_path / "a.png")]) == [tmp_path / "a.png"]
    assert not (tmp_path / "out").exists()


def test_a_pointer_page_or_empty_file_in_a_files_place_says_what_it_is(tmp_path):
    """A dataset or weights repository cloned without its large files leaves a Git LFS (or git-annex)
    pointer in each file's place, a download link can answer with a web page, a copy can stop at 0
    bytes: each was "not an image format PIL knows" or torch's "invalid load key, 'v'"."""
    import os
    import shutil

    from inpaintbench.masks import DEFAULT_MASK_DIR, MaskSet, verify
    from inpaintbench.masks.build import import_set
    from inpaintbench.metrics.backbones import VGG16Pools
    from methods.rwconv.method import RegionWise
    from methods.training.trainer import load_checkpoint

    stand_ins = {
        "lfs": (b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"4d" * 32 + b"\nsize 88123\n",
                r"a Git LFS pointer, not the file it stands for: `git lfs pull` in its repository"),
        "annex": (b"/annex/objects/SHA256E-s88123--" + b"4d" * 32 + b".png\n",
                  r"a git-annex pointer, not the file it stands for: `git annex get`"),
        "page": (b"\n<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title>",
                 r"a web page \(HTML\), not the file: the download link answered with a page"),
        "empty": (b"", r"an empty file, 0 bytes: a copy or download stopped at its start"),
    }
    for name, (data, said) in stand_ins.items():
        (tmp_path / f"{name}.jpg").write_bytes(data)
        with pytest.raises(InputError, match=f"{name}.jpg: not a readable image \\({said}"):
            decode_rgb(tmp_path / f"{name}.jpg")
    lfs, said = stand_ins["lfs"]
    (tmp_path / "w.pt").write_bytes(lfs)
    with pytest.raises(InputError, match=f"w.pt: not a readable rwconv weights file: {said}"):
        RegionWise(weights=str(tmp_path / "w.pt"))
    with pytest.raises(InputError, match=f"w.pt: not torchvision VGG16 weights: {said}"):
        VGG16Pools(tmp_path / "w.pt")
    with pytest.raises(InputError, match=f"w.pt: not a readable checkpoint \\({said}"):
        load_checkpoint(tmp_path / "w.pt")
    # a mask set or masks to import, fetched without their files
    masks = tmp_path / "masks"
    shutil.copytree(DEFAULT_MASK_DIR, masks)
    (masks / "10-20" / "0003.png").write_bytes(lfs)
    assert [p for p in verify(masks) if "0003" in p] == [("10-20/0003.png: a Git LFS pointer, not the file it stands "
                                                         "for: `git lfs pull` in its repository fetches the files")]
    ms = MaskSet(masks)
    entry = next(e for e in ms.by_bucket["10-20"] if e.file == "10-20/0003.png")
    with pytest.raises(InputError, match=f"0003.png: {said}"):
        ms.load(entry, 256)
    src = tmp_path / "to_import"
    src.mkdir()
    shutil.copy(DEFAULT_MASK_DIR / "10-20" / "0004.png", src / "a.png")
    (src / "b.png").write_bytes(stand_ins["page"][0])
    with pytest.raises(InputError, match=f"b.png: not a readable image \\({stand_ins['page'][1]}"):
        import_set(src, tmp_path / "imported", "hole-white")
    # git-annex's own way: each file a link into .git/annex/objects, there once fetched
    photos = tmp_path / "photos"
    photos.mkdir()
    os.symlink("../.git/annex/objects/Xk/3v/SHA256E-s88123--4d.jpg/SHA256E-s88123--4d.jpg", photos / "a.jpg")
    with pytest.raises(InputError, match="a.jpg: a link to .*, which is not there; its content is not fetched: `git annex get`"):
        get_dataset("folder", photos)
