import numpy as np
from PIL import Image

from methods.training.photo_sheet import LABEL, contact_sheet, main


def test_each_photo_lands_in_its_cell_whole(tmp_path):
    colours = [(250, 0, 0), (0, 250, 0), (0, 0, 250)]
    files = []
    for i, c in enumerate(colours):
        files.append(str(tmp_path / f"p{i}.png"))
        Image.fromarray(np.full((300, 400, 3), c, np.uint8)).save(files[-1])
    sheet = np.asarray(contact_sheet(files, columns=2, cell=100))
    assert sheet.shape == (2 * (75 + LABEL), 200, 3)  # 3 photos in 2 columns: 2 rows
    for i, c in enumerate(colours):  # a 400x300 photo fits 98x73 whole: the cell's centre is its colour
        y, x = (i // 2) * (75 + LABEL) + 37, (i % 2) * 100 + 50
        assert sheet[y, x].tolist() == list(c)
    assert sheet[75 + LABEL + 37, 150].tolist() == [255, 255, 255]  # no fourth photo
    main([*files, "--out", str(tmp_path / "s.png"), "--columns", "3"])
    assert Image.open(tmp_path / "s.png").size == (600, 150 + LABEL)
    # a photo that is not there (a set's name mistyped as a file) ended in a traceback
    import pytest

    with pytest.raises(SystemExit) as e:
        main([str(tmp_path / "nope.png"), "--out", str(tmp_path / "t.png")])
    assert e.value.code == 2 and not (tmp_path / "t.png").exists()
