"""Eye-levelled cat heads cut from photos with hand-placed landmarks (the CAT dataset).

The CAT dataset (Zhang, Sun and Tang, ECCV 2008; Kaggle "crawford/cat-dataset", no stated
licence) gives each photo nine points in a ``<photo>.jpg.cat`` file; the German presentation turns
them into aligned 64x64 faces, as ``load_cat_landmarks`` does here.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from gan_lib.data.decode_cache import decode_all
from gan_lib.data.images import to_rgb
from gan_lib.data.paths import data_root
from gan_lib.errors import GanLibError

LANDMARK_NAMES = ("left eye", "right eye", "mouth", "left ear 1", "left ear 2", "left ear 3",
                  "right ear 1", "right ear 2", "right ear 3")


def read_cat_annotation(path: str | os.PathLike) -> np.ndarray:
    """A CAT ``.jpg.cat`` file (``9 x1 y1 ... x9 y9``) -> float32 ``[9, 2]`` (x, y) pixels.

    Points, in order: ``LANDMARK_NAMES``. Raises GanLibError naming the file if it is not
    nine points.
    """
    try:
        values = Path(path).read_text().split()
        numbers = [float(v) for v in values]
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise GanLibError(f"cannot read cat annotation {path}: {e}") from None
    if len(numbers) < 19 or numbers[0] != 9:
        raise GanLibError(f"malformed cat annotation {path}: expected '9 x1 y1 ... x9 y9' "
                          f"(19 numbers), got {len(values)} values starting {values[:3]}")
    points = np.asarray(numbers[1:19], np.float32).reshape(9, 2)
    if not np.isfinite(points).all():
        raise GanLibError(f"malformed cat annotation {path}: non-finite coordinates")
    return points


def level_eyes(image: Image.Image, points) -> tuple[Image.Image, np.ndarray]:
    """Rotate ``image`` about the eyes' midpoint so the eyes are level.

    Returns the rotated image (same size, black where the photo had no pixels) and the nine
    points moved with it, float32 ``[9, 2]``.
    """
    p = np.asarray(points, np.float64).reshape(9, 2)
    left, right = sorted(p[:2], key=lambda q: q[0])  # whichever eye is on the image's left
    dx, dy = right - left
    if np.hypot(dx, dy) < 1.0:
        raise ValueError("the two eye points coincide")
    angle = np.degrees(np.arctan2(dy, dx))  # y points down, so positive = right eye lower
    centre = (left + right) / 2
    rotated = image.rotate(angle, resample=Image.BICUBIC, center=tuple(centre))
    # Pillow turns counter-clockwise on screen; with y down that is this matrix.
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    moved = (p - centre) @ np.array([[c, -s], [s, c]]) + centre
    return rotated, moved.astype(np.float32)


def cat_face_box(points, margin: float = 1.15) -> tuple[float, float, float, float]:
    """Square face box ``(left, top, right, bottom)`` from eye-levelled points.

    The box spans the whole head, as the 64x64 cat-face set does: from the highest ear
    point down to the chin, estimated as half the eye-to-mouth drop below the mouth, and
    across the widest ear point on either side of the eyes' midpoint. The larger of height
    and width, times ``margin``, is the side; the box is centred on that span.
    """
    p = np.asarray(points, np.float64).reshape(9, 2)
    eyes, mouth = p[:2].mean(axis=0), p[2]
    top = p[:, 1].min()
    chin = mouth[1] + 0.5 * max(mouth[1] - eyes[1], 0.0)
    half_width = np.abs(p[:, 0] - eyes[0]).max()
    side = margin * max(chin - top, 2 * half_width)
    cx, cy = eyes[0], (top + chin) / 2
    return (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def align_cat_face(image: Image.Image, points, image_size: int | None = 64,
                   margin: float = 1.15) -> Image.Image:
    """Eye-levelled square crop of a cat's head: ``level_eyes``, then ``cat_face_box``.

    Args:
        image: the photo (any mode; returned as RGB).
        points: the nine landmarks ``[9, 2]`` of ``read_cat_annotation``, in ``image`` pixels.
        image_size: side of the result (antialiased resize); None keeps the crop's size.
        margin: how much room around the head (1.0 = ears and chin touch the border).
    """
    rotated, moved = level_eyes(to_rgb(image), points)
    box = cat_face_box(moved, margin)
    if image_size is None:
        left, top, side = round(box[0]), round(box[1]), round(box[2] - box[0])
        return rotated.crop((left, top, left + side, top + side))  # outside the photo: black
    # resize(box=...) reads only the photo; pad first so a box past the border stays square.
    pad = int(np.ceil(max(0.0, -box[0], -box[1], box[2] - rotated.width,
                          box[3] - rotated.height)))
    if pad:
        canvas = Image.new("RGB", (rotated.width + 2 * pad, rotated.height + 2 * pad))
        canvas.paste(rotated, (pad, pad))
        rotated, box = canvas, tuple(v + pad for v in box)
    return rotated.resize((image_size, image_size), Image.LANCZOS, box=box, reducing_gap=3.0)


def _landmark_crop(args) -> np.ndarray | str:
    annotation, image_size = args
    photo = annotation.with_suffix("")  # x.jpg.cat -> x.jpg
    try:
        points = read_cat_annotation(annotation)
        with Image.open(photo) as image:
            return np.asarray(align_cat_face(image, points, image_size), np.uint8)
    except (GanLibError, OSError, ValueError) as e:
        return f"{type(e).__name__}: {e}"


def load_cat_landmarks(root: str | os.PathLike | None = None, image_size: int = 64,
                       progress: bool = True, cache: bool = True) -> np.ndarray:
    """Eye-levelled cat heads from the CAT dataset: uint8 ``[N, image_size, image_size, 3]``.

    Reads every ``<photo>.jpg.cat`` under ``<data root>/cat_landmarks/`` (``CAT_00/`` ...
    as in the original archive) with its photo; pairs with a missing photo or a malformed
    annotation are skipped and named in one warning. The aligned heads are cached as the
    image folders are (``gan_lib.data.images.load_image_folder``): aligning 9,997 photos takes
    minutes on two cores, reading them back a second.
    """
    folder = data_root(root) / "cat_landmarks"
    annotations = sorted(folder.rglob("*.cat")) if folder.is_dir() else []
    if not annotations:
        raise GanLibError(f"no CAT annotations (*.jpg.cat) in {folder}: unpack the CAT dataset "
                          "(Kaggle crawford/cat-dataset: CAT_00/ ... CAT_06/) there")
    photos = [a.with_suffix("") for a in annotations]
    return decode_all(folder, annotations + photos, [(a, image_size) for a in annotations],
                      _landmark_crop, image_size, key="aligned by landmarks, margin 1.15",
                      cache=cache, cache_dir=None, progress=progress, desc="aligning cats",
                      what="annotated cats")
