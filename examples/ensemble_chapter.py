"""The chapter's stacking and blending, with modelworks.

The chapter stacks a random forest and an SVM under a logistic regression, and blends a random
forest, gradient boosting and a logistic regression with weights typed by hand (0.4/0.4/0.2).
modelworks does both as scikit-learn estimators, learns the blend weights on out-of-fold
predictions instead (never on the test split), and adds greedy ensemble selection.

Run: python examples/ensemble_chapter.py
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from modelworks.ensemble import (
    BlendClassifier,
    EnsembleSelectionClassifier,
    StackingClassifier,
)

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)

# --- stacking (the chapter: RF + SVM under a logistic regression, 5-fold out-of-fold predictions)
stacker = StackingClassifier(
    estimators=[
        ("rf", RandomForestClassifier(n_estimators=100, random_state=0)),
        # SVC(probability=True) is deprecated in scikit-learn 1.9: stacking uses the SVM's
        # decision_function instead, which is what the meta-learner needs anyway.
        ("svm", make_pipeline(StandardScaler(), SVC(random_state=0))),
    ],
    final_estimator=LogisticRegression(),
    cv=5,
).fit(X_train, y_train)

# --- blending: the chapter's members, hand weights vs weights learned on out-of-fold predictions
members = [
    ("rf", RandomForestClassifier(n_estimators=100, random_state=0)),
    ("gb", GradientBoostingClassifier(n_estimators=50, random_state=0)),
    ("lr", make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))),
]
hand = BlendClassifier(members, weights=[0.4, 0.4, 0.2]).fit(X_train, y_train)
learned = BlendClassifier(members, cv=5, random_state=0).fit(X_train, y_train)
selected = EnsembleSelectionClassifier(members, n_iter=25, cv=5, random_state=0).fit(X_train, y_train)

# Zoo names work too (built for the task, scaled when the model needs it):
zoo = BlendClassifier([("rf", "rf"), ("logreg", "logreg"), ("knn", "knn")]).fit(X_train, y_train)

print(f"breast cancer: {len(X_train)} training rows, {len(X_test)} held-out rows\n")
print(f"{'model':<28}{'weights':<28}{'log-loss':>10}{'accuracy':>10}")
rows = [(f"member {name}", "", est) for name, est in zip(learned.names_, learned.estimators_)]
rows += [("stack rf+svm -> logreg", "", stacker), ("hand blend", hand, hand), ("learned blend", learned, learned),
         ("ensemble selection", selected, selected), ("zoo blend rf/logreg/knn", zoo, zoo)]
for label, weighted, model in rows:
    proba = model.predict_proba(X_test)
    w = "/".join(f"{x:.2f}" for x in weighted.weights_) if weighted != "" else ""
    print(f"{label:<28}{w:<28}{log_loss(y_test, proba):>10.4f}{accuracy_score(y_test, model.predict(X_test)):>10.4f}")

# The blend is exactly the weighted sum of its members (what SHAP explanations rely on).
manual = sum(w * m.predict_proba(X_test) for w, m in zip(learned.weights_, learned.estimators_))
assert np.allclose(manual, learned.predict_proba(X_test))
print("\nlearned blend = sum(weights_[i] * estimators_[i].predict_proba(X)): OK")
