"""Images for transfer learning: from a folder, NumPy arrays or a DataFrame of paths."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modelworks.exceptions import DataFileError, DeepError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
PATH_COLUMNS = ("path", "filepath", "file", "filename", "image")
LABEL_COLUMNS = ("label", "class", "target", "y")


@dataclass
class Images:
    """Images as a float32 array ``(n, height, width, channels)`` of 0-255 pixels, with labels.

    ``skipped`` lists the files that could not be read (they are left out, not fatal).
    """

    X: np.ndarray
    y: np.ndarray | None
    source: str
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.X)


def _read(path: Path, size: tuple[int, int] | None, channels: int) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("L" if channels == 1 else "RGB")
        if size is not None and im.size != (size[1], size[0]):
            im = im.resize((size[1], size[0]), Image.Resampling.BILINEAR)
        arr = np.asarray(im, dtype=np.float32)
    return arr[..., None] if channels == 1 else arr


def _read_many(paths: list[Path], labels: list[Any], size, channels) -> Images:
    from PIL import UnidentifiedImageError

    X, y, skipped = [], [], []
    for path, label in zip(paths, labels):
        try:
            X.append(_read(path, size, channels))
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            skipped.append(str(path))
            continue
        y.append(label)
    if X and len({a.shape for a in X}) > 1:
        raise DeepError(
            "images have different sizes ("
            + ", ".join(sorted({f"{a.shape[1]}x{a.shape[0]}" for a in X})[:5])
            + "); give an image size to resize them to"
        )
    arr = np.stack(X) if X else np.zeros((0, *(size or (0, 0)), channels), np.float32)
    return Images(arr, np.asarray(y), source="", skipped=skipped)


def _from_folder(folder: Path, size, channels) -> Images:
    if not folder.exists():
        raise DataFileError(f"image folder not found: {folder}")
    if not folder.is_dir():
        raise DeepError(f"{folder} is not a folder; expected one sub-folder of images per class "
                        f"(e.g. {folder}/cat/*.jpg, {folder}/dog/*.jpg)")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DeepError(f"no class sub-folders in {folder}; expected one sub-folder of images per "
                        f"class (e.g. {folder}/cat/*.jpg, {folder}/dog/*.jpg)")
    if len(classes) < 2:
        raise DeepError(f"{folder} has only one class sub-folder ('{classes[0]}'); a classifier "
                        "needs at least two classes, one sub-folder each")
    paths, labels = [], []
    for name in classes:
        files = sorted(p for p in (folder / name).iterdir()
                       if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        paths += files
        labels += [name] * len(files)
    images = _read_many(paths, labels, size, channels)
    counts = {c: int(np.sum(images.y == c)) for c in classes}
    empty = [c for c, n in counts.items() if n == 0]
    if empty:
        raise DeepError(
            f"class folder(s) without readable images in {folder}: {', '.join(empty)} "
            f"(image files end in {', '.join(sorted(IMAGE_SUFFIXES))}); add images or remove the "
            "folder(s)"
        )
    images.source = str(folder)
    return images


def _from_frame(frame, size, channels, *, base_dir: Path | None) -> Images:
    cols = {str(c).lower(): c for c in frame.columns}
    path_col = next((cols[c] for c in PATH_COLUMNS if c in cols), None)
    if path_col is None:
        raise DeepError(
            "the DataFrame needs a column of image paths named one of: " + ", ".join(PATH_COLUMNS)
            + f"; columns are: {', '.join(map(str, frame.columns))}"
        )
    label_col = next((cols[c] for c in LABEL_COLUMNS if c in cols), None)
    paths = [Path(p) if base_dir is None or Path(p).is_absolute() else base_dir / p
             for p in frame[path_col].astype(str)]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise DataFileError(f"{len(missing)} image path(s) in the DataFrame do not exist, e.g. "
                            f"{missing[0]}")
    labels = list(frame[label_col]) if label_col is not None else [None] * len(paths)
    images = _read_many(paths, labels, size, channels)
    if label_col is None:
        images.y = None
    images.source = f"DataFrame column '{path_col}'"
    return images


def _from_arrays(X, y, size, channels) -> Images:
    X = np.asarray(X)
    if X.ndim == 3:
        X = X[..., None]
    if X.ndim != 4:
        raise DeepError(f"image arrays must have shape (n, height, width) or (n, height, width, "
                        f"channels); got {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise DeepError(f"image arrays must be numeric, got dtype {X.dtype}")
    X = X.astype(np.float32)
    if not np.isfinite(X).all():
        raise DeepError("image arrays contain NaN or infinite values")
    have = X.shape[-1]
    if have != channels:
        if have == 1 and channels == 3:
            X = np.repeat(X, 3, axis=-1)
        elif have == 3 and channels == 1:
            X = X @ np.array([0.299, 0.587, 0.114], np.float32)[:, None]
        else:
            raise DeepError(f"images have {have} channels but the base model takes {channels}; "
                            "give 1 (grayscale) or 3 (RGB) channels")
    if size is not None and X.shape[1:3] != tuple(size):
        import os as _os

        _os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras

        X = np.asarray(keras.ops.convert_to_numpy(
            keras.ops.image.resize(X, size, interpolation="bilinear")), dtype=np.float32)
    if y is not None:
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(X):
            raise DeepError(f"labels must be one per image: {len(X)} images, labels of shape {y.shape}")
    return Images(X, y, source=f"arrays {tuple(X.shape)}")


def load_images(data: Any, *, size: tuple[int, int] | None = None, channels: int = 3,
                labels: Any = None, base_dir: str | os.PathLike | None = None) -> Images:
    """Read images from a folder, arrays or a DataFrame into one array at ``size``.

    Parameters
    ----------
    data : path, ndarray, (X, y) tuple or DataFrame
        A folder with one sub-folder per class; an array ``(n, h, w[, c])`` (with ``labels``)
        or a tuple ``(X, y)``; or a DataFrame with a ``path`` column and an optional ``label``
        column.
    size : (height, width), optional
        Resize every image to this size (bilinear). Required when files differ in size.
    channels : {1, 3}, default=3
        Grayscale or RGB.
    labels : array-like, optional
        Labels when ``data`` is an array.
    base_dir : path, optional
        Folder that relative paths in a DataFrame are relative to.

    Returns
    -------
    Images
        Pixels as float32 in 0-255, labels, and the list of unreadable files that were skipped.

    Raises
    ------
    DataFileError
        The folder or a listed file does not exist.
    DeepError
        One class only, a class without readable images, inconsistent shapes or channels.
    """
    import pandas as pd

    if channels not in (1, 3):
        raise DeepError(f"channels must be 1 or 3, got {channels}")
    size = None if size is None else (int(size[0]), int(size[1]))
    if isinstance(data, str | os.PathLike):
        return _from_folder(Path(data), size, channels)
    if isinstance(data, pd.DataFrame):
        return _from_frame(data, size, channels,
                           base_dir=Path(base_dir) if base_dir is not None else None)
    if isinstance(data, tuple) and len(data) == 2:
        data, labels = data
    if isinstance(data, np.ndarray) or hasattr(data, "__array__"):
        return _from_arrays(data, labels, size, channels)
    raise DeepError(f"cannot read images from a {type(data).__name__}; give a folder path, an "
                    "array (n, height, width[, channels]) with labels, or a DataFrame of paths")
