"""Free-text columns are features (TF-IDF inside the pipeline), not IDs."""

from __future__ import annotations

import numpy as np
import pandas as pd

import modelworks
from modelworks.data import column_kinds, feature_sources, is_text_column, make_pipeline, prepare

POSITIVE = ["great", "excellent", "love", "perfect", "sturdy", "recommend", "happy", "works"]
NEGATIVE = ["broken", "awful", "refund", "cheap", "disappointed", "useless", "returned", "poor"]
FILLER = ["the", "product", "arrived", "box", "after", "week", "color", "size", "it", "was", "my", "for",
          "daughter", "kitchen", "price", "and", "with", "battery", "screen", "cable", "shipping", "very"]


def reviews(n=1500, seed=0):
    """Short product reviews; the label is only in the words (the numeric column is noise)."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    texts = []
    for good in label:
        words = list(rng.choice(FILLER, rng.integers(5, 12)))
        cue = POSITIVE if (good if rng.uniform() < 0.9 else 1 - good) else NEGATIVE
        words += list(rng.choice(cue, rng.integers(1, 3)))
        rng.shuffle(words)
        texts.append(" ".join(words) + f" order {rng.integers(10**6)}")
    return pd.DataFrame({"review": texts, "stars_shown": rng.normal(size=n), "good": label})


def test_free_text_is_recognised_and_ids_and_categories_are_not():
    frame = reviews(300)
    assert is_text_column(frame["review"])
    assert not is_text_column(pd.Series([f"user-{i:05d}" for i in range(300)]))
    assert not is_text_column(pd.Series(["red car", "blue car", "green bus"] * 100))  # few levels
    assert not is_text_column(frame["stars_shown"])
    prepared = prepare(frame.assign(order_id=[f"A{i:06d}" for i in range(300)]), "good")
    assert "review" in prepared.X.columns and "review" not in prepared.dropped_columns
    assert "order_id" in prepared.dropped_columns
    assert column_kinds(prepared.X)["text"] == ["review"]


def test_text_features_live_in_the_pipeline_and_map_back_to_their_column():
    from sklearn.linear_model import LogisticRegression

    frame = reviews(400)
    X = frame.drop(columns=["good"])
    pipe = make_pipeline(X, LogisticRegression()).fit(X, frame["good"])
    names = list(pipe[:-1].get_feature_names_out())
    sources = feature_sources(pipe)
    assert {sources[n] for n in names} == {"review", "stars_shown"}
    assert sum(sources[n] == "review" for n in names) > 5
    # unseen words and missing text are fine at predict time
    new = pd.DataFrame({"review": ["never seen words here", None], "stars_shown": [0.1, 0.2]})
    assert pipe.predict_proba(new).shape == (2, 2)


def test_compare_learns_from_the_text_column():
    comparison = modelworks.rank_models(reviews(), "good", models=["logreg", "hgb"], cv=3)
    board = comparison.leaderboard.set_index("model")
    assert board.loc["logreg", "roc_auc_mean"] > 0.8
    assert board.loc["hgb", "roc_auc_mean"] > 0.75


def test_a_text_pipeline_saves_and_loads_as_a_package(tmp_path):
    from sklearn.linear_model import LogisticRegression

    from modelworks.package import load, save

    frame = reviews(300)
    X = frame.drop(columns=["good"])
    pipe = make_pipeline(X, LogisticRegression()).fit(X, frame["good"])
    path = save(pipe, tmp_path / "m", X_sample=X, y_sample=frame["good"], task="binary", target="good")
    assert np.allclose(load(path).predict_proba(X), pipe.predict_proba(X))
