"""The MLflow ``pyfunc`` flavor of a modelworks package (``loader_module``, no pickle).

A registered model is stored as an MLflow model directory whose ``data/package`` is the
modelworks package. ``mlflow.pyfunc.load_model`` imports this module and calls
:func:`_load_pyfunc`, which loads the package with :func:`modelworks.package.load` (hashes
verified, types audited) — plain MLflow users get the same safety.
"""

from __future__ import annotations


class ModelworksPyfunc:
    """What ``mlflow.pyfunc.load_model`` wraps: validates input with the package schema."""

    def __init__(self, package):
        self.package = package

    def predict(self, model_input, params=None):
        import pandas as pd

        frame = self.package.validate(model_input, ignore_extra=bool((params or {}).get("ignore_extra", False)))
        pred = self.package.model.predict(frame)
        if (params or {}).get("proba") and hasattr(self.package.model, "predict_proba"):
            proba = self.package.model.predict_proba(frame)
            classes = self.package.classes or list(range(proba.shape[1]))
            return pd.DataFrame(proba, columns=[f"proba_{c}" for c in classes], index=frame.index)
        return pred


def _load_pyfunc(data_path: str):
    from modelworks.package import load

    return ModelworksPyfunc(load(data_path))
