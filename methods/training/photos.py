"""The photographs learned methods train and validate on: which ones, and how they are read.

The sets are photographs inside Debian packages, each picked by eye from a contact sheet
(`python -m methods.training.photo_sheet SET`); none shows what a demo or validation photo
shows (`python -m methods.training.photo_overlap` measures that; a test runs it where the sets
are installed). A photo is a file, or BUNDLE#MEMBER for one stored inside a Qt resource bundle
(qt_resource). Every photo is decoded once and downscaled to MAX_SHORT_SIDE; PhotoPool draws
the random-scale crops. A collection too large to hold decoded (a real training set: CelebA-HQ's
28,000, Places2's 1.8 million) is decoded as drawn instead, with the same draws.
"""
from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from inpaintbench.data.image_io import (
    IMAGE_SUFFIXES,
    archive_note,
    decode_rgb,
    list_images,
    pixel_sha256,
)
from inpaintbench.errors import InputError, MissingInput

from . import qt_resource

# By package (wallpapers, sample and demo data). `--data PACKAGE` names a whole set.
# lomiri-wallpapers-16.04 holds the Ubuntu 16.04 contest photos (umang_by_Abhishek_Mudgal, a
# drawing, is left out). The extra sets are not in the default, which every learned baseline was
# trained on; rwconv's last runs added them (its model card).
PHOTO_SETS = {
    "plasma-workspace-wallpapers": [f"/usr/share/wallpapers/{n}/contents/images/2560x1600.jpg" for n in (
        "BytheWater", "ColdRipple", "DarkestHour", "EveningGlow", "FallenLeaf", "OneStandsOut", "summer_1am", "Grey")],
    "mate-backgrounds": [f"/usr/share/backgrounds/mate/nature/{n}.jpg" for n in (
        "Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird", "RainDrops", "TwoWings", "Wood")],
    "lomiri-wallpapers-16.04": [f"/usr/share/backgrounds/{n}.jpg" for n in (
        "Bridge_by_Sander_Klootwijk", "Dragonfly_by_Bolly", "Picture_0B_by_freespace", "Picture_1A_by_freespace",
        "Wine_by_Jakkub_Mede", "aitzgorri_by_Aitzol_Berasategi", "analogpattern_by_Peter_Nerlich", "free_by_Peter_Nerlich",
        "friends_by_Aitzol_Berasategi", "greentock_by_Peter_Nerlich", "life_by_Aitzol_Berasategi",
        "picosdeeuropa_by_Aitzol_Berasategi", "seeding_by_Clements_Engelhardt", "sunset_by_Aitzol_Berasategi")],
    # OpenCV's sample photos (342-1110 px short side): one of each stereo or near-duplicate pair;
    # renders, drawings, the painting (starry_night), charts, text pages and word crops left out
    "opencv-doc": ["/usr/share/doc/opencv-doc/examples/alphamat/input_images/plant.jpg"]
    + [f"/usr/share/doc/opencv-doc/examples/data/{n}" for n in (
        "aero1.jpg", "aloeL.jpg", "apple.jpg", "baboon.jpg", "board.jpg", "building.jpg", "butterfly.jpg",
        "chicky_512.png", "ela_original.jpg", "fruits.jpg", "graf1.png", "home.jpg", "left.jpg", "leuvenA.jpg",
        "messi5.jpg", "orange.jpg", "rubberwhale1.png", "squirrel_cls.jpg", "stuff.jpg")]
    + [f"/usr/share/doc/opencv-doc/examples/text/scenetext0{i}.jpg" for i in range(1, 7)],
    # KPhotoAlbum's demo album: snapshots of people, pets, bars, coasts; the four its index.xml
    # shows rotated (grand_canyon_1, new_wave_1, pool_2, wayne: stored sideways or upside down) left out
    "kphotoalbum": [f"/usr/share/kphotoalbum/demo/{n}.jpg" for n in (
        "anne_helene", "bar55", "bar55_2", "blackie", "cold_water", "donna", "donna_2", "grand_canyon_2",
        "grand_canyon_3", "jesper", "jesper_2", "new_wave_2", "pool", "qt-logo", "skagen", "skagen_2", "snow",
        "spiff", "spiff_2", "sunset")],
    # GCompris's photographs of animals, monuments and musicians (webp), inside its Qt resource
    # bundles (read by methods/training/qt_resource.py); the drawings (lang), the objects cut out on white
    # (categorization, middleeast), the paintings and `details`' copies of monuments above left out
    "gcompris-qt-data": [f"/usr/share/gcompris-qt/rcc/{a}.rcc#gcompris/src/activities/{a}/resource/{n}.webp"
                         for a, names in (
        ("explore_farm_animals", ["animals/" + n for n in (
            "cat", "chicken", "cow", "dog", "duck", "horse", "owl", "pig", "sheep")]),
        ("explore_monuments", [f"{country}/{n}" for country, ns in (
            ("egypt", ("bentPyramid", "greatPyramidOfGiza", "meidumPyramid", "redPyramid")),
            ("france", ("arlesAmphitheater", "chateaudeChambord", "chateaudeChenonceau", "citedeCarcassonne",
                        "eiffelTower", "montStMichel", "palaisdesPapes", "pontduGard", "reimsCathedral", "rocamadour")),
            ("germany", ("aulaPalatina", "berlinCathedral", "brandenburgGate", "neuschwansteinCastle", "schwerinPalace",
                         "trierImperialBaths", "wormsCathedral")),
            ("india", ("ajantaCave", "charminar", "gatewayofIndia", "goldenTemple", "greatStupa", "hawaMahal",
                       "konarkSunTemple", "mysorePalace", "qutubMinar", "rangGhar", "victoriaMemorial")),
            ("usa", ("cabrillo", "canyondeChelly", "castillodeSanMarcos", "castleClinton", "fortSumter",
                     "georgeWashingtonBirthplace", "lincolnMemorial", "mountRushmore", "navajo", "statueofLiberty")),
            ("wonders", ("chichenItza", "christTheRedeemer", "colosseum", "greatWallofChina", "machuPicchu", "petra",
                         "tajMahal"))) for n in ns]),
        ("explore_world_animals", ["animals/" + n for n in (
            "bison", "chameleon", "crocodile", "dragon", "giraffe", "hedgehog", "jaguar", "kangaroo", "koala", "lemur",
            "moose", "narwhal", "panda", "polar_bear", "scarlet_macaw")]),
        ("erase", [n for n in (
            "alpaca", "bee", "butterfly", "calf", "camels", "caterpillar", "chamaeleon", "cheetah", "crab", "dolphin",
            "flying_fox", "gibbon", "giraffe", "goat", "gorilla", "gosling", "heron", "horse", "kingfisher", "kitten",
            "long_nosed_monkey", "macaque", "meerkats", "northern_harrier", "nubian_ibex", "penguin", "pika",
            "red_panda", "rhinoceros", "spoonbills", "squirrel", "swans", "toucan")]),
        ("explore_world_music", ["music/" + n for n in (
            "africa", "america", "australia", "ireland", "italy", "japan", "mexico", "orchestra")]),
        ("details", [f"image/{n}_background" for n in (
            "EgeskovSlotSpejling", "EilanDonanCastle", "FanoeWindmill", "Louvre_2007_02_24_c", "NDP", "Nagoya",
            "OperaSidney", "TowerBridgeLondon")]))
                         for n in names],
    # Scratch 1.4's stage backgrounds (480x360 photos of places); the drawings (party-room,
    # room1-3, spotlight-stage, woods-and-bench, school2, brick-wall1), the blurred graffiti
    # composite and the palette GIFs (dithered) left out; three held out for validation (below)
    "scratch": [f"/usr/share/scratch/Media/Backgrounds/{d}/{n}.jpg" for d, names in (
        ("Indoors", ("chalkboard", "clothing-store", "hall", "the-movies-inside")),
        ("Nature", ("beach-malibu", "canyon", "forest", "garden-rock", "grand-canyon", "gravel-desert",
                    "hill", "lake", "moon", "pathway", "tree", "water-and-rocks", "wave")),
        ("Outdoors", ("all-sports-mural", "atom-playground", "bench-with-view", "berkeley-mural", "boardwalk",
                      "brick-wall-and-stairs", "brick-wall2", "building-at-mit", "building-fireproof", "castle",
                      "city-with-water", "city-with-water2", "driveway", "hallway_outdoors", "hay_field", "houses",
                      "mansion", "mural-faro", "parking-ramp", "pool", "route66", "silos", "the-movies",
                      "train-tracks1", "train-tracks2", "wooden-house")),
        ("Sports", ("baseball-field", "basketball-court1-a", "basketball-court1-b", "football-field", "playing-field",
                    "tennis-backboard"))) for n in names],
    # dlib's example photos: PASCAL VOC scenes of people indoors and out, a face, two street views;
    # the two collages (bald_guys, dogs) and the video frames (grey, 240 px) left out; one held out
    "libdlib19.1": [f"/usr/share/doc/libdlib19.1/examples/{n}.jpg" for n in (
        "faces/2007_007763", "faces/2008_001009", "faces/2008_001322", "faces/2008_002470",
        "faces/2008_002506", "faces/2008_004176", "faces/2008_007676", "faces/2009_004587",
        "faces/Tom_Cruise_avp_2014_4", "mmod_cars_test_image", "mmod_cars_test_image2")],
    # labelme's examples: PASCAL VOC photos, one frame of its street video, a shelf; one VOC held out
    "labelme-examples": [f"/usr/share/doc/labelme-examples/examples/{n}.jpg" for n in (
        "semantic_segmentation/data_annotated/2011_000003", "semantic_segmentation/data_annotated/2011_000006",
        "video_annotation/data_annotated/00000100",
        "tutorial/apc2016_obj3")],
}
DEFAULT_TRAIN_PHOTOS = PHOTO_SETS["plasma-workspace-wallpapers"] + PHOTO_SETS["mate-backgrounds"]
# Validation photos, in no set above, by package (so a missing one names its package). The three
# wallpapers were the whole validation set until the sets grew past wallpapers; their crops could
# not tell runs apart that the demo set told apart (run 8: 29.591 vs 29.594 dB, against +0.14 dB per
# demo pair), so photos of rooms, people and streets like the demo set's were held out beside them.
# methods.diagnostics.colour_bias and methods.diagnostics.edge_profile keep the wallpaper crops: their tables' yardstick.
VAL_PHOTOS = {
    "plasma-workspace-wallpapers": ["/usr/share/wallpapers/Path/contents/images/2560x1600.jpg"],
    "mate-backgrounds": ["/usr/share/backgrounds/mate/nature/Storm.jpg", "/usr/share/backgrounds/mate/nature/YellowFlower.jpg"],
    "scratch": [f"/usr/share/scratch/Media/Backgrounds/{n}.jpg" for n in ("Indoors/kitchen", "Outdoors/village", "Nature/flower-bed")],
    "libdlib19.1": ["/usr/share/doc/libdlib19.1/examples/faces/2008_002079.jpg"],
    "labelme-examples": ["/usr/share/doc/labelme-examples/examples/semantic_segmentation/data_annotated/2011_000025.jpg"],
}
WALLPAPER_VAL_PHOTOS = VAL_PHOTOS["plasma-workspace-wallpapers"] + VAL_PHOTOS["mate-backgrounds"]
DEFAULT_VAL_PHOTOS = sum(VAL_PHOTOS.values(), [])


def expand_photo_sets(words: list) -> list:
    """`--data` as given to files: each photo set's name becomes its files, anything else stays."""
    return [f for w in words for f in PHOTO_SETS.get(str(w), [w])]


def photo_name(path: str) -> str:
    """A photo's short name in cards, contact sheets and overlap reports."""
    p = Path(path)
    return p.parents[2].name if "/wallpapers/" in path else p.stem  # plasma: NAME/contents/images/WxH.jpg


def photo_words(files: list[str]) -> list[str]:
    """`files` as `--data` takes them: each whole photo set, in its order, by its name (the
    config expands the names back to these files in this order: expand_photo_sets)."""
    words, i = [], 0
    while i < len(files):
        name = next((k for k, v in PHOTO_SETS.items() if files[i : i + len(v)] == v), None)
        words.append(name or files[i])
        i += len(PHOTO_SETS[name]) if name else 1
    return words


def photo_summary(files: list[str]) -> dict:
    """What a run manifest says of a model's training photos: how many, and the sets by name
    (paths of other files are where they were on one machine, so only counted)."""
    words = photo_words(files)
    return {"count": len(files), "sets": [w for w in words if w in PHOTO_SETS],
            "other_files": sum(w not in PHOTO_SETS for w in words)}


MAX_SHORT_SIDE = 640  # photos are downscaled once at load; random-scale crops come from this


def bundle_member(f: Path) -> tuple[str, str] | None:
    """(bundle, member) for a photo named BUNDLE#MEMBER that is not itself a file."""
    s = str(f)
    return tuple(s.split("#", 1)) if "#" in s and not f.exists() else None


def photo_exists(f: Path) -> bool:
    bm = bundle_member(f)
    return qt_resource.exists(*bm) if bm else f.is_file()


def photo_bytes(f: Path) -> bytes:
    """The photo's file as stored: the file, or the bundle member."""
    bm = bundle_member(f)
    return qt_resource.read_member(*bm) if bm else f.read_bytes()


def decode_photo(f: Path) -> np.ndarray:
    bm = bundle_member(f)
    return decode_rgb(f, data=qt_resource.read_member(*bm) if bm else None)


def load_photo(f: Path) -> np.ndarray:
    """A training photo as the trainer uses it: decoded, downscaled once to MAX_SHORT_SIDE (never
    enlarged). A photo already at that size comes back unchanged, which .device/pack.sh relies on."""
    img = decode_photo(f)
    s = MAX_SHORT_SIDE / min(img.shape[:2])
    if s < 1:
        img = np.asarray(Image.fromarray(img).resize((round(img.shape[1] * s), round(img.shape[0] * s)), Image.BICUBIC))
    return img


def photo_files(sources: list[str]) -> list[Path]:
    """--data / --val-data as files: a folder becomes the images in it."""
    return [f for s in sources for f in (list_images(Path(s)) if Path(s).is_dir() else [Path(s)])]


def found_photos(sources: list[str], role: str = "training", flag: str = "--data") -> list[Path]:
    """`photo_files`, each checked to be there (without decoding it): MissingInput names the first
    missing ones and the Debian packages that hold them."""
    for s in sources:  # a photo set as downloaded, which would be read as one photo that does not decode
        if Path(s).suffix.lower() not in IMAGE_SUFFIXES and Path(s).is_file() and (packed := archive_note(s, "folder of photos")):
            raise InputError(f"{flag} {s}: {packed}")
    files = photo_files(sources)
    # only the files named one by one: a folder's listing found its files there (a pass of stat calls
    # over Places2's 1.8M would cost ~25 s more)
    missing = [str(Path(s)) for s in sources if not Path(s).is_dir() and not photo_exists(Path(s))]
    if not missing and not files:  # folders that are there, with nothing to train on: not 'not found'
        raise MissingInput(f"{role} photos: no image ({', '.join(IMAGE_SUFFIXES)}) in {', '.join(sources)}; "
                           f"pass {flag} with folders or files of photos")
    if missing:
        packages = list(dict.fromkeys(k for sets in (PHOTO_SETS, VAL_PHOTOS) for k, v in sets.items() if set(missing) & set(v)))
        # a bare word is a photo set's name mistyped (`--data plasma`) more often than a file without a suffix
        words = [m for m in missing if not Path(m).suffix and "/" not in m]
        hint = f"; photo sets by name: {', '.join(PHOTO_SETS)}" if words else ""
        raise MissingInput(f"{role} photos not found: {missing[:3]} "
                           f"({'install Debian ' + ' '.join(packages) + ', ' if packages else ''}or pass {flag} DIR{hint})")
    return files


def _stored_size(f: Path) -> int:
    bm = bundle_member(f)
    return len(qt_resource.read_member(*bm)) if bm else f.stat().st_size


def shared_photos(train: list[Path], val: list[Path]) -> list[tuple[str, str]]:
    """(validation photo, the first training photo with its bytes) for each validation photo that is
    a training photo by any name (a copy in another folder, or a link: the Debian wallpapers' sizes
    are links to one file), so the refusal can say which training file to take out.
    Only training photos of a validation photo's byte size are read: all of them would be the
    whole training set read before the first step (tens of GB for Places2's)."""
    sizes = {_stored_size(f) for f in val}
    seen: dict[bytes, Path] = {}
    for f in train:
        if _stored_size(f) in sizes:
            seen.setdefault(hashlib.sha256(photo_bytes(f)).digest(), f)
    digests = {f: hashlib.sha256(photo_bytes(f)).digest() for f in val}
    return [(str(f), str(seen[d])) for f, d in digests.items() if d in seen]


#: photos held decoded (~1.6 MB each at MAX_SHORT_SIDE, so ~3 GB); a larger collection is decoded as drawn
IN_MEMORY_PHOTOS = 2000


def _pixel_key(img: np.ndarray) -> tuple:
    return img.shape, pixel_sha256(img)


class PhotoPool:
    """Training photos downscaled to MAX_SHORT_SIDE; random-scale crops + flips. Up to
    IN_MEMORY_PHOTOS (or as `in_memory` says) decoded once up front; more, decoded as each is
    drawn (a broken file then stops the run when drawn, not at its start). Both give the same crops."""

    def __init__(self, sources: list[str], in_memory: bool | None = None, files: list[Path] | None = None):
        """`files`: found_photos(sources) where the caller has it already."""
        files = found_photos(sources) if files is None else files
        self.files = files
        self.in_memory = len(files) <= IN_MEMORY_PHOTOS if in_memory is None else in_memory
        self.photos: list[np.ndarray] | None = None
        if self.in_memory:
            # decoding and downscaling release the GIL: threads make a GPU job's start (264 photos,
            # twice when one run spans two calls) take seconds of its device time instead of ten
            with ThreadPoolExecutor(max_workers=min(16, os.cpu_count() or 1)) as ex:
                self.photos = list(ex.map(load_photo, files))

    def __len__(self) -> int:
        return len(self.files)

    def photo(self, i: int) -> np.ndarray:
        return self.photos[i] if self.photos is not None else load_photo(self.files[i])

    def _by_pixels(self) -> dict[tuple, Path]:
        """Each decoded photo's file by its pixels (shape and sha256), the first of equal ones."""
        index: dict[tuple, Path] = {}
        for f, img in zip(self.files, self.photos):
            index.setdefault(_pixel_key(img), f)
        return index

    def same_pixels(self, others: PhotoPool) -> list[tuple[Path, Path]] | None:
        """(other's file, this pool's file) for each photo of `others` whose pixels, as loaded, are
        one of this pool's: a lossless re-save (a PNG of a JPEG's pixels, metadata stripped) has
        other bytes, which `shared_photos` compares. None where either is decoded as drawn."""
        if self.photos is None or others.photos is None:
            return None
        index = self._by_pixels()
        found = ((f, index.get(_pixel_key(img))) for f, img in zip(others.files, others.photos))
        return [(f, t) for f, t in found if t is not None]

    def demo_photos(self) -> list[str] | None:
        """The demo set's source photos (inpaintbench.data.demo) among these, by name in the demo's
        order: a copy, a link or a lossless re-save (skimage.data.astronaut() written as PNG), told by
        their pixels as loaded. A model trained on one is scored on the demo set on what it has seen.
        None for a pool decoded as drawn: it would decode every photo to tell. Re-encoded, cropped or
        scaled copies are for `python -m methods.training.photo_overlap` (keypoints, ~80 s)."""
        if self.photos is None:
            return None
        from inpaintbench.data.demo import source_files

        index = self._by_pixels()
        return [stem for stem, path in source_files().items() if _pixel_key(load_photo(path)) in index]

    def smaller_than(self, size: int) -> list[Path] | None:
        """The photos whose short side is under `size`: their crops are enlarged (the trainer says
        so). None for a pool decoded as drawn: it would decode every photo to tell."""
        if self.photos is None:
            return None
        return [f for f, img in zip(self.files, self.photos) if min(img.shape[:2]) < size]

    def crop(self, rng: np.random.Generator, size: int) -> np.ndarray:
        img = self.photo(int(rng.integers(len(self.files))))
        h, w = img.shape[:2]
        # a photo smaller than the crop gives its whole short side, enlarged below; for the others
        # the draw is the same as it always was, so existing runs see the same crops
        side = int(rng.integers(min(size, h, w), min(h, w) + 1))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        patch = Image.fromarray(img[y : y + side, x : x + side])
        if side != size:
            patch = patch.resize((size, size), Image.BICUBIC)
        patch = np.asarray(patch)
        return patch[:, ::-1] if rng.random() < 0.5 else patch
