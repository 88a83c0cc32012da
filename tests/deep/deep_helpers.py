"""Helpers for the deep-learning tests: tiny image folders and tiny saved base models."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")


def write_digit_folder(root: Path, digits=(0, 1, 2), per_class: int = 12, size: int = 16,
                       seed: int = 0) -> Path:
    """A folder of PNG images, one sub-folder per digit, from scikit-learn's 8x8 digits."""
    from PIL import Image
    from sklearn.datasets import load_digits

    data = load_digits()
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for d in digits:
        folder = root / f"digit_{d}"
        folder.mkdir(exist_ok=True)
        idx = rng.choice(np.where(data.target == d)[0], per_class, replace=False)
        for i in idx:
            img = Image.fromarray((data.images[i] * 255 / 16).astype(np.uint8), mode="L")
            img.resize((size, size), Image.Resampling.BILINEAR).save(folder / f"{i}.png")
    return root


def save_tiny_base(path: Path, *, size: int = 16, channels: int = 1, n_classes: int = 3) -> Path:
    """A tiny untrained CNN classifier (with BatchNormalization) saved as .keras."""
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((size, size, channels))
    x = keras.layers.Rescaling(1 / 255, name="rescale")(inp)
    x = keras.layers.Conv2D(4, 3, name="conv1")(x)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="features")(x)
    out = keras.layers.Dense(n_classes, activation="softmax", name="classifier")(x)
    keras.Model(inp, out).save(path)
    return path
