"""A contact sheet of training photos, to check by eye what a photo set holds (the sets in
PHOTO_SETS were picked this way: photographs kept, drawings, renders and near-duplicates left out).

    python -m methods.training.photo_sheet SET_OR_FILES... [--out sheet.png] [--columns 8] [--cell 200]

Each photo is shown whole (fitted into its cell, aspect kept) with its index, name and size.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

from inpaintbench.errors import one_line_errors

from .photos import decode_photo, expand_photo_sets, photo_name

LABEL = 14  # pixels under each thumbnail for its caption


def contact_sheet(files: list[str], columns: int = 8, cell: int = 200) -> Image.Image:
    rows = (len(files) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * cell, rows * (cell * 3 // 4 + LABEL)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, f in enumerate(files):
        img = Image.fromarray(decode_photo(Path(f)))
        w, h = img.size
        img.thumbnail((cell - 2, cell * 3 // 4 - 2))
        x, y = (i % columns) * cell, (i // columns) * (cell * 3 // 4 + LABEL)
        sheet.paste(img, (x + 1, y + 1))
        draw.text((x + 2, y + cell * 3 // 4), f"{i} {photo_name(f)[:18]} {w}x{h}", fill="black")
    return sheet


@one_line_errors
def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("photos", nargs="+", help="photo set names (methods/training/photos.py PHOTO_SETS) or files")
    p.add_argument("--out", default="photo_sheet.png")
    p.add_argument("--columns", type=int, default=8)
    p.add_argument("--cell", type=int, default=200, help="cell width in pixels")
    a = p.parse_args(argv)
    files = expand_photo_sets(a.photos)
    contact_sheet(files, a.columns, a.cell).save(a.out)
    print(f"wrote {a.out}: {len(files)} photos")


if __name__ == "__main__":
    main()
