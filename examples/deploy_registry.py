"""Model versioning: the chapter's ``mlflow.start_run()`` / ``log_param`` / ``log_metric`` /
``mlflow.sklearn.log_model`` with modelworks' registry (MLflow underneath, sqlite by default).

Two runs become versions 1 and 2 of one registered model; aliases say which one is the
``champion``; loading by alias gives back the verified package. ``mlflow ui`` shows the runs.
"""

from pathlib import Path

from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score

import modelworks.package as mp
import modelworks.registry as registry
from modelworks.data import make_pipeline, train_test_split

out = Path("deploy-example").resolve()
uri = registry.local_tracking_uri(out)  # sqlite:///.../mlflow.db, artifacts in mlartifacts/
frame = load_breast_cancer(as_frame=True).frame
X, y = frame.drop(columns="target"), frame["target"]
X_train, X_test, y_train, y_test = train_test_split(X, y, task="binary", test_size=0.25, seed=0)

for version, (n_estimators, max_depth) in enumerate([(50, 3), (100, 5)], start=1):
    model = make_pipeline(X_train, RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth,
                                                          random_state=0)).fit(X_train, y_train)
    accuracy = accuracy_score(y_test, model.predict(X_test))
    path = mp.save(model, out / f"rf-{version}", X_sample=X_train, y_sample=y_train, task="binary",
                   target="target", metrics={"accuracy": accuracy}, seed=0)
    info = registry.register(path, "breast-cancer-rf", tracking_uri=uri,
                             alias="champion" if version == 1 else "challenger",
                             params={"n_estimators": n_estimators, "max_depth": max_depth})
    print(f"registered {info.ref} (accuracy {accuracy:.4f}, aliases {info.aliases}, run {info.run_id[:8]})")

# promote the challenger if it is better
versions = registry.list_versions("breast-cancer-rf", tracking_uri=uri)
best = max(versions, key=lambda v: mp.read_manifest(registry.package_path(v.ref, tracking_uri=uri))["metrics"]["accuracy"])
registry.set_alias("breast-cancer-rf", "champion", best.version, tracking_uri=uri)
for v in registry.list_versions("breast-cancer-rf", tracking_uri=uri):
    print(f"  version {v.version}: aliases {v.aliases}")

champion = mp.load_ref("models:/breast-cancer-rf@champion", tracking_uri=uri)
print(f"champion: version {best.version}, {champion.manifest['model']['estimator']}, "
      f"accuracy {accuracy_score(y_test, champion.predict(X_test)):.4f}")
print(f"browse the runs: mlflow ui --backend-store-uri {uri}")
