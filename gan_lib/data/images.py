"""Load a folder of image files into one uint8 array: decode, crop, resize (cached by
``gan_lib.data.decode_cache``).

Any tree of PNG/JPEG/BMP/GIF/WebP/TIFF files works. Every Pillow mode becomes RGB (transparent
pixels over white, 16-bit values scaled to 8 bits), EXIF orientation is applied, and files that
cannot be read are skipped and reported in one warning. The decoded array is saved as an
``.npy`` file, so the second load of the same folder takes milliseconds instead of minutes.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from gan_lib.data.decode_cache import decode_all
from gan_lib.errors import GanLibError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
UNREAD_EXTENSIONS = (".heic", ".heif", ".avif")  # phones' photos Pillow cannot open by itself
Crop = str | tuple | None


def unscale_images(images) -> np.ndarray:
    """float images in [-1, 1] -> uint8 in [0, 255] (values outside are clipped); uint8
    images are returned as they are."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    images = images.astype(np.float32)
    return np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def list_image_files(folder: str | os.PathLike) -> list[Path]:
    """Image files under ``folder`` (any depth), sorted by relative path.

    Hidden files and folders (``.name``, e.g. our ``.gan_lib_cache``, macOS ``._x.jpg``) are
    left out. Symlinked folders are followed, but each real folder is visited once, so a link
    back to a parent cannot loop.
    """
    folder = Path(folder)
    found, seen = [], set()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        st = os.stat(dirpath)
        if (st.st_dev, st.st_ino) in seen:
            dirnames[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found += [Path(dirpath, f) for f in filenames
                  if not f.startswith(".") and f.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB.

    Transparency (RGBA, LA, PA, palette or L/RGB with a transparent colour) is composited
    over white, as a web page shows it. 16-bit greys (``I;16``, and ``I`` with values above
    255) are scaled so 65535 -> 255 (Pillow's own ``convert`` would clip them); float images
    are clipped to [0, 255].
    """
    if image.mode.startswith("I") or image.mode == "F":
        a = np.asarray(image, dtype=np.float64)
        if image.mode.startswith("I;16") or (image.mode == "I" and a.max(initial=0) > 255):
            a = a / 257.0
        grey = np.clip(np.rint(a), 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _crop_box(size: tuple[int, int], crop: Crop) -> tuple[float, float, float, float]:
    w, h = size
    if crop is None:
        return (0.0, 0.0, float(w), float(h))
    if crop == "center":
        side = min(w, h)
        left, top = (w - side) / 2, (h - side) / 2
        return (left, top, left + side, top + side)
    left, top, right, bottom = (float(v) for v in crop)
    box = (max(left, 0.0), max(top, 0.0), min(right, float(w)), min(bottom, float(h)))
    if box[2] - box[0] < 1 or box[3] - box[1] < 1:
        raise ValueError(f"crop box {crop} lies outside the {w}x{h} image")
    return box


def decode_image(path: str | os.PathLike, image_size: int, crop: Crop = "center") -> np.ndarray:
    """One file -> uint8 ``[image_size, image_size, 3]``; raises OSError/ValueError if unreadable.

    The crop box is in the coordinates of the upright image (after EXIF rotation). Big JPEGs
    are decoded at a reduced scale (``Image.draft``: libjpeg's DCT scaling, never below twice
    the final size) and big reductions go through ``reduce()`` first (``reducing_gap``), so a
    6000x4000 photo needs a few MB, not 72 MB times the number of threads.
    """
    with Image.open(path) as image:
        raw_w, raw_h = image.size
        turned = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)  # EXIF says: rotate 90
        upright = (raw_h, raw_w) if turned else (raw_w, raw_h)
        box = _crop_box(upright, crop)
        scale = image_size / min(box[2] - box[0], box[3] - box[1])
        if image.format == "JPEG" and scale < 0.5:
            # Keep twice the final size so LANCZOS, not the DCT scaling, sets the quality.
            image.draft(None, (math.ceil(raw_w * scale * 2), math.ceil(raw_h * scale * 2)))
        image = ImageOps.exif_transpose(image)
        sx, sy = image.size[0] / upright[0], image.size[1] / upright[1]  # what draft() did
        box = (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)
        rgb = to_rgb(image).resize((image_size, image_size), Image.Resampling.LANCZOS,
                                   box=box, reducing_gap=3.0)
        return np.asarray(rgb, dtype=np.uint8)


def _try_decode(args) -> np.ndarray | str:
    path, image_size, crop = args
    try:
        return decode_image(path, image_size, crop)
    except Exception as e:
        # One bad file must not stop a 30,000-image load: OSError covers corrupt, truncated,
        # unreadable files and symlink loops; DecompressionBombError images over twice
        # Pillow's MAX_IMAGE_PIXELS (~179 MP); broken metadata raises assorted others.
        return f"{type(e).__name__}: {e}"


def load_image_folder(folder: str | os.PathLike, image_size: int = 64, crop: Crop = "center",
                      cache: bool = True, cache_dir: str | os.PathLike | None = None,
                      progress: bool = True) -> np.ndarray:
    """Every readable image under ``folder`` as uint8 ``[N, image_size, image_size, 3]``.

    Args:
        folder: a folder tree of .png/.jpg/.jpeg/.bmp/.gif files (extension case ignored).
        image_size: output side in pixels (32, 64, 128 ... any positive size).
        crop: ``"center"`` = largest centred square; ``(left, top, right, bottom)`` = that box
            (clipped to each image); ``None`` = the whole image, squashed to a square.
        cache: save/reuse the decoded array as ``.npy``, keyed by file names, sizes, mtimes,
            ``image_size`` and ``crop``. It goes to ``cache_dir`` if given, else
            ``$GAN_LIB_CACHE`` if set (the notebooks set it to Drive on Colab), else
            ``<folder>/.gan_lib_cache/`` if the folder is writable, else ``~/.cache/gan_lib/``.
        progress: show a tqdm progress bar while decoding.

    Returns:
        uint8 ``[N, image_size, image_size, 3]`` in [0, 255], in sorted file order. Files that
        cannot be decoded are skipped and named in one warning (when the cache is built).

    Raises:
        GanLibError: ``folder`` does not exist, or holds no readable image.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise GanLibError(f"image folder not found: {folder} (check the path, or set "
                          f"GAN_LIB_DATA to the folder that holds your datasets)")
    if int(image_size) != image_size or image_size < 1:
        raise GanLibError(f"image_size must be a positive integer, got {image_size!r}")
    if not (crop is None or crop == "center" or (isinstance(crop, tuple) and len(crop) == 4)):
        raise GanLibError(f"crop must be 'center', None or (left, top, right, bottom), "
                          f"got {crop!r}")
    files = list_image_files(folder)
    if not files:
        raise GanLibError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) found in {folder}")
    return decode_all(folder, files, [(f, image_size, crop) for f in files], _try_decode,
                      image_size, key=repr(crop), cache=cache, cache_dir=cache_dir,
                      progress=progress, desc=f"decoding {folder.name}", what="image files")
