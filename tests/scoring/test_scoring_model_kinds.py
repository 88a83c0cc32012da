"""`predict` and `evaluate` work on every kind of model modelworks saves, read back from a package.

Each model is fitted here, saved with ``modelworks.package.save``, scored from a CSV through the
package, and compared with the in-process model it came from.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import modelworks
import modelworks.package as mp
from modelworks.data import make_pipeline
from modelworks.models import get_model


def _frame(n=240, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"age": rng.normal(40, 10, n), "plan": rng.choice(["a", "b", "c"], n),
                      "visits": rng.poisson(3, n).astype(float)})
    y = pd.Series(np.where(X["age"] + 5 * (X["plan"] == "b") + rng.normal(0, 3, n) > 42, "yes", "no"),
                  name="churn")
    return X, y


def _tuned(X, y):
    result = modelworks.tune("logreg", X, y, strategy="random", trials=3, cv=3, seed=0)
    return result.best_estimator


def _blend(X, y):
    from modelworks.ensemble import BlendClassifier

    return make_pipeline(X, BlendClassifier([("lr", "logreg"), ("rf", "rf")], cv=3)).fit(X, y)


def _stack(X, y):
    from modelworks.ensemble import StackingClassifier

    return make_pipeline(X, StackingClassifier([("lr", "logreg"), ("knn", "knn")], cv=3)).fit(X, y)


def _gam(X, y):
    from modelworks.stats import GAMClassifier

    return GAMClassifier().fit(X, y)


def _keras(X, y):
    pytest.importorskip("keras")
    from modelworks.deep import KerasMLPClassifier

    return make_pipeline(X, KerasMLPClassifier(hidden_units=(8,), epochs=3, random_state=0)).fit(X, y)


CLASSIFIERS = {
    "zoo xgboost": lambda X, y: make_pipeline(X, get_model("xgboost", "binary", seed=0)).fit(X, y),
    "tuned pipeline": _tuned,
    "blend": _blend,
    "stack": _stack,
    "gam": _gam,
    "keras mlp": _keras,
}


@pytest.mark.parametrize("kind", list(CLASSIFIERS))
def test_every_classifier_kind_scores_from_its_package(kind, tmp_path):
    X, y = _frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = CLASSIFIERS[kind](X, y)
    path = mp.save(model, tmp_path / "pkg", X_sample=X, y_sample=y, task="binary", target="churn")
    X.assign(churn=y).to_csv(tmp_path / "data.csv", index=False)

    scored = modelworks.predict(path, tmp_path / "data.csv", proba=True, ignore_extra=True, chunk_size=100)
    assert scored.chunks == 3
    assert (scored.predictions["prediction"].to_numpy() == model.predict(X)).all()
    np.testing.assert_allclose(scored.predictions[["proba_no", "proba_yes"]], model.predict_proba(X),
                               rtol=1e-5, atol=1e-6)

    evaluation = modelworks.evaluate(path, tmp_path / "data.csv", "churn", n_boot=50)
    accuracy = evaluation.metrics["accuracy"]
    assert accuracy == pytest.approx((model.predict(X) == y).mean())


def test_mixed_model_scores_known_and_new_groups_from_its_package(tmp_path):
    from modelworks.stats import MixedModel

    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(12), 10)
    frame = pd.DataFrame({"x": rng.normal(size=120), "g": [f"s{g}" for g in groups]})
    frame["y"] = 2 * frame["x"] + rng.normal(0, 1, 12)[groups] + rng.normal(0, 0.3, 120)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MixedModel("y ~ x", "g").fit(frame)
    path = mp.save(model, tmp_path / "mixed", X_sample=frame[["x", "g"]], y_sample=frame["y"],
                   task="regression", target="y")
    new = pd.concat([frame, frame.head(5).assign(g="unseen")], ignore_index=True)
    new.to_csv(tmp_path / "new.csv", index=False)

    scored = modelworks.predict(path, tmp_path / "new.csv", ignore_extra=True)
    np.testing.assert_allclose(scored.predictions["prediction"], model.predict(new[["x", "g"]]))
    evaluation = modelworks.evaluate(path, tmp_path / "new.csv", "y", n_boot=50)
    assert evaluation.metrics["r2"] > 0.5
