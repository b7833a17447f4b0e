"""The predictions-folder adapter: export inputs -> an outside method -> run -> same numbers."""
import csv
import json

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from inpaintbench.cli import app
from inpaintbench.errors import InputError
from inpaintbench.method import pair_key
from inpaintbench.networks import sha256_of
from inpaintbench.report import write_report
from inpaintbench.runner import RunConfig, read_records, run

BUCKETS = ["10-20", "40-50"]


def outside_telea(exported, dest):
    """A stand-in for any outside tool: reads only the exported files, writes <key>.png."""
    dest.mkdir()
    for row in csv.DictReader((exported / "pairs.csv").read_text().splitlines()):
        img = np.asarray(Image.open(exported / "inputs" / f"{row['key']}.png"))
        hole = np.asarray(Image.open(exported / "holes" / f"{row['key']}.png"))
        out = cv2.inpaint(np.ascontiguousarray(img), (hole > 127).astype(np.uint8), 3, cv2.INPAINT_TELEA)
        (dest / f"{row['key']}.png").parent.mkdir(parents=True, exist_ok=True)  # a key of a subfolder's image
        Image.fromarray(out).save(dest / f"{row['key']}.png")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp("exp")
    r = CliRunner().invoke(app, ["export-inputs", "--out", str(d / "inputs"), "--limit", "2",
                                 *sum((["--buckets", b] for b in BUCKETS), [])])
    assert r.exit_code == 0, r.output
    outside_telea(d / "inputs", d / "preds")
    return d


def test_round_trip_gives_the_same_numbers_as_running_the_method(exported, tmp_path):
    rows = list(csv.DictReader((exported / "inputs" / "pairs.csv").read_text().splitlines()))
    assert len(rows) == 2 * len(BUCKETS)
    # the exported input is the ground truth with holes zeroed; the hole file marks 255 = missing
    hole = np.asarray(Image.open(exported / "inputs" / "holes" / f"{rows[0]['key']}.png")) > 127
    assert abs(hole.mean() - float(rows[0]["hole_ratio"])) < 1e-6
    assert (np.asarray(Image.open(exported / "inputs" / "inputs" / f"{rows[0]['key']}.png"))[hole] == 0).all()

    common = dict(dataset="demo", limit=2, buckets=BUCKETS, deep_metrics=False)
    run(RunConfig(method="telea", **common), tmp_path / "direct", log=lambda s: None)
    run(RunConfig(method="predictions", method_options={"predictions": str(exported / "preds")}, **common),
        tmp_path / "via_files", log=lambda s: None)
    key = lambda r: (r["image_id"], r["mask_file"])
    direct = sorted(read_records(tmp_path / "direct" / "records.jsonl"), key=key)
    via = sorted(read_records(tmp_path / "via_files" / "records.jsonl"), key=key)
    assert [key(r) for r in direct] == [key(r) for r in via]
    for a, b in zip(direct, via):
        for m in ("l1", "l2", "psnr", "ssim"):
            assert a[m] == b[m], (m, a, b)
    assert {pair_key(r["image_id"], r["mask_file"]) for r in via} == {r["key"] for r in rows}
    manifest = json.loads((tmp_path / "via_files" / "manifest.json").read_text())
    assert manifest["method"]["kind"] == "precomputed" and len(manifest["method"]["folder_sha256"]) == 64


def _run_preds(folder, tmp_path, **opts):
    return run(RunConfig(method="predictions", dataset="demo", limit=2, buckets=BUCKETS, deep_metrics=False,
                         method_options={"predictions": str(folder), **opts}), tmp_path / "run", log=lambda s: None)


def test_missing_extra_missized_and_wrong_mode_files_are_named(exported, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(exported / "preds", bad)
    files = sorted(bad.glob("*.png"))
    files[0].unlink()
    Image.new("RGB", (64, 64)).save(files[1])
    Image.open(files[2]).convert("L").save(files[2])
    Image.new("RGB", (256, 256)).save(bad / "not_a_pair.png")
    (bad / f"._{files[3].name}").write_bytes(b"\x00\x05\x16\x07 AppleDouble")  # a Mac's copy: hidden, not counted
    # 16-bit RGB: Pillow calls it mode RGB and keeps each value's high byte, half a level low on average
    cv2.imwrite(str(files[3]), cv2.imread(str(files[3])).astype(np.uint16) * 257 + 128)
    assert Image.open(files[3]).mode == "RGB"
    with pytest.raises(InputError) as e:
        _run_preds(bad, tmp_path)
    msg = str(e.value)
    assert "also 1 extra file matching" in msg and "._" not in msg
    assert files[0].stem in msg and "1 of 4 pairs have no prediction" in msg
    assert f"{files[1].name}: 64x64, expected 256x256" in msg
    assert f"{files[2].name}: mode L, expected 8-bit RGB" in msg
    assert f"{files[3].name}: 16-bit colour, expected 8-bit RGB" in msg
    assert "not_a_pair" in msg and "extra" in msg


def test_a_folder_above_the_predictions_is_pointed_to_its_subfolder(exported, tmp_path):
    """A run's folder given as --predictions (its --save-images wrote them to RUN/images/), or an outside
    tool's output folder with its own subfolder: every pair was missing and every file extra, with the
    hint on how to name files, which were named right."""
    import shutil

    shutil.copytree(exported / "preds", tmp_path / "run_dir" / "images")
    with pytest.raises(InputError) as e:
        _run_preds(tmp_path / "run_dir", tmp_path)
    said = str(e.value)
    assert f"(the predictions of 4 pairs are in its subfolder images/: give --predictions {tmp_path / 'run_dir' / 'images'})" in said
    assert "names must be" not in said
    out = _run_preds(tmp_path / "run_dir" / "images", tmp_path)
    assert len((out / "records.jsonl").read_text().splitlines()) == 4


def test_predictions_for_an_export_with_limit_and_buckets_are_answered_with_those_options(exported, tmp_path):
    """An outside method's outputs for `export-inputs --limit 2 --buckets 10-20 --buckets 40-50`, run
    without them: "188 of 192 pairs have no prediction" and five of them, the options left to guess."""
    for options, give in (({}, "give --limit 2 --buckets 10-20 --buckets 40-50 to score them"),
                          ({"limit": 3, "buckets": BUCKETS}, "give --limit 2 to score them"),
                          ({"limit": 2}, "give --buckets 10-20 --buckets 40-50 to score them")):
        with pytest.raises(InputError) as e:
            run(RunConfig(method="predictions", dataset="demo", deep_metrics=False, **options,
                          method_options={"predictions": str(exported / "preds")}), tmp_path / "run", log=lambda s: None)
        assert "(the folder holds every pair of the first 2 images in buckets 10-20, 40-50, as an export made with " \
               f"those options: {give})" in str(e.value)
    # scattered pairs (one file gone) are no export's: no options are made up for them
    import shutil

    shutil.copytree(exported / "preds", tmp_path / "some")
    min((tmp_path / "some").glob("*.png")).unlink()
    with pytest.raises(InputError) as e:
        _run_preds(tmp_path / "some", tmp_path)
    assert "have no prediction" in str(e.value) and "the folder holds" not in str(e.value)


def test_outputs_of_images_in_a_subfolder_written_flat_are_named_with_where_they_go(tmp_path):
    """An outside tool that writes every output into one folder drops the dataset's subfolders:
    the pairs were listed as missing and the files as extra, with nothing said of the subfolder."""
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    rng = np.random.default_rng(2)
    for name in ("a.png", "sub/b.png"):
        Image.fromarray(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)).save(photos / name)
    args = ["--dataset", "folder", "--data-root", str(photos), "--buckets", "10-20"]
    assert CliRunner().invoke(app, ["export-inputs", *args, "--out", str(tmp_path / "exp")]).exit_code == 0
    assert "(a key with a '/', an image in a subfolder of the dataset, in that subfolder" in " ".join(
        (tmp_path / "exp" / "README.txt").read_text().split())
    outside_telea(tmp_path / "exp", tmp_path / "nested")
    flat = tmp_path / "flat"
    flat.mkdir()
    for f in (tmp_path / "nested").rglob("*.png"):
        f.rename(flat / f.name)
    r = CliRunner().invoke(app, ["run", "--method", "predictions", "--predictions", str(flat), *args, "--no-deep-metrics",
                                 "--out", str(tmp_path / "scored")])
    said = " ".join(r.output.split())
    assert r.exit_code == 2 and "1 of 2 pairs have no prediction: sub/b__10-20_" in said, r.output
    assert "are files in that subfolder of --predictions, as under the export's inputs/: sub/NAME.png, not NAME.png" in said


def test_opaque_rgba_files_as_matplotlib_saves_them_are_scored_and_see_through_ones_refused(exported, tmp_path):
    """plt.imsave writes RGBA PNGs (alpha 255 everywhere) even from an RGB array: a folder saved so
    was refused whole as "mode RGBA". Opaque, it is the same picture: same numbers as the RGB files.
    A pixel that is not opaque shows whatever it is put over, so that file is still refused."""
    import matplotlib.pyplot as plt

    rgba = tmp_path / "rgba"
    rgba.mkdir()
    for f in sorted((exported / "preds").glob("*.png")):
        plt.imsave(rgba / f.name, np.asarray(Image.open(f)))
    assert {Image.open(f).mode for f in rgba.glob("*.png")} == {"RGBA"}
    common = dict(dataset="demo", limit=2, buckets=BUCKETS, deep_metrics=False)
    for name, folder in (("rgb", exported / "preds"), ("rgba_run", rgba)):
        run(RunConfig(method="predictions", method_options={"predictions": str(folder)}, **common),
            tmp_path / name, log=lambda s: None)
    key = lambda r: (r["image_id"], r["mask_file"])
    a, b = (sorted(read_records(tmp_path / n / "records.jsonl"), key=key) for n in ("rgb", "rgba_run"))
    assert [(key(r), r["psnr"], r["ssim"]) for r in a] == [(key(r), r["psnr"], r["ssim"]) for r in b]

    f = sorted(rgba.glob("*.png"))[1]
    px = np.asarray(Image.open(f)).copy()
    px[:2, :3, 3] = 128
    Image.fromarray(px).save(f)
    with pytest.raises(InputError) as e:
        _run_preds(rgba, tmp_path)
    assert f"{f.name}: RGBA with 6 pixels not opaque, expected 8-bit RGB" in str(e.value)
    assert "1 unusable" in str(e.value)


def test_jpeg_predictions_are_scored_with_a_note_that_they_are_lossy(exported, tmp_path):
    """JPEG outputs were scored without a word, their compression error counted as the fill's, beside
    methods scored from their exact outputs; the run now says so. PNGs get no such note."""
    jpeg = tmp_path / "jpeg"
    jpeg.mkdir()
    for f in sorted((exported / "preds").glob("*.png")):
        Image.open(f).save(jpeg / f"{f.stem}.jpg", quality=95)
    common = dict(dataset="demo", limit=2, buckets=BUCKETS, deep_metrics=False)
    logs = {}
    for name, folder in (("png", exported / "preds"), ("jpg", jpeg)):
        logs[name] = []
        run(RunConfig(method="predictions", method_options={"predictions": str(folder)}, **common), tmp_path / name,
            log=logs[name].append)
    n = len(list(jpeg.glob("*.jpg")))
    assert any(s.startswith(f"note: {n} predictions saved as JPEG (") and "lossy" in s for s in logs["jpg"]), logs["jpg"]
    assert not any("JPEG" in s for s in logs["png"])


def test_partial_runs_are_allowed_only_when_asked_and_then_marked(exported, tmp_path):
    import shutil

    part = tmp_path / "part"
    shutil.copytree(exported / "preds", part)
    gone = sorted(part.glob("*.png"))[0]
    gone.unlink()
    with pytest.raises(InputError, match="1 of 4 pairs have no prediction"):
        _run_preds(part, tmp_path)
    out = _run_preds(part, tmp_path, allow_partial=True)
    assert len(read_records(out / "records.jsonl")) == 3
    assert json.loads((out / "manifest.json").read_text())["skipped_pairs"] == [gone.stem]
    from inpaintbench.report import write_report

    write_report([out], tmp_path / "rep", formats=("md", "html"), log=lambda s: None)
    for page in ("table1.md", "index.html"):
        text = (tmp_path / "rep" / page).read_text()
        assert "predictions is PARTIAL (1 pair without output not scored)" in text and "UNFINISHED" not in text, page
    # Places2's 219,000 pairs with most skipped: the page lists some, the manifest (the record) every one
    from inpaintbench import html as page_html

    many = {**json.loads((out / "manifest.json").read_text()), "skipped_pairs": [f"Places365_val_{i:08d}__10-20_0001" for i in range(100_000)]}
    shown = page_html._manifest_html(many)
    assert len(shown) < 20_000 and "Places365_val_00000019__" in shown and "Places365_val_00000020__" not in shown
    assert "100000 in all: manifest.json in the run&#x27;s folder lists every one" in shown


def test_wrong_names_get_one_line_with_the_naming_scheme(tmp_path):
    d = tmp_path / "wrong"
    d.mkdir()
    for i in range(3):
        Image.new("RGB", (256, 256)).save(d / f"output_{i}.png")
    r = CliRunner().invoke(app, ["run", "--method", "predictions", "--predictions", str(d), "--limit", "1",
                                 "--no-deep-metrics", "--out", str(tmp_path / "r")])
    assert r.exit_code == 2
    text = " ".join(r.output.split())  # rich wraps long lines
    assert "6 of 6 pairs have no prediction" in text and "<image id>__<bucket>_<mask stem>.png" in text
    r = CliRunner().invoke(app, ["run", "--method", "predictions", "--limit", "1", "--out", str(tmp_path / "r2")])
    assert r.exit_code == 2 and "needs --predictions DIR" in " ".join(r.output.split())


def test_export_into_an_earlier_export_of_other_pairs_is_refused(tmp_path):
    """Stale inputs left beside new ones would be run and scored as extra predictions; the same
    or a larger export into the folder is fine."""
    def export(*args):
        return CliRunner().invoke(app, ["export-inputs", "--out", str(tmp_path / "x"), *args])

    assert export("--limit", "1", "--buckets", "10-20").exit_code == 0
    r = export("--limit", "2", "--buckets", "40-50")
    assert r.exit_code == 2 and "holds an earlier export with 1 pair this one does not write" in " ".join(r.output.split())
    assert len(list((tmp_path / "x" / "inputs").glob("*.png"))) == 1  # nothing written
    assert export("--limit", "2", "--buckets", "10-20").exit_code == 0
    assert len(list((tmp_path / "x" / "inputs").glob("*.png"))) == 2


def test_an_earlier_export_of_images_in_a_subfolder_is_seen_too(tmp_path):
    """The earlier export's files were looked for at the top of inputs/ and holes/ only: the pairs of
    a dataset's subfolder images (inputs/sub/KEY.png) were left beside a new export of other pairs."""
    photos = tmp_path / "photos" / "sub"
    photos.mkdir(parents=True)
    Image.fromarray((np.random.default_rng(0).random((256, 256, 3)) * 255).astype(np.uint8)).save(photos / "a.png")

    def export(bucket):
        return CliRunner().invoke(app, ["export-inputs", "--dataset", "folder", "--data-root", str(tmp_path / "photos"),
                                        "--buckets", bucket, "--out", str(tmp_path / "x")])

    assert export("10-20").exit_code == 0
    r = export("20-30")
    assert r.exit_code == 2 and "holds an earlier export with 1 pair this one does not write (e.g. sub/a__10-20_" \
        in " ".join(r.output.split()), r.output
    assert len(list((tmp_path / "x" / "inputs").rglob("*.png"))) == 1 and export("10-20").exit_code == 0


def test_an_export_that_fills_the_disk_says_the_same_command_writes_it_whole(tmp_path, monkeypatch):
    """It said "error: No space left on device" alone, and nothing of the partial folder."""
    import errno

    save = Image.Image.save

    def full_disk(im, path, *a, **k):
        if len(list((tmp_path / "x" / "holes").glob("*.png"))) >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return save(im, path, *a, **k)

    monkeypatch.setattr(Image.Image, "save", full_disk)
    args = ["export-inputs", "--out", str(tmp_path / "x"), "--limit", "2", "--buckets", "10-20", "--buckets", "20-30"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and (f"error: No space left on device: {tmp_path / 'x'} holds part of this export (pairs.csv is "
                                 f"written last); the same command again writes it whole, once there is space") \
        in " ".join(r.output.split()), r.output
    assert not (tmp_path / "x" / "pairs.csv").exists()
    monkeypatch.setattr(Image.Image, "save", save)
    assert CliRunner().invoke(app, args).exit_code == 0 and len(list((tmp_path / "x" / "holes").glob("*.png"))) == 4


def test_two_images_that_name_one_pair_are_refused_where_keys_name_files(tmp_path):
    """a.png and a.jpg drawing the same mask (here a set of one mask per bucket) share the key
    a__10-20_0000: export wrote one input file for both pairs and predictions read one output for
    both. Refused there and for --save-images; a plain run, which names no files, still runs."""
    from inpaintbench.masks.build import generate_set

    generate_set(tmp_path / "masks", per_bucket=1)
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.png", "a.jpg"):
        Image.fromarray((rng.random((256, 256, 3)) * 255).astype(np.uint8)).save(photos / name)
    common = ["--dataset", "folder", "--data-root", str(photos), "--masks", str(tmp_path / "masks"), "--buckets", "10-20"]
    r = CliRunner().invoke(app, ["export-inputs", *common, "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "images a.jpg and a.png both name the pair a__10-20_0000" in " ".join(r.output.split()), r.output
    assert not (tmp_path / "x" / "inputs").exists()
    (tmp_path / "preds").mkdir()
    Image.fromarray((rng.random((256, 256, 3)) * 255).astype(np.uint8)).save(tmp_path / "preds" / "a__10-20_0000.png")
    for extra in (["--method", "telea", "--save-images"], ["--method", "predictions", "--predictions", str(tmp_path / "preds")]):
        r = CliRunner().invoke(app, ["run", *common, *extra, "--no-deep-metrics", "--out", str(tmp_path / "r")])
        assert r.exit_code == 2 and "both name the pair" in " ".join(r.output.split()), r.output
        assert not (tmp_path / "r").exists()  # the refused run left an empty folder
    r = CliRunner().invoke(app, ["run", *common, "--method", "telea", "--no-deep-metrics", "--out", str(tmp_path / "plain")])
    assert r.exit_code == 0 and len(read_records(tmp_path / "plain" / "records.jsonl")) == 2


def test_grids_show_the_scored_predictions_or_say_why_not(exported, tmp_path):
    """The report's image grids read the outside outputs again. They printed the run's 'files match
    no pair' note for every pair outside the grid (all but a few), and drew whatever the folder held
    by then: a folder changed after the run was shown as if it had been scored."""
    import shutil

    preds = tmp_path / "preds"
    shutil.copytree(exported / "preds", preds)
    Image.new("RGB", (256, 256)).save(preds / "not_a_pair.png")
    said = []
    run(RunConfig(method="predictions", dataset="demo", limit=2, buckets=BUCKETS, deep_metrics=False,
                  method_options={"predictions": str(preds)}), tmp_path / "run", log=said.append)
    assert any(s.startswith("note: 1 file in") and "not_a_pair" in s for s in said), said

    def report(out):
        r = CliRunner().invoke(app, ["report", str(tmp_path / "run"), "--out", str(tmp_path / out)])
        assert r.exit_code == 0, r.output
        return " ".join(r.output.split())

    text = report("rep")
    assert "no pair of this run" not in text and (tmp_path / "rep" / "grids" / "random.png").is_file(), text
    # each pair's file is checked by the hash the run recorded, not the whole folder's: a file no
    # pair uses may change (the folder's hash read every file, 33 GB at Places2's scale)
    recs = read_records(tmp_path / "run" / "records.jsonl")
    assert all(r["output_sha256"] == sha256_of(preds / f"{pair_key(r['image_id'], r['mask_file'])}.png") for r in recs)
    Image.new("RGB", (256, 256), "white").save(preds / "not_a_pair.png")
    assert "not drawn" not in report("rep1")
    from inpaintbench.grids import choose_pairs
    from inpaintbench.report import load_runs

    shown = choose_pairs(load_runs([tmp_path / "run"])[0], 1, "random").iloc[0]
    Image.new("RGB", (256, 256)).save(preds / f"{pair_key(shown.image_id, shown.mask_file)}.png")
    text = report("rep2")
    assert "not drawn" in text and f"file for pair {pair_key(shown.image_id, shown.mask_file)} had sha256" in text, text
    assert not (tmp_path / "rep2" / "grids" / "random.png").exists()
    # a run made before the hashes were recorded is checked on the folder's, as it was
    (tmp_path / "run" / "records.jsonl").write_text("".join(
        json.dumps({k: v for k, v in r.items() if k != "output_sha256"}) + "\n" for r in recs))
    text = report("rep3")
    assert "not drawn" in text and "the run's predictions folder had sha256" in text, text


def test_the_export_readme_command_runs_from_another_folder_and_a_path_with_spaces(tmp_path, monkeypatch):
    """The README's scoring command named --data-root and --masks as typed (relative, unquoted): pasted
    where the outputs came back, or with a space in the path, it scored nothing."""
    import shlex

    from inpaintbench.masks.build import generate_set

    home = tmp_path / "my work"
    generate_set(home / "my masks", per_bucket=2)
    (home / "my photos").mkdir()
    rng = np.random.default_rng(1)
    for name in ("a.png", "b.png"):
        Image.fromarray((rng.random((256, 256, 3)) * 255).astype(np.uint8)).save(home / "my photos" / name)
    monkeypatch.chdir(home)
    r = CliRunner().invoke(app, ["export-inputs", "--dataset", "folder", "--data-root", "my photos", "--masks", "my masks",
                                 "--buckets", "10-20", "--out", "exp"])
    assert r.exit_code == 0, r.output
    outside_telea(home / "exp", tmp_path / "preds")
    line = next(s for s in (home / "exp" / "README.txt").read_text().splitlines() if "inpaintbench run" in s)
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(line.replace("YOUR_FOLDER", "preds"))[1:] + ["--no-deep-metrics", "--out", "scored"]
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0, (line, r.output)
    assert len(read_records(tmp_path / "scored" / "records.jsonl")) == 2


def test_a_run_at_another_size_tells_the_folder_its_size_through_the_python_api(tmp_path):
    """The side predictions' files must have was put in its options by the `run` command alone: a
    RunConfig(size=96) from Python refused every 96x96 file as 'expected 256x256', and the report's
    grids, which rebuild the method from the run's options, refused them as well."""
    from inpaintbench.masks.build import generate_set

    photos, masks = tmp_path / "photos", tmp_path / "masks96"
    photos.mkdir()
    rng = np.random.default_rng(3)
    for name in ("a.png", "b.png"):
        Image.fromarray(rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)).save(photos / name)
    generate_set(masks, per_bucket=1, size=96)
    common = dict(dataset="folder", data_root=str(photos), masks=str(masks), size=96, buckets=["30-40"],
                  resize="exact", deep_metrics=False)
    r = CliRunner().invoke(app, ["export-inputs", "--dataset", "folder", "--data-root", str(photos), "--masks", str(masks),
                                 "--size", "96", "--buckets", "30-40", "--resize", "exact", "--out", str(tmp_path / "exp")])
    assert r.exit_code == 0, r.output
    outside_telea(tmp_path / "exp", tmp_path / "preds")
    run(RunConfig(method="telea", **common), tmp_path / "telea", log=lambda s: None)
    run(RunConfig(method="predictions", method_options={"predictions": str(tmp_path / "preds")}, **common),
        tmp_path / "files", log=lambda s: None)
    key = lambda rec: (rec["image_id"], rec["mask_file"])
    direct, via = (sorted(read_records(tmp_path / n / "records.jsonl"), key=key) for n in ("telea", "files"))
    assert len(via) == 2 and [(key(a), a["psnr"]) for a in direct] == [(key(b), b["psnr"]) for b in via]
    r = CliRunner().invoke(app, ["report", str(tmp_path / "files"), "--out", str(tmp_path / "rep")])
    assert r.exit_code == 0 and "not drawn" not in r.output, r.output
    assert (tmp_path / "rep" / "grids" / "random.png").is_file()
    # a size in the options that is not the run's is a contradiction, not a choice between them
    with pytest.raises(InputError, match="size 128.*--size 96|--size 96.*128"):
        run(RunConfig(method="predictions", method_options={"predictions": str(tmp_path / "preds"), "size": 128},
                      **common), tmp_path / "clash", log=lambda s: None)


def test_predictions_whose_known_pixels_are_not_their_inputs_are_warned_of(exported, tmp_path, caplog):
    """Only a prediction's hole pixels are scored: one saved in BGR order (cv2.imwrite of an RGB
    array) or of another image was scored as a fill without a word. A raw output whose known pixels
    are off by a few grey levels (a method that does not composite) is no such case."""
    import logging
    import shutil

    preds = tmp_path / "preds"
    shutil.copytree(exported / "preds", preds)
    keys = sorted(f.stem for f in preds.glob("*.png"))
    other = next(k for k in keys if k.split("__")[0] != keys[0].split("__")[0])
    rgb = np.asarray(Image.open(preds / f"{keys[0]}.png"))
    Image.fromarray(np.ascontiguousarray(rgb[..., ::-1])).save(preds / f"{keys[0]}.png")
    shutil.copy(exported / "preds" / f"{other}.png", preds / f"{keys[1]}.png")
    raw = np.asarray(Image.open(preds / f"{keys[2]}.png")).astype(np.int16)
    noise = np.random.default_rng(0).integers(-3, 4, raw.shape)
    Image.fromarray(np.clip(raw + noise, 0, 255).astype(np.uint8)).save(preds / f"{keys[2]}.png")
    common = dict(dataset="demo", limit=2, buckets=BUCKETS, deep_metrics=False)
    warned = {}
    for name, folder in (("good", exported / "preds"), ("bad", preds)):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="inpaintbench"):
            run(RunConfig(method="predictions", method_options={"predictions": str(folder)}, **common), tmp_path / name,
                log=lambda s: None)
        warned[name] = [r.getMessage() for r in caplog.records if "known pixels differ" in r.getMessage()]
    assert warned["good"] == []
    bad = warned["bad"]
    assert len(bad) == 2, bad
    said = {k: next((m for m in bad if m.startswith(f"{preds / k}.png: the prediction's known pixels differ from the "
                                                     f"input's (")), "") for k in keys[:2]}
    assert "BGR order" in said[keys[0]] and "another image, crop, flip or colour order?" in said[keys[1]], bad


def test_a_method_scored_from_files_is_tabled_beside_a_demo_folder_given_whole(exported, tmp_path):
    """`demo --method predictions` stopped at "needs --predictions DIR", an option the demo has not;
    and a demo's folder holds its report's files beside its runs, so `report runs/demo/* MINE` was
    refused at the first file, and `report runs/demo MINE` as "not a run directory"."""
    r = CliRunner().invoke(app, ["demo", "--method", "predictions", "--limit", "1", "--out", str(tmp_path / "d")])
    said = " ".join(r.output.split())
    assert r.exit_code == 2 and "`inpaintbench run --method predictions --dataset demo --out RUN_DIR`" in said, r.output
    assert not (tmp_path / "d").exists()
    common = {"dataset": "demo", "limit": 2, "buckets": BUCKETS, "deep_metrics": False}
    for method in ("navier-stokes", "telea"):
        run(RunConfig(method=method, **common), tmp_path / "demo" / method, log=lambda s: None)
    (tmp_path / "demo" / "table1.md").write_text("a demo's table\n")
    run(RunConfig(method="predictions", method_options={"predictions": str(exported / "preds")}, **common),
        tmp_path / "mine", log=lambda s: None)
    r = CliRunner().invoke(app, ["report", str(tmp_path / "demo"), str(tmp_path / "mine"), "-f", "csv"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0].split(",")[2:] == ["telea", "navier-stokes", "predictions"]  # the demo's order
    r = CliRunner().invoke(app, ["report", *map(str, sorted((tmp_path / "demo").iterdir())), str(tmp_path / "mine")])
    assert r.exit_code == 2 and f"{tmp_path / 'demo'} holds runs beside its report's files: give {tmp_path / 'demo'} for all its runs" \
        in " ".join(r.output.split()), r.output
    # from Python as from the command: write_report had refused the folder as "not a run directory"
    files = write_report([tmp_path / "demo", tmp_path / "mine"], tmp_path / "rep", formats=("csv",))
    assert tmp_path / "rep" / "table1.csv" in files
    assert (tmp_path / "rep" / "table1.csv").read_text().splitlines()[0].split(",")[2:] == ["telea", "navier-stokes", "predictions"]


def test_a_file_or_folder_where_the_other_is_wanted_is_named_as_such(tmp_path):
    """`--predictions out.png` was "no such folder" and `--weights SOMEFOLDER` "not found": both are there."""
    (tmp_path / "out.png").write_bytes(b"")
    (tmp_path / "somefolder").mkdir()
    for args, said in ((["--method", "predictions", "--predictions", str(tmp_path / "out.png")],
                        f"--predictions {tmp_path / 'out.png'}: a file, not a folder of outputs"),
                       (["--method", "predictions", "--predictions", str(tmp_path / "nope")],
                        f"--predictions {tmp_path / 'nope'}: no such folder of outputs"),
                       (["--method", "rwconv", "--weights", str(tmp_path / "somefolder")],
                        f"rwconv weights {tmp_path / 'somefolder'} is a folder; expected a file from")):
        r = CliRunner().invoke(app, ["run", *args, "--limit", "1", "--out", str(tmp_path / "r")])
        assert r.exit_code == 2 and said in " ".join(r.output.split()), r.output


def test_the_export_folder_or_its_inputs_given_as_predictions_are_named_as_such(exported, tmp_path, caplog):
    """`--predictions EXPORT` was pointed to `EXPORT/holes` (the holes' files have the pairs' names),
    and `--predictions EXPORT/inputs` was scored: the masked inputs themselves, every fill black."""
    import logging
    import shutil

    export = exported / "inputs"  # the fixture's export folder
    with caplog.at_level(logging.WARNING, logger="inpaintbench"), pytest.raises(InputError) as e:
        _run_preds(export, tmp_path)
    said = str(e.value)
    # its README.txt, export.json and pairs.csv were "3 files skipped: not of the image types read here"
    assert not [r for r in caplog.records if "skipped" in r.getMessage()], caplog.records
    assert "subfolder holes/" not in said and "give --predictions" not in said, said
    assert "it is the folder `inpaintbench export-inputs` wrote: the masked inputs/ and holes/ a method reads" in said, said
    with pytest.raises(InputError) as e:
        _run_preds(export / "inputs", tmp_path)
    assert str(e.value) == (f"--predictions {export / 'inputs'}: these are the masked inputs `inpaintbench export-inputs` "
                            f"wrote (holes zeroed), not a method's outputs: give the folder your method wrote its "
                            f"outputs into"), str(e.value)
    assert not (tmp_path / "run").exists()  # refused before the run's folder is made
    # a method's outputs in the export's folder are pointed to, and outputs written over the inputs are scored
    copy = tmp_path / "export"
    shutil.copytree(export, copy)
    shutil.copytree(exported / "preds", copy / "outputs")
    with pytest.raises(InputError, match=f"subfolder outputs/: give --predictions {copy / 'outputs'}"):
        _run_preds(copy, tmp_path)
    shutil.rmtree(copy / "inputs")
    shutil.copytree(exported / "preds", copy / "inputs")
    assert len((_run_preds(copy / "inputs", tmp_path) / "records.jsonl").read_text().splitlines()) == 4
    # one masked input among outputs elsewhere is warned of as it is scored
    preds = tmp_path / "preds"
    shutil.copytree(exported / "preds", preds)
    key = sorted(f.stem for f in preds.glob("*.png"))[1]
    shutil.copy(export / "inputs" / f"{key}.png", preds / f"{key}.png")
    with caplog.at_level(logging.WARNING, logger="inpaintbench"):
        run(RunConfig(method="predictions", dataset="demo", limit=2, buckets=BUCKETS, deep_metrics=False,
                      method_options={"predictions": str(preds)}), tmp_path / "one", log=lambda s: None)
    black = [r.getMessage() for r in caplog.records if "hole pixels are all 0" in r.getMessage()]
    assert black == [(f"{preds / key}.png: the prediction's hole pixels are all 0, as in the masked input "
                      f"`inpaintbench export-inputs` writes: the input, not a method's output? (scored as a black fill)")], black
