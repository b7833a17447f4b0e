from methods.training.model_card import arithmetic, photo_sources, wall_hours
from methods.training.photos import DEFAULT_TRAIN_PHOTOS, PHOTO_SETS


def test_wall_time_adds_the_pieces_of_a_resumed_run():
    # two resumes: wall_s restarts at 0 each time; pieces end at 30 s, 15 s and 7 s
    rows = [{"wall_s": w, "step": s} for w, s in ((10, 10), (20, 20), (30, 30), (5, 40), (15, 50), (7, 60))]
    hours, pieces, redone = wall_hours(rows)
    assert pieces == 3 and not redone
    assert abs(hours * 3600 - 52) < 1e-9
    assert wall_hours([]) == (0.0, 0, False)
    # the third piece starts again at step 50: the second was killed after its step-40 checkpoint
    rows[-1]["step"] = 50
    assert wall_hours(rows)[2]


def test_arithmetic_row_reads_precision_and_older_configs():
    assert arithmetic({"precision": "bf16", "device": "cpu"}).startswith("bf16 autocast")
    assert arithmetic({"precision": "fp32", "device": "cuda"}) == "fp32"
    # configs written before --precision existed: bf16 autocast ran on CUDA only
    assert arithmetic({"amp": True, "device": "cuda"}).startswith("bf16 autocast")
    assert arithmetic({"amp": True, "device": "cpu"}) == "fp32"
    assert arithmetic({"amp": False, "device": "cuda"}) == "fp32"


def test_training_data_row_names_the_packages_the_photos_came_from():
    plain = photo_sources(DEFAULT_TRAIN_PHOTOS)
    assert plain.startswith("18 photographs from Debian `plasma-workspace-wallpapers` and `mate-backgrounds`: BytheWater,")
    assert plain.endswith("Wood. None is in the demo evaluation set.")
    more = photo_sources(DEFAULT_TRAIN_PHOTOS + PHOTO_SETS["lomiri-wallpapers-16.04"])
    assert more.startswith("32 photographs from Debian `plasma-workspace-wallpapers`, `mate-backgrounds` and `lomiri-wallpapers-16.04`: ")
    # files of no known set: no claim about the demo set
    assert photo_sources(["/data/a.png", PHOTO_SETS["mate-backgrounds"][0]]) == "2 images (1 from Debian `mate-backgrounds`): a, Aqua."


def test_reproduce_flags_name_the_photo_sets_the_config_expands_back():
    """The card's command line must train on the photos the weights saw: each whole set by its
    name, in order, other files as themselves, nothing for the defaults."""
    from inpaintbench.registry import method_class
    from methods.training.model_card import _flags
    from methods.training.photos import DEFAULT_VAL_PHOTOS, photo_words

    recipe = method_class("rwconv").recipe
    four = ["plasma-workspace-wallpapers", "mate-backgrounds", "lomiri-wallpapers-16.04", "opencv-doc"]
    files = recipe.Config(data=four + ["/data/x.png"]).data
    assert len(files) == 59 and photo_words(files) == four + ["/data/x.png"]
    assert recipe.Config(data=photo_words(files)).data == files
    # a set's files out of order or incomplete are listed one by one
    part = PHOTO_SETS["mate-backgrounds"][1:] + PHOTO_SETS["mate-backgrounds"][:1]
    assert photo_words(part) == part
    base = {k: v for k, v in recipe.Config().__dict__.items()}
    assert "--data" not in _flags(recipe, base) and "--val-data" not in _flags(recipe, base)
    assert f"--data {' '.join(four)} /data/x.png" in _flags(recipe, {**base, "data": files})
    assert _flags(recipe, {**base, "val_data": DEFAULT_VAL_PHOTOS[:1]}) == f"--val-data {DEFAULT_VAL_PHOTOS[0]}"


def test_a_report_caption_says_what_photos_a_learned_method_saw():
    from inpaintbench.report import caption_for
    from methods.training.photos import photo_summary

    files = PHOTO_SETS["mate-backgrounds"] + ["/data/x.png", "/data/y.png"]
    assert photo_summary(files) == {"count": 12, "sets": ["mate-backgrounds"], "other_files": 2}
    manifest = {"dataset": {"name": "d", "evaluated_images": 1}, "masks": {"id": "m"}, "protocol": {"id": "p", "eval_size": 256},
                "config": {"method": "x"}, "method": {"name": "x", "weights": "w.pt", "training_photos": photo_summary(files)}}
    assert "x (weights: w.pt). Training photos: 12 for x (mate-backgrounds + 2 other files)." in caption_for([manifest])
    del manifest["method"]["training_photos"]  # runs made before the record: nothing claimed
    assert "x (weights: w.pt)" in caption_for([manifest]) and "Training photos" not in caption_for([manifest])
    assert caption_for([manifest]).startswith("Dataset d (1 image at 256x256), masks m")  # was '1 images'


def test_a_caption_says_a_weights_file_and_a_set_of_training_photos_once():
    """The demo's caption named rwconv's weights file, its sha256 and its nine photo sets three
    times (rwconv, rwconv+poisson, rwconv+hflip+poisson) and the baselines' two sets three times."""
    from inpaintbench.report import caption_for
    from methods.training.photos import photo_summary

    few, many = photo_summary(PHOTO_SETS["mate-backgrounds"]), photo_summary(PHOTO_SETS["mate-backgrounds"] + ["/d/x.png"])

    def run(method, weights, sha, photos, **config):
        return {"dataset": {"name": "d", "evaluated_images": 1}, "masks": {"id": "m"}, "protocol": {"id": "p", "eval_size": 256},
                "config": {"method": method, **config},
                "method": {"name": method, "weights": weights, "weights_sha256": sha, "training_photos": photos}}

    runs = [run("a", "a.pt", "1" * 64, few), run("b", "b.pt", "2" * 64, few), run("c", "c.pt", "3" * 64, many),
            run("c", "c.pt", "3" * 64, many, blend="poisson"),
            run("c", "c.pt", "4" * 64, many, label="c2")]  # the same path, other bytes: said in full
    text = caption_for(runs)
    assert ("Methods: a (weights: a.pt, sha256 111111111111); b (weights: b.pt, sha256 222222222222); "
            "c (weights: c.pt, sha256 333333333333); c+poisson (method c, weights: c's, fill blended: poisson); "
            "c2 (method c, weights: c.pt, sha256 444444444444).") in text
    assert ("Training photos: 10 for a, b (mate-backgrounds); 11 for c, c+poisson, c2 (mate-backgrounds + 1 other file)."
            in text), text


def test_the_card_command_finds_a_methods_shipped_weights_by_itself(tmp_path):
    """Without --weights the card is of the method's shipped file (the command .device/ship_rwconv.sh
    runs); the path once came from this module's own folder and broke when the module moved."""
    from methods.training.model_card import main

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "train_log.csv").write_text("step,total,wall_s\n62740,0.5,10.0\n62750,0.5,20.0\n")
    main(["rwconv", str(tmp_path / "run"), "--card", str(tmp_path / "card.md")])
    assert "`methods/rwconv/weights/rwconv.pt`: sha256" in (tmp_path / "card.md").read_text()


def test_the_card_of_a_folder_that_is_no_run_or_another_runs_is_refused_and_the_card_kept(tmp_path, capsys):
    """`model_card rwconv nonexist` wrote over the shipped card (as ship_rwconv.sh would over a typo):
    an empty curve, 0.00 h, this machine's hardware, the notes kept below a card of nothing."""
    import pytest

    from methods.training.model_card import main

    card = tmp_path / "card.md"
    card.write_text("the card as shipped\n")
    (tmp_path / "short").mkdir()
    (tmp_path / "short" / "train_log.csv").write_text("step,total,wall_s\n10,0.9,1.0\n20,0.8,2.0\n")
    for folder, said in (("nonexist", "not a training run's folder (its --out: train_log.csv, val.csv, last.pt)"),
                         ("short", "its logs run from step 10 to 20, and methods/rwconv/weights/rwconv.pt is of step 62,750")):
        with pytest.raises(SystemExit) as e:
            main(["rwconv", str(tmp_path / folder), "--card", str(card)])
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.startswith(f"error: {tmp_path / folder}: {said}"), err
    assert card.read_text() == "the card as shipped\n"
