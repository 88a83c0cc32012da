"""A/B testing two models, the chapter's second monitoring step, done with modelworks.

The chapter computes McNemar's chi-squared test by hand. ``compare_predictions`` picks the exact
binomial version when there are few discordant pairs, reports the difference with a CI and says
which model is better in one sentence; a paired bootstrap handles any metric, and ``compare_estimators``
compares two models by repeated cross-validation with the Nadeau-Bengio correction.
"""

from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from modelworks.monitor import compare_estimators, compare_predictions

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
model_a = RandomForestClassifier(n_estimators=50, random_state=0)
model_b = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
model_a.fit(X_train, y_train)
model_b.fit(X_train, y_train)

mcnemar = compare_predictions(
    y_test, model_a.predict(X_test), model_b.predict(X_test), names=("forest", "logistic")
)
print(mcnemar.verdict)
d = mcnemar.details
print(
    f"  discordant pairs: forest only right {d['a_only_right']}, logistic only right {d['b_only_right']}"
    f" -> {'exact binomial' if d['exact'] else 'chi-squared'} test"
)

auc = compare_predictions(
    y_test,
    model_a.predict_proba(X_test)[:, 1],
    model_b.predict_proba(X_test)[:, 1],
    test="bootstrap",
    metric="roc_auc",
    names=("forest", "logistic"),
    n_boot=1000,
)
print(auc.verdict)
loss = compare_predictions(
    y_test,
    model_a.predict_proba(X_test)[:, 1],
    model_b.predict_proba(X_test)[:, 1],
    test="bootstrap",
    metric="log_loss",
    names=("forest", "logistic"),
    n_boot=1000,
)
print(loss.verdict)

cv = compare_estimators(model_a, model_b, X, y, cv=5, repeats=2, names=("forest", "logistic"))
print(cv.verdict)
