"""Custom layers and models, the chapter's second recipe, done correctly.

The chapter's ``AttentionLayer`` computes ``softmax(x @ W) @ x``, which only lines up when the
number of units equals the sequence length. ``modelworks.deep.layers.SelfAttention`` is the
scaled dot-product form, and ``AttentionClassifier`` is the chapter's custom ``Model`` built on
it. The task: a sequence of 12 noisy vectors hides one of three signal vectors at a random
position; the class is which signal. Then the model is saved and loaded back safely.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np

from modelworks.deep import load_model
from modelworks.deep.layers import AttentionClassifier, SelfAttention

rng = np.random.default_rng(0)
n, steps, features = 900, 12, 8
signals = rng.normal(size=(3, features)) * 2.5
X = rng.normal(size=(n, steps, features)).astype("float32")
y = rng.integers(0, 3, size=n)
X[np.arange(n), rng.integers(0, steps, size=n)] += signals[y]

# the layer alone: shapes and weights that are probabilities
out, weights = (keras.ops.convert_to_numpy(t)
                for t in SelfAttention(16)(X[:2], return_attention_scores=True))
print(f"SelfAttention: input {X[:2].shape} -> output {tuple(out.shape)}, "
      f"weights {tuple(weights.shape)} (rows sum to {float(weights[0, 0].sum()):.3f})")

keras.utils.set_random_seed(0)
model = AttentionClassifier(3, units=16, hidden=32)
model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.fit(X[:700], y[:700], epochs=8, batch_size=32, verbose=0)
print(f"AttentionClassifier held-out accuracy: {model.evaluate(X[700:], y[700:], verbose=0)[1]:.3f}"
      " (chance 0.333)")

with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "attention.keras"
    model.save(path)
    again = load_model(path)  # safe_mode=True; modelworks' own layers are registered
    same = np.array_equal(model.predict(X[700:], verbose=0), again.predict(X[700:], verbose=0))
    print(f"saved and reloaded {path.name}: identical predictions = {same}")
