"""XGBoost's classifier with any class labels, like every other scikit-learn classifier.

``xgboost.XGBClassifier`` only accepts labels ``0..K-1``; users' targets are strings or
arbitrary integers. This subclass encodes labels in ``fit`` and decodes in ``predict`` and
keeps everything else (parameters, TreeSHAP, native booster) untouched.

This module is imported only when the zoo builds an XGBoost classifier, never by
``import modelworks``.
"""

from __future__ import annotations

import numpy as np
import xgboost  # noqa: TID253 - imported lazily by the zoo; subclassing needs the class itself


class XGBClassifier(xgboost.XGBClassifier):
    """``xgboost.XGBClassifier`` that accepts any class labels (strings, non-contiguous ints)."""

    def fit(self, X, y, **kwargs):
        from sklearn.preprocessing import LabelEncoder

        encoder = LabelEncoder().fit(np.asarray(y))
        self.__dict__.pop("labels_", None)  # xgboost checks classes_ during fit: expose codes then
        super().fit(X, encoder.transform(np.asarray(y)), **kwargs)
        self.labels_ = encoder.classes_
        return self

    @property
    def classes_(self) -> np.ndarray:
        labels = self.__dict__.get("labels_")
        return labels if labels is not None else np.arange(self.n_classes_)

    def predict(self, X, **kwargs):
        raw = super().predict(X, **kwargs)
        if kwargs.get("output_margin"):
            return raw  # margins are floats, not class codes
        return self.classes_[np.asarray(raw).astype(int)]
