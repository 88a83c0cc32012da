"""Generate hostile model packages: every trick an attacker who controls every byte can play.

Each variant starts from a real package saved by modelworks, edits its skops tree, files or
manifest, and then recomputes every hash, the manifest checksum and the archive signature (none
of them is a secret). A variant's payload, if it ever ran, would create the marker file, import
a sentinel module, open a socket or eat memory; the suite (``test_package_hostile.py``) loads
each through the Python API, ``package inspect``, ``predict`` and ``serve`` and checks that all
are refused with a typed error and that nothing ran.

Run on its own to look at the variants::

    python tests/package/hostile/make_hostile.py OUT_DIR MARKER_PATH

Families:

``reexport``   standard-library callables addressed through scikit-learn modules that import
               them (``sklearn.utils._testing.groupby`` ...), built as objects, reduce
               constructors, types and functions;
``direct``     dangerous callables named by their own modules (``builtins.exec``, ``posix.system``,
               ``numpy.memmap``, ``gzip.GzipFile``, ``subprocess.Popen`` ...), called at load with
               arguments from the file;
``node``       skops nodes that call names from the file: method, partial, operator getters,
               constructor-from-reduce, defaultdict factories, unknown loaders;
``import``     names in modules with import-time effects (``numpy.f2py.__main__``, ``this``,
               ``antigravity``, a planted payload module);
``param``      callables hidden in estimator parameters (FunctionTransformer, metric, tokenizer);
``numpy``      random-generator names, array nodes pointing nowhere, object arrays of gadgets;
``tree``       crafted tree structures whose indices point outside their arrays;
``memory``     members that inflate far beyond the file (zip bombs), deep nesting, huge trees;
``container``  path traversal, absolute names, symlinks, stray files, native-format class
               hijacks, format-1 manifests, signed archives.
"""

from __future__ import annotations

import copy
import io
import itertools
import json
import os
import shutil
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SENTINEL = "mw_hostile_sentinel"  # a module planted next to the variants; importing it creates the marker
SENTINEL_MODULES = (SENTINEL, "this", "antigravity", "numpy.f2py.__main__", "idlelib.idle", "turtle")

_ids = itertools.count(7_000_000_000)


@dataclass
class Variant:
    name: str
    family: str
    path: Path


# ----------------------------------------------------------------------------- node builders


def _node(loader: str, module: str, cls: str, **extra) -> dict:
    return {"__class__": cls, "__module__": module, "__loader__": loader, "__id__": next(_ids), **extra}


def _json(value) -> dict:
    return _node("JsonNode", "builtins", "str", content=json.dumps(value), is_json=True)


def _tuple(*items) -> dict:
    return _node("TupleNode", "builtins", "tuple", content=list(items))


def _dict(**items) -> dict:
    return _node("DictNode", "builtins", "dict", content=dict(items),
                 key_types=_node("ListNode", "builtins", "list",
                                 content=[_node("TypeNode", "builtins", "str") for _ in items]))


def _value(v) -> dict:
    if isinstance(v, dict) and "__loader__" in v:
        return v
    if isinstance(v, list | tuple):
        return _tuple(*map(_value, v))
    return _json(v)


def _reduce_call(name: str, *args) -> dict:
    """A LossNode: skops calls ``name(*args)`` while loading (its constructor is taken from the node)."""
    module, _, cls = name.rpartition(".")
    return _node("LossNode", module, cls, __reduce__={"args": _tuple(*map(_value, args))}, content=_dict())


def _ctor_call(name: str, *args) -> dict:
    module, _, cls = name.rpartition(".")
    return _node("ConstructorFromReduceNode", module, cls, content=_tuple(*map(_value, args)))


def _object(name: str, **attrs) -> dict:
    module, _, cls = name.rpartition(".")
    return _node("ObjectNode", module, cls, content=_dict(**attrs))


def _type(name: str) -> dict:
    module, _, cls = name.rpartition(".")
    return _node("TypeNode", module, cls)


def _function(name: str) -> dict:
    module, _, cls = name.rpartition(".")
    return _node("FunctionNode", module, cls)


# ----------------------------------------------------------------------------- tree editing


def _find(tree, pred) -> list[dict]:
    out, stack = [], [tree]
    while stack:
        obj = stack.pop()
        if isinstance(obj, dict):
            if pred(obj):
                out.append(obj)
            stack.extend(obj.values())
        elif isinstance(obj, list):
            stack.extend(obj)
    return out


def _by_class(cls: str):
    return lambda n: n.get("__class__") == cls and "__loader__" in n


def as_step(gadget: dict):
    """Put the gadget where the pipeline's first step estimator is."""
    def edit(tree):
        step = tree["content"]["content"]["steps"]["content"][0]
        step["content"][1] = gadget
    return edit


def as_func(gadget: dict):
    """Make the gadget the FunctionTransformer's ``func`` (called with the request's data)."""
    def edit(tree):
        ft = _find(tree, _by_class("FunctionTransformer"))[0]
        ft["content"]["content"]["func"] = gadget
    return edit


def as_attribute(gadget: dict):
    """Hide the gadget in an extra attribute of the final estimator."""
    def edit(tree):
        est = _find(tree, _by_class("LogisticRegression"))[0]
        est["content"]["content"]["hidden_"] = gadget
        est["content"]["key_types"]["content"].append(_node("TypeNode", "builtins", "str"))
    return edit


def in_list(gadget: dict):
    """Bury the gadget in a list inside a tuple inside a dict attribute."""
    return as_attribute(_dict(nested=_node("ListNode", "builtins", "list", content=[_tuple(gadget)])))


CARRIERS = {"step": as_step, "func": as_func, "attr": as_attribute, "list": in_list}


# ----------------------------------------------------------------------------- package plumbing


def _read_skops(pkg: Path) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(pkg / "model.skops") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    return json.loads(members["schema.json"]), members


class Zeros:
    """A member written as ``head`` then ``size`` zero bytes, streamed (a bomb without the memory)."""

    def __init__(self, head: bytes, size: int):
        self.head, self.size = head, size


def _write_skops(pkg: Path, tree: dict | None, members: dict) -> None:
    if tree is not None:
        members = {**members, "schema.json": json.dumps(tree).encode()}
    with zipfile.ZipFile(pkg / "model.skops", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, data in members.items():
            if isinstance(data, Zeros):
                with zf.open(n, "w", force_zip64=True) as f:
                    f.write(data.head)
                    chunk = b"\0" * (16 * 1024**2)
                    left = data.size
                    while left > 0:
                        f.write(chunk[:left])
                        left -= len(chunk)
            else:
                zf.writestr(n, data)


def rehash(pkg: Path, manifest: dict | None = None) -> None:
    """Recompute every file hash and the manifest's own checksum, as an attacker can."""
    from modelworks.package import _files, _manifest

    if manifest is None:
        manifest = json.loads((pkg / "manifest.json").read_text())
    if manifest.get("format_version") == 1:
        files = {n: p for n, p in _files.list_files(pkg).items() if n != "manifest.json"}
        manifest["sha256"] = {n: _files.sha256_file(pkg / n) for n in files}
        manifest["sizes"] = files
        (pkg / "manifest.json").write_text(json.dumps(manifest))
        return
    files = _files.list_files(pkg)
    files.pop("manifest.json", None)
    manifest["files"] = {n: {"sha256": _files.sha256_file(pkg / n), "bytes": s} for n, s in files.items()}
    (pkg / "manifest.json").write_bytes(_manifest.dumps(manifest))


def to_archive(pkg: Path) -> Path:
    from modelworks.package import _files

    out = pkg.with_suffix(".mwpkg")
    _files.write_archive(pkg, out)  # signed: the signature is a checksum anyone can compute
    shutil.rmtree(pkg)
    return out


# ----------------------------------------------------------------------------- base packages


def build_bases(out: Path) -> dict[str, Path]:
    """Small real packages to start from: a linear pipeline, a forest, boosted trees, k-NN."""
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    import modelworks.package as mp

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120)})
    y = np.where(X["a"] + X["b"] > 0, "yes", "no")
    models = {
        "pipe": Pipeline([("abs", FunctionTransformer(np.absolute)), ("scale", StandardScaler()),
                          ("model", LogisticRegression())]),
        "forest": RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0),
        "hgb": HistGradientBoostingClassifier(max_iter=3, random_state=0),
        "knn": KNeighborsClassifier(n_neighbors=3, algorithm="kd_tree", leaf_size=5),
    }
    bases = {}
    for name, model in models.items():
        bases[name] = mp.save(model.fit(X, y), out / f"base-{name}", X_sample=X, y_sample=y,
                              task="binary", target="t")
    X.to_csv(out / "data.csv", index=False)
    return bases


def reexport_addresses(limit_per_target: int = 3) -> dict[str, list[str]]:
    """Where scikit-learn modules re-export standard-library callables (name -> addresses).

    These are the addresses the old reachability audit trusted ("an attribute of a scikit-learn
    module"); found by walking scikit-learn's modules, so new re-exports are covered too.
    """
    import collections
    import functools
    import gzip
    import importlib
    import operator
    import pathlib
    import pkgutil
    import shutil as _shutil
    import subprocess
    import threading
    import warnings

    import numpy as np
    import sklearn

    targets = {
        itertools.chain: "itertools.chain", itertools.groupby: "itertools.groupby",
        itertools.product: "itertools.product", itertools.starmap: "itertools.starmap",
        functools.partial: "functools.partial", functools.reduce: "functools.reduce",
        operator.attrgetter: "operator.attrgetter", operator.itemgetter: "operator.itemgetter",
        operator.methodcaller: "operator.methodcaller", pathlib.Path: "pathlib.Path",
        gzip.GzipFile: "gzip.GzipFile", threading.Thread: "threading.Thread",
        np.memmap: "numpy.memmap", subprocess.Popen: "subprocess.Popen",
        _shutil.rmtree: "shutil.rmtree", collections.defaultdict: "collections.defaultdict",
        np.load: "numpy.load", np.save: "numpy.save", open: "builtins.open",
        importlib.import_module: "importlib.import_module",
    }
    found: dict[str, list[str]] = {v: [] for v in targets.values()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = [m.name for m in pkgutil.walk_packages(sklearn.__path__, "sklearn.")
                 if ".tests" not in m.name and "externals" not in m.name]
        for name in names:
            try:
                module = importlib.import_module(name)
            except Exception:
                continue
            for attr, obj in list(vars(module).items()):
                try:
                    key = targets.get(obj)
                except TypeError:
                    continue
                if key and len(found[key]) < limit_per_target:
                    found[key].append(f"{name}.{attr}")
    return {k: v for k, v in found.items() if v}


# ----------------------------------------------------------------------------- the variants


def _skops_variant(bases, out, name, family, base, edit, *, archive=False) -> Variant:
    pkg = out / name
    shutil.copytree(bases[base], pkg)
    tree, members = _read_skops(pkg)
    tree = copy.deepcopy(tree)
    result = edit(tree, members)
    if result is not None:
        tree, members = result
    _write_skops(pkg, tree, members)
    rehash(pkg)
    return Variant(name, family, to_archive(pkg) if archive else pkg)


def _with_tree(edit_tree: Callable[[dict], None]):
    def edit(tree, members):
        edit_tree(tree)
    return edit


def generate(out: Path, marker: Path) -> list[Variant]:
    """Write every hostile variant under ``out``; return them (at least 100)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{SENTINEL}.py").write_text(
        f"open({str(marker)!r}, 'a').write('imported\\n')\n"
        "class Evil:\n"
        "    def __setstate__(self, state):\n"
        f"        open({str(marker)!r}, 'a').write('built\\n')\n"
        "def run(*args, **kwargs):\n"
        f"    open({str(marker)!r}, 'a').write('called\\n')\n"
    )
    bases = build_bases(out)
    m = str(marker)
    variants: list[Variant] = []

    def add(name, family, edit, base="pipe", archive=False):
        variants.append(_skops_variant(bases, out, name, family, base, edit, archive=archive))

    # -- reexport: the gadget family of the report, each address as object, reduce, type, function
    for target, addresses in sorted(reexport_addresses().items()):
        for i, address in enumerate(addresses):
            tag = f"{target.replace('.', '_')}-{i}"
            add(f"reexport-reduce-{tag}", "reexport", _with_tree(as_step(_reduce_call(address, m, "wb"))))
            add(f"reexport-object-{tag}", "reexport", _with_tree(as_attribute(_object(address))))
            if i == 0:
                add(f"reexport-type-{tag}", "reexport", _with_tree(as_func(_type(address))))
                add(f"reexport-function-{tag}", "reexport", _with_tree(as_func(_function(address))))

    # -- direct: dangerous callables, called at load with arguments from the file
    direct = {
        "exec": ("builtins.exec", (f"open({m!r}, 'a').write('exec')",)),
        "eval": ("builtins.eval", (f"open({m!r}, 'a').write('eval')",)),
        "open": ("builtins.open", (m, "w")),
        "system": ("posix.system", (f"touch {m}",)),
        "os-system": ("os.system", (f"touch {m}",)),
        "popen": ("subprocess.Popen", (["touch", m],)),
        "getoutput": ("subprocess.getoutput", (f"touch {m}",)),
        "memmap": ("numpy.memmap", (m, "uint8", "w+", 0, [1])),
        "open-memmap": ("numpy.lib.format.open_memmap", (m, "w+", "uint8", [1])),
        "gzip": ("gzip.GzipFile", (m, "wb")),
        "np-save": ("numpy.save", (m, 1)),
        "np-savetxt": ("numpy.savetxt", (m, [1])),
        "np-load": ("numpy.load", (m,)),
        "np-fromfile": ("numpy.fromfile", (m,)),
        "import-module": ("importlib.import_module", (SENTINEL,)),
        "dunder-import": ("builtins.__import__", (SENTINEL,)),
        "thread": ("threading.Thread", ()),
        "listener": ("multiprocessing.connection.Listener", (["127.0.0.1", 0],)),
        "socket": ("socket.create_server", (["127.0.0.1", 0],)),
        "rmtree": ("shutil.rmtree", (m,)),
        "path-touch": ("pathlib.Path.touch", (m,)),
        "pydoc-pipepager": ("pydoc.pipepager", ("x", f"touch {m}")),
        "code-interact": ("code.interact", ()),
        "webbrowser": ("webbrowser.open", ("file:///",)),
        "torch-load": ("torch.load", (m,)),
        "dask-compute": ("dask.compute", ()),
    }
    for tag, (name, args) in direct.items():
        add(f"direct-reduce-{tag}", "direct", _with_tree(as_step(_reduce_call(name, *args))))
        add(f"direct-function-{tag}", "direct", _with_tree(as_func(_function(name))))
    for tag in ("exec", "open", "system", "memmap", "gzip"):
        name, args = direct[tag]
        add(f"direct-ctor-{tag}", "direct", _with_tree(in_list(_ctor_call(name, *args))))
        add(f"direct-tree-{tag}", "direct", _with_tree(as_attribute(
            _node("TreeNode", *name.rsplit(".", 1), __reduce__={"args": _tuple(*map(_value, args))},
                  content=_dict()))))

    # -- node: loaders that call names from the file
    arr = _find(_read_skops(bases["pipe"])[0], lambda n: n.get("__loader__") == "NdArrayNode")[0]
    add("node-method-ndarray-tofile", "node", _with_tree(as_func(
        _node("MethodNode", "numpy", "ndarray", content={"func": "tofile", "obj": copy.deepcopy(arr)}))))
    lr = lambda: _object("sklearn.linear_model._logistic.LogisticRegression")  # noqa: E731
    for meth in ("__reduce_ex__", "set_params", "__init_subclass__", "__class__"):
        add(f"node-method-{meth.strip('_')}", "node", _with_tree(as_func(
            _node("MethodNode", "sklearn.linear_model._logistic", "LogisticRegression",
                  content={"func": meth, "obj": lr()}))))
    for tag, func in (("system", "posix.system"), ("open", "builtins.open"), ("log1p", "numpy.log1p"),
                      ("exec", "builtins.exec")):
        add(f"node-partial-{tag}", "node", _with_tree(as_func(_node(
            "PartialNode", "functools", "partial",
            content={"func": _function(func), "args": _tuple(_json(f"touch {m}")), "kwds": _dict(),
                     "namespace": _dict()}))))
    for op, args in (("attrgetter", ["__class__.__init__.__globals__"]), ("itemgetter", ["os"]),
                     ("methodcaller", ["system", f"touch {m}"]), ("attrgetter", ["__reduce__"])):
        add(f"node-operator-{op}-{len(variants)}", "node", _with_tree(as_func(_node(
            "OperatorFuncNode", "operator", op, attrs=_tuple(*map(_json, args))))))
    add("node-defaultdict-system", "node", _with_tree(as_attribute(_node(
        "DefaultDictNode", "collections", "defaultdict",
        content={"main": _dict(), "default_factory": _function("posix.system")}))))
    add("node-defaultdict-type", "node", _with_tree(as_attribute(_node(
        "DefaultDictNode", "collections", "defaultdict",
        content={"main": _dict(), "default_factory": _type("subprocess.Popen")}))))
    for loader in ("EvilNode", "_DictWithDeprecatedKeysNode", "ReduceNode", ""):
        add(f"node-loader-{loader or 'empty'}", "node", _with_tree(as_attribute(
            _node(loader, "builtins", "dict", content=_dict()))))
    add("node-dunder-name", "node", _with_tree(as_attribute(_object("builtins.__builtins__"))))
    add("node-nameless", "node", _with_tree(as_attribute(_node("ObjectNode", "", "", content=_dict()))))
    add("node-json-class", "node", _with_tree(as_attribute(
        _node("TypeNode", "builtins", "eval"))))

    # -- import: names whose module runs code when imported
    for module in (SENTINEL, "this", "antigravity", "numpy.f2py.__main__", "idlelib.idle", "turtle",
                   f"sklearn.{SENTINEL}"):
        for how, make in (("object", lambda n: as_attribute(_object(n))),
                          ("type", lambda n: as_func(_type(n))),
                          ("function", lambda n: as_func(_function(n)))):
            add(f"import-{how}-{module.replace('.', '_')}", "import",
                _with_tree(make(f"{module}.{'Evil' if how == 'object' else 'run'}")))

    # -- param: callables in estimator parameters
    for tag, gadget in (("inverse-system", _function("posix.system")),
                        ("inverse-exec", _function("builtins.exec"))):
        def edit(tree, _m=None, g=gadget):
            ft = _find(tree, _by_class("FunctionTransformer"))[0]
            ft["content"]["content"]["inverse_func"] = g
        add(f"param-{tag}", "param", edit)
    for attr, gadget in (("kw_args", _dict(cmd=_reduce_call("posix.system", f"touch {m}"))),
                         ("feature_names_out", _function("builtins.eval"))):
        def edit(tree, _m=None, a=attr, g=gadget):
            ft = _find(tree, _by_class("FunctionTransformer"))[0]
            ft["content"]["content"][a] = g
        add(f"param-{attr}", "param", edit)

    def knn_metric(tree, _m=None):
        est = _find(tree, _by_class("KNeighborsClassifier"))[0]
        est["content"]["content"]["metric"] = _function("posix.system")
    add("param-knn-metric", "param", knn_metric, base="knn")

    # -- numpy: random generators, arrays
    def bitgen(name):
        def edit(tree, _m=None):
            gen = _node("RandomGeneratorNode", "numpy.random._generator", "Generator", content={
                "bit_generator": _dict(bit_generator=_json(name), state=_dict()),
                "seed_seq": _dict()})
            as_attribute(gen)(tree)
        return edit
    for name in ("seed", "set_bit_generator", "_pickle", "BitGenerator"):
        add(f"numpy-bitgen-{name}", "numpy", bitgen(name))
    add("numpy-array-missing-file", "numpy", _with_tree(as_attribute(
        _node("NdArrayNode", "numpy", "ndarray", type="numpy", file="../../etc/passwd"))))
    add("numpy-array-as-memmap", "numpy", _with_tree(as_attribute(
        _node("NdArrayNode", "numpy", "memmap", type="json", content=[_json(m)], shape=_tuple(_json(1))))))
    add("numpy-object-array-gadget", "numpy", _with_tree(as_attribute(
        _node("NdArrayNode", "numpy", "ndarray", type="json",
              content=[_reduce_call("posix.system", f"touch {m}")], shape=_tuple(_json(1))))))
    add("numpy-array-odd-kind", "numpy", _with_tree(as_attribute(
        _node("NdArrayNode", "numpy", "ndarray", type="pickle", file="x.npy"))))

    # -- tree: crafted indices (sklearn Tree, HGB TreePredictor, KD-tree)
    import numpy as np

    def npy_edit(base_class, field_edit):
        def edit(tree, members):
            import numpy.lib.format as fmt
            changed = False
            for name, data in list(members.items()):
                if not name.endswith(".npy"):
                    continue
                a = np.load(io.BytesIO(data), allow_pickle=False)
                b = field_edit(a)
                if b is not None:
                    buf = io.BytesIO()
                    fmt.write_array(buf, b, allow_pickle=False)
                    members[name] = buf.getvalue()
                    changed = True
            assert changed, base_class
            return tree, members
        return edit

    def structured(field, change):
        """Edit the structured arrays that have ``field`` (the node arrays of a tree)."""
        def f(a):
            if a.dtype.names and field in a.dtype.names:
                a = a.copy()
                change(a)
                return a
            return None
        return f

    def tree_nodes(change):
        return structured("left_child", change)

    def hgb_nodes(change):
        return structured("bitset_idx", change)

    def _set(field, value):
        def change(a):
            a[field][0] = value
        return change

    add("tree-left-child-out-of-range", "tree", npy_edit("Tree", tree_nodes(_set("left_child", 10**6))), base="forest")
    add("tree-right-child-negative", "tree", npy_edit("Tree", tree_nodes(_set("right_child", -7))), base="forest")
    add("tree-feature-out-of-range", "tree", npy_edit("Tree", tree_nodes(_set("feature", 999))), base="forest")

    add("tree-hgb-left-out-of-range", "tree", npy_edit("TreePredictor", hgb_nodes(_set("left", 60000))), base="hgb")
    add("tree-hgb-categorical-bitset", "tree", npy_edit("TreePredictor", hgb_nodes(
        lambda a: (a["is_categorical"].__setitem__(0, 1), a["bitset_idx"].__setitem__(0, 50000)))), base="hgb")

    def kd_idx(a):
        if a.dtype.kind == "i" and a.ndim == 1 and len(a) == 120 and sorted(a.tolist()) == list(range(120)):
            a = a.copy()
            a[0] = 10**7
            return a
        return None
    add("tree-kd-index-out-of-range", "tree", npy_edit("KDTree", kd_idx), base="knn")

    # -- memory: bombs, nesting, sheer size
    def bomb(size):
        def edit(tree, members):
            name = next(n for n in members if n.endswith(".npy"))
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (size,)})
            members[name] = Zeros(header.getvalue(), size)
            return tree, members
        return edit
    add("memory-array-inflates-1gib", "memory", bomb(1024**3))
    add("memory-array-inflates-300mib", "memory", bomb(300 * 1024**2))

    def deep(tree, members):
        node = _json(1)
        for _ in range(3000):
            node = _node("ListNode", "builtins", "list", content=[node])
        as_attribute(node)(tree)
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(50_000)
        try:
            return None, {**members, "schema.json": json.dumps(tree).encode()}
        finally:
            sys.setrecursionlimit(limit)
    add("memory-deep-nesting", "memory", deep)

    def wide(tree, members):
        as_attribute(_node("ListNode", "builtins", "list", content=[{"x": i} for i in range(1_100_000)]))(tree)
    add("memory-a-million-nodes", "memory", wide)

    def schema_bomb(tree, members):
        return None, {**members, "schema.json": Zeros(json.dumps(tree).encode(), 300 * 1024**2)}
    add("memory-schema-300mib", "memory", schema_bomb)

    # -- container: the package around the model
    def member_named(fname):
        def edit(tree, members):
            members[fname] = b"x"
            return tree, members
        return edit
    add("container-skops-traversal", "container", member_named("../../escape.npy"))
    add("container-skops-absolute", "container", member_named("/tmp/abs.npy"))
    add("container-skops-backslash", "container", member_named("..\\..\\win.npy"))

    def no_schema(tree, members):
        members.pop("schema.json")
        return None, members
    def pickled_schema(tree, members):
        import pickle
        return None, {**members, "schema.json": pickle.dumps({"x": 1})}
    add("container-skops-no-schema", "container", no_schema)
    add("container-skops-pickled-schema", "container", pickled_schema)

    for tag, cls in (("f2py", "numpy.f2py.__main__.main"), ("cli", "modelworks.cli._main.main"),
                     ("sentinel", f"{SENTINEL}.Evil"), ("os", "os.system")):
        pkg = out / f"container-native-class-{tag}"
        shutil.copytree(bases["pipe"], pkg)
        man = json.loads((pkg / "manifest.json").read_text())
        man["model"] = {"format": "native", "file": "model.skops", "class": cls}
        rehash(pkg, man)
        variants.append(Variant(pkg.name, "container", pkg))

    pkg = out / "container-symlink-to-passwd"
    shutil.copytree(bases["pipe"], pkg)
    (pkg / "MODEL_CARD.md").unlink()
    os.symlink("/etc/passwd", pkg / "MODEL_CARD.md")
    variants.append(Variant(pkg.name, "container", pkg))

    pkg = out / "container-stray-file"
    shutil.copytree(bases["pipe"], pkg)
    (pkg / "sitecustomize.py").write_text(f"open({m!r}, 'w')\n")
    rehash(pkg)
    variants.append(Variant(pkg.name, "container", pkg))

    pkg = out / "container-hash-mismatch"
    shutil.copytree(bases["pipe"], pkg)
    tree, members = _read_skops(pkg)
    as_step(_reduce_call("posix.system", f"touch {m}"))(tree)
    _write_skops(pkg, tree, members)  # not rehashed
    variants.append(Variant(pkg.name, "container", pkg))

    # the same gadgets from signed archives and from a format-1 manifest
    for tag, (name, args) in list(direct.items())[:6]:
        add(f"archive-reduce-{tag}", "container", _with_tree(as_step(_reduce_call(name, *args))), archive=True)
    v1 = Path(__file__).parents[2] / "fixtures" / "packages" / "v1_iris_logreg"
    for tag, gadget in (("system", _reduce_call("posix.system", f"touch {m}")),
                        ("reexport-groupby", _object("sklearn.utils._testing.groupby")),
                        ("operator", _node("OperatorFuncNode", "operator", "attrgetter", attrs=_tuple(_json("x"))))):
        pkg = out / f"v1-{tag}"
        shutil.copytree(v1, pkg)
        tree, members = _read_skops(pkg)
        tree["content"]["content"]["steps"]["content"][0]["content"][1] = gadget
        _write_skops(pkg, tree, members)
        rehash(pkg)
        variants.append(Variant(pkg.name, "container", pkg))
    pkg = out / "archive-traversal-member"
    shutil.copytree(bases["pipe"], pkg)
    arch = to_archive(pkg)
    with zipfile.ZipFile(arch, "a") as zf:
        zf.writestr("../../evil.txt", b"x")
    from modelworks.package import _files
    _files.sign_archive(arch)
    variants.append(Variant(arch.name, "container", arch))

    (out / "variants.json").write_text(json.dumps(
        [{"name": v.name, "family": v.family, "path": str(v.path)} for v in variants], indent=1))
    return variants


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: make_hostile.py OUT_DIR MARKER_PATH")
    found = generate(Path(sys.argv[1]), Path(sys.argv[2]))
    counts: dict[str, int] = {}
    for v in found:
        counts[v.family] = counts.get(v.family, 0) + 1
    print(f"{len(found)} variants: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
