"""A Keras MLP as a scikit-learn estimator: cross-validation, pipelines, safe saving."""

from __future__ import annotations

import tempfile

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import cross_val_score, train_test_split

from modelworks.deep import KerasMLPClassifier

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
clf = KerasMLPClassifier(hidden_units=(32,), epochs=30, learning_rate=3e-3, random_state=0)
scores = cross_val_score(clf, X, y, cv=3, scoring="roc_auc")
print(f"KerasMLPClassifier 3-fold ROC AUC: {scores.mean():.3f} +/- {scores.std():.3f}")

X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
clf.fit(X_tr, y_tr)
print(f"held-out accuracy: {clf.score(X_te, y_te):.3f} after {clf.n_iter_} epochs")
with tempfile.TemporaryDirectory() as tmp:
    clf.save_native(f"{tmp}/mlp")  # params.json + model.keras, no pickle
    loaded = KerasMLPClassifier.load_native(f"{tmp}/mlp")
    same = np.array_equal(loaded.predict_proba(X_te), clf.predict_proba(X_te))
    print(f"save_native -> load_native: identical probabilities = {same}")
