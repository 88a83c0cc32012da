"""Model serialization, the safe way: the chapter's ``joblib.dump({'model', 'version', 'features',
'preprocessor'}, 'model_package.pkl')`` as a modelworks package.

The package holds the fitted pipeline (preprocessor included) without pickle, and a manifest with
the version, features, input schema, metrics and data fingerprint that can be read without loading
anything. Loading verifies every hash and refuses a tampered file.
"""

from pathlib import Path

from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score

import modelworks.package as mp
from modelworks.data import make_pipeline, train_test_split
from modelworks.exceptions import IntegrityError

out = Path("deploy-example")
frame = load_breast_cancer(as_frame=True).frame
X, y = frame.drop(columns="target"), frame["target"].map({0: "malignant", 1: "benign"})
X_train, X_test, y_train, y_test = train_test_split(X, y, task="binary", test_size=0.25, seed=0)

# the preprocessor lives inside the pipeline, so the package cannot lose it
model = make_pipeline(X_train, RandomForestClassifier(n_estimators=100, max_depth=5, random_state=0))
model.fit(X_train, y_train)
auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])

# joblib.dump(model_package, 'model_package.pkl')  ->
path = mp.save(model, out / "model_package", X_sample=X_train, y_sample=y_train, task="binary",
               target="diagnosis", metrics={"roc_auc": auc}, seed=0, metadata={"version": "1.0"})
print(f"saved {path} ({', '.join(sorted(p.name for p in path.iterdir()))})")

# the metadata, without loading (or trusting) the model
manifest = mp.read_manifest(path)
print(f"format {manifest['format_version']}, model stored as {manifest['model']['format']}, "
      f"{len(manifest['features'])} features, classes {manifest['classes']}, "
      f"roc_auc {manifest['metrics']['roc_auc']:.4f}, data {manifest['training_data']['fingerprint'][:19]}...")

# loaded = joblib.load('model_package.pkl')  ->
loaded = mp.load(path)
same = (loaded.predict(X_test) == model.predict(X_test)).all()
print(f"reloaded predictions identical: {same}")

# a tampered package is refused before anything in it is parsed
blob = bytearray((path / "model.skops").read_bytes())
blob[len(blob) // 2] ^= 1
(path / "model.skops").write_bytes(bytes(blob))
try:
    mp.load(path)
except IntegrityError as e:
    print(f"tampered package refused: {type(e).__name__}")

print(mp.model_card(mp.save(model, out / "model_package", X_sample=X_train, task="binary",
                            metrics={"roc_auc": auc}, archive=True)).splitlines()[0])
