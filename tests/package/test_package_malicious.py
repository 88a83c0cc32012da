"""Crafted malicious packages: every one is refused with a typed error and nothing it carries runs.

Each case plants a payload whose side effect is a marker file. A control run shows the payload
really executes under the naive loader (pickle, joblib, numpy with allow_pickle, skops trusting
everything); then ``modelworks.package.load`` must raise a ``PackageError`` subclass, the marker
must not exist, and the payload module must not have been imported.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import modelworks.package as mp
from modelworks.exceptions import IntegrityError, PackageError, UnsafePackageError
from modelworks.package import _files, _manifest
from package_testkit import rehash, rewrite_skops  # noqa: F401 - other tests import them from here

EVIL = "evil_mw_payload"


# ------------------------------------------------------------------------------------ helpers


class _Exec:
    def __init__(self, code: str):
        self.code = code

    def __reduce__(self):
        return (exec, (self.code,))


def payload(marker: Path) -> bytes:
    """A pickle that creates ``marker`` when unpickled."""
    return pickle.dumps(_Exec(f"open({str(marker)!r}, 'w').write('pwned')"))


def read_manifest(pkg: Path) -> dict:
    return json.loads((pkg / "manifest.json").read_text())


def retype(schema: dict, old: tuple[str, str], new: tuple[str, str]) -> dict:
    def walk(node):
        if isinstance(node, dict):
            if node.get("__module__") == old[0] and node.get("__class__") == old[1]:
                node["__module__"], node["__class__"] = new
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(schema)
    return schema


def to_archive(pkg: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]] | None = None) -> Path:
    out = pkg.with_suffix(".mwpkg")
    with zipfile.ZipFile(out, "w") as zf:
        for name in sorted(_files.list_files(pkg)):
            zf.write(pkg / name, name)
        for info, data in members or []:
            zf.writestr(info, data)
        zf.comment = b"0" * 64
    _files.sign_archive(out)  # the checksum is not a secret: an attacker can sign too
    return out


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80)})
    y = np.where(X["a"] + X["b"] > 0, "yes", "no")
    model = Pipeline([("scale", StandardScaler()), ("model", LogisticRegression())]).fit(X, y)
    root = tmp_path_factory.mktemp("base")
    return mp.save(model, root / "pkg", X_sample=X, y_sample=y, task="binary", target="t"), X


@pytest.fixture
def env(base, tmp_path, monkeypatch):
    """A fresh copy of the package, a marker path, and an importable payload module."""
    pkg = tmp_path / "pkg"
    shutil.copytree(base[0], pkg)
    marker = tmp_path / "PWNED"
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / f"{EVIL}.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\n"
        "class Evil:\n"
        "    def __init__(self):\n        self.x = 1\n"
        "    def __setstate__(self, state):\n"
        f"        open({str(marker)!r}, 'w').write('built')\n"
        "    def fit(self, X, y=None):\n        return self\n"
        "    def transform(self, X):\n        return X\n"
    )
    monkeypatch.syspath_prepend(str(mods))
    sys.modules.pop(EVIL, None)
    yield {"pkg": pkg, "marker": marker, "tmp": tmp_path, "X": base[1]}
    sys.modules.pop(EVIL, None)


def _evil_skops(env) -> bytes:
    """A skops file whose pipeline holds the payload module's class (dumped, then forgotten)."""
    import importlib

    evil = importlib.import_module(EVIL)
    data = sio.dumps(Pipeline([("evil", evil.Evil())]))
    sys.modules.pop(EVIL, None)
    env["marker"].unlink()
    return data


# ------------------------------------------------------------------------------------ cases
# each case: build(env) -> (path to load, control or None, expected error type, load kwargs)


def _pickle_control(data):
    return lambda: pickle.loads(data)


def c_model_is_raw_pickle(env):
    data = payload(env["marker"])
    (env["pkg"] / "model.skops").write_bytes(data)
    rehash(env["pkg"])
    return env["pkg"], _pickle_control(data), UnsafePackageError


def c_model_is_joblib(env):
    import joblib

    joblib.dump(_Exec(f"open({str(env['marker'])!r}, 'w').write('pwned')"), env["pkg"] / "model.skops")
    rehash(env["pkg"])
    return env["pkg"], lambda: joblib.load(env["pkg"] / "model.skops"), UnsafePackageError


def c_model_is_pickle_not_rehashed(env):
    data = payload(env["marker"])
    (env["pkg"] / "model.skops").write_bytes(data)
    return env["pkg"], _pickle_control(data), IntegrityError


def c_reference_is_pickle(env):
    data = payload(env["marker"])
    (env["pkg"] / "reference.parquet").write_bytes(data)
    rehash(env["pkg"])
    return env["pkg"], _pickle_control(data), UnsafePackageError


def c_card_is_pickle(env):
    data = payload(env["marker"]) + b"\xff\xfe"
    (env["pkg"] / "MODEL_CARD.md").write_bytes(data)
    rehash(env["pkg"])
    return env["pkg"], _pickle_control(data), UnsafePackageError


def c_extra_unlisted_pickle(env):
    data = payload(env["marker"])
    (env["pkg"] / "model.pkl").write_bytes(data)
    return env["pkg"], _pickle_control(data), UnsafePackageError


def c_extra_listed_pickle(env):
    data = payload(env["marker"])
    (env["pkg"] / "model.pkl").write_bytes(data)
    rehash(env["pkg"])
    return env["pkg"], _pickle_control(data), UnsafePackageError


def c_hidden_pickle_in_subdir(env):
    data = payload(env["marker"])
    (env["pkg"] / "model.skops.d").mkdir()
    (env["pkg"] / "model.skops.d" / "x.pkl").write_bytes(data)
    rehash(env["pkg"])
    return env["pkg"], _pickle_control(data), UnsafePackageError


def c_manifest_says_pickle(env):
    data = payload(env["marker"])
    (env["pkg"] / "model.skops").unlink()
    (env["pkg"] / "model.pkl").write_bytes(data)
    m = read_manifest(env["pkg"])
    m["model"] = {"format": "pickle", "file": "model.pkl", "class": "x"}
    rehash(env["pkg"], m)
    return env["pkg"], _pickle_control(data), UnsafePackageError


def c_manifest_asks_for_trust(env):
    data = payload(env["marker"])
    (env["pkg"] / "model.skops").unlink()
    (env["pkg"] / "model.pkl").write_bytes(data)
    m = read_manifest(env["pkg"])
    m["model"] = {"format": "pickle", "file": "model.pkl", "trust_pickle": True}
    m["trust_pickle"] = True
    rehash(env["pkg"], m)
    return env["pkg"], _pickle_control(data), UnsafePackageError


def c_manifest_says_joblib(env):
    import joblib

    (env["pkg"] / "model.skops").unlink()
    joblib.dump(_Exec(f"open({str(env['marker'])!r}, 'w').write('pwned')"), env["pkg"] / "model.joblib")
    m = read_manifest(env["pkg"])
    m["model"] = {"format": "joblib", "file": "model.joblib"}
    rehash(env["pkg"], m)
    return env["pkg"], lambda: joblib.load(env["pkg"] / "model.joblib"), UnsafePackageError


def c_model_file_traversal(env):
    data = payload(env["marker"])
    (env["tmp"] / "outside.pkl").write_bytes(data)
    m = read_manifest(env["pkg"])
    m["model"]["file"] = "../outside.pkl"
    m["model"]["format"] = "pickle"
    rehash(env["pkg"], m)
    return env["pkg"], _pickle_control(data), UnsafePackageError


def c_model_file_absolute(env):
    data = payload(env["marker"])
    (env["tmp"] / "outside.pkl").write_bytes(data)
    m = read_manifest(env["pkg"])
    m["model"]["file"] = str(env["tmp"] / "outside.pkl")
    rehash(env["pkg"], m)
    return env["pkg"], _pickle_control(data), UnsafePackageError


def c_files_entry_traversal(env):
    data = payload(env["marker"])
    (env["tmp"] / "outside.pkl").write_bytes(data)
    m = read_manifest(env["pkg"])
    rehash(env["pkg"], m)
    m = read_manifest(env["pkg"])
    m["files"]["../outside.pkl"] = {"sha256": _files.sha256_file(env["tmp"] / "outside.pkl"), "bytes": len(data)}
    (env["pkg"] / "manifest.json").write_bytes(_manifest.dumps(m))
    return env["pkg"], _pickle_control(data), UnsafePackageError


def c_model_symlink_to_pickle(env):
    data = payload(env["marker"])
    (env["tmp"] / "outside.pkl").write_bytes(data)
    (env["pkg"] / "model.skops").unlink()
    os.symlink(env["tmp"] / "outside.pkl", env["pkg"] / "model.skops")
    return env["pkg"], _pickle_control(data), UnsafePackageError


def c_fifo_in_package(env):
    os.mkfifo(env["pkg"] / "pipe")
    return env["pkg"], None, UnsafePackageError


def c_skops_exec_function(env):
    code = f"open({str(env['marker'])!r}, 'w').write('pwned')"
    sio.dump(Pipeline([("f", FunctionTransformer(exec))]), env["pkg"] / "model.skops")
    rehash(env["pkg"])
    path = env["pkg"] / "model.skops"

    def control():
        trusted = sio.get_untrusted_types(file=path)
        sio.load(path, trusted=trusted).transform(code)
    return env["pkg"], control, UnsafePackageError


def c_skops_os_system(env):
    sio.dump(Pipeline([("f", FunctionTransformer(os.system))]), env["pkg"] / "model.skops")
    rehash(env["pkg"])
    path = env["pkg"] / "model.skops"

    def control():
        sio.load(path, trusted=sio.get_untrusted_types(file=path)).transform(f"touch {env['marker']}")
    return env["pkg"], control, UnsafePackageError


def c_skops_builtin_eval(env):
    sio.dump(FunctionTransformer(eval), env["pkg"] / "model.skops")
    rehash(env["pkg"])
    path = env["pkg"] / "model.skops"
    code = f"open({str(env['marker'])!r}, 'w').write('pwned')"

    def control():
        sio.load(path, trusted=sio.get_untrusted_types(file=path)).transform(code)
    return env["pkg"], control, UnsafePackageError


def c_skops_evil_class(env):
    (env["pkg"] / "model.skops").write_bytes(_evil_skops(env))
    rehash(env["pkg"])
    path = env["pkg"] / "model.skops"
    return env["pkg"], lambda: sio.load(path, trusted=sio.get_untrusted_types(file=path)), UnsafePackageError


def c_skops_retyped_to_evil(env):
    path = env["pkg"] / "model.skops"

    def edit(members):
        schema = retype(json.loads(members["schema.json"]), ("sklearn.preprocessing._data", "StandardScaler"),
                        (EVIL, "Evil"))
        members["schema.json"] = json.dumps(schema).encode()
    rewrite_skops(path, edit)
    rehash(env["pkg"])
    return env["pkg"], lambda: sio.load(path, trusted=sio.get_untrusted_types(file=path)), UnsafePackageError


def c_skops_retyped_to_popen(env):
    path = env["pkg"] / "model.skops"

    def edit(members):
        schema = retype(json.loads(members["schema.json"]), ("sklearn.preprocessing._data", "StandardScaler"),
                        ("subprocess", "Popen"))
        members["schema.json"] = json.dumps(schema).encode()
    rewrite_skops(path, edit)
    rehash(env["pkg"])
    return env["pkg"], None, UnsafePackageError


def c_skops_fake_sklearn_module(env):
    path = env["pkg"] / "model.skops"

    def edit(members):
        schema = retype(json.loads(members["schema.json"]), ("sklearn.preprocessing._data", "StandardScaler"),
                        ("sklearn.evil_mw_payload", "Evil"))
        members["schema.json"] = json.dumps(schema).encode()
    rewrite_skops(path, edit)
    rehash(env["pkg"])
    return env["pkg"], None, UnsafePackageError


def c_skops_modelworks_function(env):
    path = env["pkg"] / "model.skops"
    sio.dump(FunctionTransformer(shutil.rmtree), path)

    def edit(members):
        text = members["schema.json"].decode().replace('"shutil"', '"modelworks._io"').replace('"rmtree"', '"write_text"')
        members["schema.json"] = text.encode()
    rewrite_skops(path, edit)
    rehash(env["pkg"])
    return env["pkg"], None, UnsafePackageError


def c_skops_pickled_npy(env):
    path = env["pkg"] / "model.skops"
    buf = io.BytesIO()
    np.save(buf, np.array([_Exec(f"open({str(env['marker'])!r}, 'w').write('pwned')")], dtype=object),
            allow_pickle=True)
    evil_npy = buf.getvalue()
    replaced = []

    def edit(members):
        name = next(n for n in members if n.endswith(".npy"))
        members[name] = evil_npy
        replaced.append(name)
    rewrite_skops(path, edit)
    rehash(env["pkg"])
    return env["pkg"], lambda: np.load(io.BytesIO(evil_npy), allow_pickle=True), PackageError


def c_skops_not_a_zip_but_pickle_with_zip_tail(env):
    data = payload(env["marker"])
    # a pickle followed by a valid zip: some tools read the zip, pickle reads the front
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("x.txt", "x")
    (env["pkg"] / "model.skops").write_bytes(data + zbuf.getvalue())
    rehash(env["pkg"])
    return env["pkg"], _pickle_control(data), UnsafePackageError


def c_skops_zip_bomb(env):
    path = env["pkg"] / "model.skops"

    def edit(members):
        members["pad1.bin"] = b"0" * 100
        members["pad2.bin"] = b"0" * 100
    rewrite_skops(path, edit)
    raw = bytearray(path.read_bytes())
    for name in (b"pad1.bin", b"pad2.bin"):  # declare 3 GB each in the central directory
        at = raw.find(b"PK\x01\x02" + b"", raw.find(b"PK\x01\x02"))
        while at != -1:
            n = int.from_bytes(raw[at + 28:at + 30], "little")
            if raw[at + 46:at + 46 + n] == name:
                raw[at + 24:at + 28] = (3 * 10**9).to_bytes(4, "little")
                break
            at = raw.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(raw))
    rehash(env["pkg"])
    return env["pkg"], None, UnsafePackageError


def c_manifest_tampered_metric(env):
    text = (env["pkg"] / "manifest.json").read_text().replace('"task": "binary"', '"task": "regression"')
    (env["pkg"] / "manifest.json").write_text(text)
    return env["pkg"], None, IntegrityError


def c_model_byte_flipped(env):
    raw = bytearray((env["pkg"] / "model.skops").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (env["pkg"] / "model.skops").write_bytes(bytes(raw))
    return env["pkg"], None, IntegrityError


def c_model_appended_pickle(env):
    data = payload(env["marker"])
    with open(env["pkg"] / "model.skops", "ab") as f:
        f.write(data)
    return env["pkg"], _pickle_control(data), IntegrityError


def c_oversized_sparse_file(env):
    with open(env["pkg"] / "reference.parquet", "r+b") as f:
        f.truncate(5 * 1024**3)  # sparse: costs nothing on disk
    return env["pkg"], None, IntegrityError


def c_oversized_declared(env):
    with open(env["pkg"] / "reference.parquet", "r+b") as f:
        f.truncate(5 * 1024**3)
    m = read_manifest(env["pkg"])
    m["files"]["reference.parquet"] = {"sha256": "0" * 64, "bytes": 5 * 1024**3}
    (env["pkg"] / "manifest.json").write_bytes(_manifest.dumps(m))
    return env["pkg"], None, UnsafePackageError


def c_oversized_manifest(env):
    m = read_manifest(env["pkg"])
    m["metadata"] = {"padding": "x" * (9 * 1024**2)}
    (env["pkg"] / "manifest.json").write_bytes(_manifest.dumps(m))
    return env["pkg"], None, UnsafePackageError


def c_manifest_json_bomb(env):
    (env["pkg"] / "manifest.json").write_text("[" * 200_000 + "]" * 200_000)
    return env["pkg"], None, PackageError


def c_manifest_future_version(env):
    m = read_manifest(env["pkg"])
    m["format_version"] = 99
    rehash(env["pkg"], m)
    return env["pkg"], None, PackageError


def c_manifest_lists_itself(env):
    m = read_manifest(env["pkg"])
    m["files"]["manifest.json"] = {"sha256": "0" * 64, "bytes": 1}
    (env["pkg"] / "manifest.json").write_bytes(_manifest.dumps(m))
    return env["pkg"], None, PackageError


def c_native_os_system(env):
    m = read_manifest(env["pkg"])
    m["model"] = {"format": "native", "file": "model.skops", "class": "os.system"}
    rehash(env["pkg"], m)
    return env["pkg"], None, UnsafePackageError


def c_native_evil_class(env):
    m = read_manifest(env["pkg"])
    m["model"] = {"format": "native", "file": "model.skops", "class": f"{EVIL}.Evil"}
    rehash(env["pkg"], m)
    return env["pkg"], lambda: __import__(EVIL), UnsafePackageError


def c_native_modelworks_function(env):
    m = read_manifest(env["pkg"])
    m["model"] = {"format": "native", "file": "model.skops", "class": "modelworks._io.write_text"}
    rehash(env["pkg"], m)
    return env["pkg"], None, UnsafePackageError


def c_keras_not_keras_file(env):
    data = payload(env["marker"])
    (env["pkg"] / "model.skops").unlink()
    (env["pkg"] / "model.h5").write_bytes(data)
    m = read_manifest(env["pkg"])
    m["model"] = {"format": "keras", "file": "model.h5"}
    rehash(env["pkg"], m)
    return env["pkg"], _pickle_control(data), UnsafePackageError


def c_pipeline_final_pickle(env):
    data = payload(env["marker"])
    (env["pkg"] / "final").mkdir()
    (env["pkg"] / "final" / "model.pkl").write_bytes(data)
    m = read_manifest(env["pkg"])
    m["model"] = {**m["model"], "format": "pipeline", "final_step": "m",
                  "final": {"format": "pickle", "file": "final/model.pkl"}}
    rehash(env["pkg"], m)
    return env["pkg"], _pickle_control(data), PackageError


def c_archive_traversal(env):
    data = payload(env["marker"])
    return to_archive(env["pkg"], [("../escape.pkl", data)]), _pickle_control(data), UnsafePackageError


def c_archive_absolute(env):
    data = payload(env["marker"])
    info = zipfile.ZipInfo("x")
    info.filename = str(env["tmp"] / "abs.pkl")
    return to_archive(env["pkg"], [(info, data)]), _pickle_control(data), UnsafePackageError


def c_archive_symlink(env):
    info = zipfile.ZipInfo("link")
    info.external_attr = (0o120777 << 16)
    return to_archive(env["pkg"], [(info, b"/etc/passwd")]), None, UnsafePackageError


def c_archive_duplicate_member(env):
    data = payload(env["marker"])
    with pytest.warns(UserWarning, match="Duplicate name"):
        archive = to_archive(env["pkg"], [("model.skops", data)])
    return archive, _pickle_control(data), UnsafePackageError


def c_archive_model_is_pickle(env):
    data = payload(env["marker"])
    (env["pkg"] / "model.skops").write_bytes(data)
    rehash(env["pkg"])
    return to_archive(env["pkg"]), _pickle_control(data), UnsafePackageError


def c_archive_is_pickle(env):
    data = payload(env["marker"])
    path = env["tmp"] / "model.mwpkg"
    path.write_bytes(data)
    return path, _pickle_control(data), PackageError


def c_v1_manifest_with_pickle(env):
    data = payload(env["marker"])
    pkg = env["tmp"] / "v1"
    shutil.copytree(Path(__file__).parents[1] / "fixtures" / "packages" / "v1_iris_logreg", pkg)
    (pkg / "model.skops").write_bytes(data)
    m = json.loads((pkg / "manifest.json").read_text())
    import hashlib

    m["sha256"]["model.skops"] = hashlib.sha256(data).hexdigest()
    m["sizes"]["model.skops"] = len(data)
    (pkg / "manifest.json").write_text(json.dumps(m))
    return pkg, _pickle_control(data), UnsafePackageError


CASES = {name[2:]: fn for name, fn in sorted(globals().items()) if name.startswith("c_")}


def test_there_are_at_least_30_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", sorted(CASES))
def test_malicious_package_is_refused_and_nothing_runs(case, env):
    path, control, expected = CASES[case](env)
    marker = env["marker"]
    assert not marker.exists()
    if control is not None:  # the payload is real: the naive loader runs it
        try:
            control()
        except Exception:
            pass
        assert marker.exists(), f"control for {case} did not execute its payload"
        marker.unlink()
        sys.modules.pop(EVIL, None)
    before = set(sys.modules)
    with pytest.raises(expected) as info:
        mp.load(path)
    assert isinstance(info.value, PackageError)
    assert str(info.value)  # a message, not an empty error
    assert not marker.exists(), f"{case}: the payload ran"
    assert EVIL not in sys.modules, f"{case}: the payload module was imported"
    assert not any(m.split(".")[0] in ("subprocess_evil", EVIL) for m in set(sys.modules) - before)
    assert not (env["tmp"].parent / "escape.pkl").exists()


def test_trust_pickle_is_needed_per_call_and_then_works(tmp_path):
    class Unskopsable:  # a local class skops cannot save
        classes_ = np.array([0, 1])

        def predict(self, X):
            return np.zeros(len(X), int)

    X = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    global _PickledModel
    _PickledModel = Unskopsable
    Unskopsable.__qualname__ = "_PickledModel"
    with pytest.raises(PackageError, match="allow_pickle=True"):
        mp.save(Unskopsable(), tmp_path / "p", X_sample=X)
    path = mp.save(Unskopsable(), tmp_path / "p", X_sample=X, allow_pickle=True)
    assert mp.read_manifest(path)["model"]["format"] == "pickle"
    with pytest.raises(UnsafePackageError, match="trust_pickle=True"):
        mp.load(path)
    pkg = mp.load(path, trust_pickle=True)
    assert list(pkg.predict(X)) == [0, 0, 0]
    with pytest.raises(UnsafePackageError):  # the opt-in does not stick
        mp.load(path)
