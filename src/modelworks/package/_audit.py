"""Which names a skops file may use: decided from the file's own JSON, before anything is imported.

A skops file is a zip holding ``schema.json`` (a tree of nodes, each naming a loader and a
``module.name``) and the arrays. :func:`audit_skops` reads that tree with the standard JSON
parser, walks every node and checks each name against the reviewed tables of
:mod:`modelworks.package._allowlist` by how the node would use it:

=============================================  ==============================================
node loader                                    the name must be in
=============================================  ==============================================
Object, Tree, Loss, NdArray, MaskedArray,      ``TYPES`` (it is built)
SparseMatrix, RandomState, RandomGenerator,
DType, Dict/List/Tuple/Set/Bytes/Slice/Json
Type                                           ``VALUE_TYPES`` or ``TYPES`` (a type as a value)
Function                                       ``FUNCTIONS`` (called with the user's data)
Method, Partial, OperatorFunc,                 never: they call a name from the file with
ConstructorFromReduce, anything unknown        arguments from the file
=============================================  ==============================================

Nothing named by the file is imported to decide, so a name in a module with import-time side
effects (``numpy.f2py.__main__``) is refused without running it. Only when every name passes
is the file handed to skops, with exactly those names as its trust list. After loading,
:func:`check_loaded` bounds-checks the raw indices of tree structures, which scikit-learn
follows without checks at predict time.

The zip itself is checked first (:func:`check_zip`): members, paths and the memory it would
take once expanded (:data:`MAX_EXPANSION_RATIO` × its size, at least :data:`MIN_EXPANSION_BYTES`,
never over :data:`MAX_EXPANSION_BYTES`).
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from modelworks.exceptions import PackageError, UnsafePackageError
from modelworks.package import _allowlist

# kept for the public API: the booster types (now part of the reviewed allow-list)
BOOSTER_TYPES = frozenset(_allowlist.BOOSTERS)

MAX_EXPANSION_RATIO = 64
MIN_EXPANSION_BYTES = 256 * 1024**2
MAX_EXPANSION_BYTES = 8 * 1024**3
MAX_SCHEMA_BYTES = 128 * 1024**2
MAX_NODES = 1_000_000
MAX_DEPTH = 400

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")

_BUILT = "built"
_VALUE = "value"
_FUNCTION = "function"
_CONTAINER = "container"
# how each skops loader uses the name it carries; loaders not listed are refused
LOADERS = {
    "ObjectNode": _BUILT, "TreeNode": _BUILT, "LossNode": _BUILT, "NdArrayNode": _BUILT,
    "MaskedArrayNode": _BUILT, "SparseMatrixNode": _BUILT, "RandomStateNode": _BUILT,
    "RandomGeneratorNode": _BUILT, "DTypeNode": _BUILT,
    "DictNode": _CONTAINER, "DefaultDictNode": _CONTAINER, "ListNode": _CONTAINER,
    "TupleNode": _CONTAINER, "SetNode": _CONTAINER, "BytesNode": _CONTAINER,
    "BytearrayNode": _CONTAINER, "SliceNode": _CONTAINER, "JsonNode": _CONTAINER,
    "TypeNode": _VALUE, "FunctionNode": _FUNCTION, "CachedNode": None,
}
REFUSED_LOADERS = {
    "MethodNode": "calls a method named in the file",
    "PartialNode": "binds arguments from the file to a callable from the file",
    "OperatorFuncNode": "builds operator getters (attrgetter/itemgetter/methodcaller) that reach any attribute",
    "ConstructorFromReduceNode": "calls a constructor with arguments from the file",
}
_CONTAINER_NAMES = frozenset(_allowlist.CONTAINERS)


def _trust_hint(names: Iterable[str]) -> str:
    shown = ",".join(sorted(names)[:3])
    return (f"if you wrote this model and trust every type in it, load with trust=['{shown}'] "
            f"(CLI: --trust {shown})")


class _Finding:
    """What one walk of the tree found: names by use, and the reasons a node is refused."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.refused: dict[str, str] = {}
        self.arrays: set[str] = set()

    def refuse(self, name: str, why: str) -> None:
        self.refused.setdefault(name, why)


def _nodes(tree: object) -> Iterator[dict]:
    """Every dict carrying ``__loader__`` anywhere in the tree (iteratively, bounded in size and depth)."""
    stack: list[tuple[object, int]] = [(tree, 0)]
    push, pop = stack.append, stack.pop
    seen = 0
    while stack:
        obj, depth = pop()
        if depth > MAX_DEPTH:
            raise UnsafePackageError("the skops tree is nested deeper than any model; refusing")
        if type(obj) is dict:
            seen += 1
            if seen > MAX_NODES:
                raise UnsafePackageError(f"the skops tree has more than {MAX_NODES:,} nodes; refusing")
            if "__loader__" in obj:
                yield obj
            children = obj.values()
        else:
            children = obj
        depth += 1
        for v in children:
            kind = type(v)
            if kind is dict or kind is list:
                push((v, depth))


def _bit_generator(node: dict) -> str | None:
    try:
        raw = node["content"]["bit_generator"]["content"]["bit_generator"]["content"]
        name = json.loads(raw)
    except (KeyError, TypeError, ValueError):
        return None
    return name if isinstance(name, str) else None


def _check_node(node: dict, found: _Finding, extra: frozenset[str]) -> None:
    loader = node.get("__loader__")
    module, cls = node.get("__module__"), node.get("__class__")
    name = f"{module}.{cls}" if isinstance(module, str) and isinstance(cls, str) else repr((module, cls))
    if not isinstance(loader, str):
        found.refuse(name, "a node without a valid loader")
        return
    if loader in REFUSED_LOADERS:
        target = name
        if loader == "MethodNode":
            func = (node.get("content") or {}).get("func") if isinstance(node.get("content"), dict) else None
            target = f"{name}.{func}"
        found.refuse(target, f"{loader}: {REFUSED_LOADERS[loader]}")
        return
    if loader not in LOADERS:
        found.refuse(name, f"unknown skops loader {loader!r}")
        return
    use = LOADERS[loader]
    if use is None:  # a reference to a node seen elsewhere in the tree
        return
    if not _NAME.fullmatch(name) or "__" in name:
        found.refuse(name, "not a plain dotted name")
        return
    found.names.add(name)
    if name in extra:
        return
    allowed = {
        _BUILT: _allowlist.TYPES,
        _CONTAINER: _CONTAINER_NAMES,
        _VALUE: _allowlist.VALUE_TYPES.keys() | _allowlist.TYPES.keys(),
        _FUNCTION: _allowlist.FUNCTIONS,
    }[use]
    if name not in allowed:
        what = {_BUILT: "type", _CONTAINER: "container", _VALUE: "type (as a value)",
                _FUNCTION: "function"}[use]
        found.refuse(name, f"a {what} that is not on modelworks' allow-list")
        return
    if loader == "RandomGeneratorNode":
        gen = _bit_generator(node)
        if gen not in _allowlist.BIT_GENERATORS:
            found.refuse(f"numpy.random.{gen}", "not a NumPy bit generator")
    if loader == "NdArrayNode":
        kind = node.get("type")
        if kind == "numpy":
            if not isinstance(node.get("file"), str):
                found.refuse(name, "an array node without its file")
            else:
                found.arrays.add(node["file"])
        elif kind != "json":
            found.refuse(name, f"an array node of unknown kind {kind!r}")


def check_zip(path: Path) -> dict[str, zipfile.ZipInfo]:
    """A skops file is a zip: refuse bombs and odd members before anything reads it."""
    try:
        size = path.stat().st_size
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as e:
        raise UnsafePackageError(
            f"{path.name} is not a skops file ({e}); modelworks never falls back to pickle"
        ) from e
    except OSError as e:
        raise PackageError(f"{path.name} cannot be read: {type(e).__name__}: {e}") from e
    members = {i.filename: i for i in infos}
    if "schema.json" not in members:
        raise UnsafePackageError(f"{path.name} is not a skops file (no schema.json inside); refusing")
    if len(infos) > 1_000_000 or len(members) != len(infos):
        raise UnsafePackageError(f"{path.name} has duplicate or too many members; refusing")
    limit = expansion_limit(size)
    total = sum(i.file_size for i in infos)
    if total > limit:
        raise UnsafePackageError(
            f"{path.name} would expand from {size:,} to {total:,} bytes, over the limit of {limit:,} "
            f"({MAX_EXPANSION_RATIO}x its size, at least {MIN_EXPANSION_BYTES // 1024**2} MiB); "
            "refusing a possible zip bomb"
        )
    if members["schema.json"].file_size > MAX_SCHEMA_BYTES:
        raise UnsafePackageError(f"{path.name} has a {members['schema.json'].file_size:,}-byte schema; refusing")
    for info in infos:
        if info.filename.startswith("/") or ".." in info.filename.split("/") or "\\" in info.filename:
            raise UnsafePackageError(f"{path.name} has a member named {info.filename!r}; refusing")
    return members


def expansion_limit(size: int) -> int:
    """How many bytes a skops file of ``size`` bytes may expand to."""
    return min(MAX_EXPANSION_BYTES, max(MIN_EXPANSION_BYTES, MAX_EXPANSION_RATIO * size))


def audit_skops(path: Path, *, trust: Iterable[str] = ()) -> list[str]:
    """Return every name ``path`` uses, all allowed; raise :class:`UnsafePackageError` otherwise.

    Parameters
    ----------
    path : pathlib.Path
        A skops file.
    trust : iterable of str
        Names the caller explicitly trusts for this one load, beyond the allow-list.
    """
    members = check_zip(path)
    try:
        with zipfile.ZipFile(path) as zf:
            raw = zf.read("schema.json")
        tree = json.loads(raw.decode("utf-8"))
    except RecursionError as e:
        raise UnsafePackageError(f"{path.name}: the skops tree is nested too deeply; refusing") from e
    except (UnicodeDecodeError, ValueError, zipfile.BadZipFile, OSError, EOFError) as e:
        raise PackageError(f"{path.name} is not a valid skops file: {type(e).__name__}: {e}") from e
    if not isinstance(tree, dict) or "__loader__" not in tree:
        raise PackageError(f"{path.name} is not a valid skops file: its schema has no root node")
    found = _Finding()
    extra = frozenset(t for t in trust if isinstance(t, str))
    for node in _nodes(tree):
        _check_node(node, found, extra)
    missing = sorted(found.arrays - members.keys())
    if missing:
        raise PackageError(f"{path.name} names array files it does not hold: {', '.join(missing[:3])}")
    if found.refused:
        items = sorted(found.refused.items())
        shown = "; ".join(f"{n} ({why})" for n, why in items[:5])
        more = f" and {len(items) - 5} more" if len(items) > 5 else ""
        raise UnsafePackageError(
            f"{path.name} would use names that modelworks does not load: {shown}{more}; refusing to "
            f"load it. {_trust_hint(n for n, _ in items)}"
        )
    return sorted(found.names)


def is_trusted(name: str) -> bool:
    """Whether a type name may be built from a package (the reviewed allow-list, nothing else)."""
    return name in _allowlist.TYPES


def trusted_types() -> list[str]:
    """Every type name a package may build, from the reviewed allow-list."""
    return sorted(_allowlist.TYPES)


# ------------------------------------------------------------------------- after loading


def _objects(root: object, limit: int = 1_000_000) -> Iterator[object]:
    """The objects reachable from a loaded model through containers and instance attributes."""
    import numpy as np

    seen: set[int] = set()
    stack = [root]
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, str | bytes | int | float | np.ndarray | np.generic):
            continue
        seen.add(id(obj))
        yield obj
        if isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set):
            stack.extend(obj)
        else:
            state = getattr(obj, "__dict__", None)
            if isinstance(state, dict):
                stack.extend(state.values())


def _bad_indices(values, low: int, high: int) -> bool:
    import numpy as np

    values = np.asarray(values)
    return values.size > 0 and (int(values.min()) < low or int(values.max()) >= high)


def _check_sklearn_tree(tree) -> str | None:
    n = int(tree.node_count)
    left, right, feature = tree.children_left, tree.children_right, tree.feature
    if len(left) != n or len(right) != n or len(feature) != n:
        return "node arrays of different lengths"
    leaf = left == -1
    if _bad_indices(left[~leaf], 1, n) or _bad_indices(right[~leaf], 1, n) or (right[leaf] != -1).any():
        return "child index out of range"
    if _bad_indices(feature[~leaf], 0, int(tree.n_features)):
        return "feature index out of range"
    if tree.value.shape[0] != n:
        return "value array does not match the node count"
    return None


def _check_tree_predictor(predictor) -> str | None:
    nodes = predictor.nodes
    n = len(nodes)
    inner = nodes["is_leaf"] == 0
    if _bad_indices(nodes["left"][inner], 1, n) or _bad_indices(nodes["right"][inner], 1, n):
        return "child index out of range"
    n_bitsets = len(predictor.raw_left_cat_bitsets)
    categorical = inner & (nodes["is_categorical"] != 0)
    if _bad_indices(nodes["bitset_idx"][categorical], 0, max(n_bitsets, 1)) or (
            categorical.any() and n_bitsets == 0):
        return "categorical bitset index out of range"
    if len(predictor.binned_left_cat_bitsets) != n_bitsets:
        return "bitset arrays of different lengths"
    return None


def _check_neighbors_tree(tree) -> str | None:
    data, idx, nd, _ = tree.get_arrays()
    n = len(data)
    if len(idx) != n or _bad_indices(idx, 0, max(n, 1)):
        return "index array out of range"
    if len(nd) and (_bad_indices(nd["idx_start"], 0, n + 1) or _bad_indices(nd["idx_end"], 0, n + 1)):
        return "node range out of bounds"
    return None


_TREE_TYPES = {
    "sklearn.tree._tree.Tree": "tree", "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor": "hgb",
    "sklearn.neighbors._kd_tree.KDTree": "neighbors", "sklearn.neighbors._ball_tree.BallTree": "neighbors",
}


def check_tree_files(path: Path) -> None:
    """The same bounds checks as :func:`check_loaded`, on the arrays in the file (nothing is built).

    Used by ``package inspect``, which never builds the model; arrays are read with
    ``numpy.load(allow_pickle=False)``. Call only after :func:`audit_skops` passed.
    """
    import io
    from types import SimpleNamespace

    import numpy as np

    with zipfile.ZipFile(path) as zf:
        tree = json.loads(zf.read("schema.json").decode("utf-8"))
        by_id = {n["__id__"]: n for n in _nodes(tree)
                 if n.get("__loader__") != "CachedNode" and isinstance(n.get("__id__"), int)}

        def value(node):
            if isinstance(node, dict) and node.get("__loader__") == "CachedNode":
                node = by_id.get(node.get("__id__"))
            if not isinstance(node, dict):
                raise ValueError("a missing value")
            if node.get("__loader__") == "JsonNode":
                return json.loads(node["content"])
            if node.get("__loader__") == "NdArrayNode" and node.get("type") == "numpy":
                return np.load(io.BytesIO(zf.read(node["file"])), allow_pickle=False)
            if node.get("__loader__") in ("DictNode",):
                return {k: v for k, v in node["content"].items()}
            if node.get("__loader__") in ("TupleNode", "ListNode"):
                return list(node["content"])
            raise ValueError(f"an unexpected {node.get('__loader__')}")

        for node in _nodes(tree):
            kind = _TREE_TYPES.get(f"{node.get('__module__')}.{node.get('__class__')}")
            if kind is None or node.get("__loader__") == "TypeNode":
                continue
            try:
                if kind == "tree":
                    state = value(node["content"])
                    nodes = value(state["nodes"])
                    proxy = SimpleNamespace(
                        node_count=value(state["node_count"]), children_left=nodes["left_child"],
                        children_right=nodes["right_child"], feature=nodes["feature"],
                        n_features=value(value(node["__reduce__"]["args"])[0]), value=value(state["values"]))
                    problem = _check_sklearn_tree(proxy)
                elif kind == "hgb":
                    state = value(node["content"])
                    proxy = SimpleNamespace(**{k: value(state[k]) for k in
                                               ("nodes", "binned_left_cat_bitsets", "raw_left_cat_bitsets")})
                    problem = _check_tree_predictor(proxy)
                else:
                    arrays = [value(v) for v in value(node["content"])[:4]]
                    problem = _check_neighbors_tree(SimpleNamespace(get_arrays=lambda a=arrays: a))
            except Exception as e:  # a structure too broken to read is refused too
                problem = f"{type(e).__name__}: {e}"
            _refuse_malformed(path.name, node.get("__class__"), problem)


def _refuse_malformed(where: str, what: object, problem: str | None) -> None:
    if problem:
        raise UnsafePackageError(
            f"{where}: a {what} in the model is malformed ({problem}); refusing a crafted or damaged model"
        )


def check_loaded(model: object, where: str) -> None:
    """Bounds-check tree structures in a freshly loaded model; raise if any index is out of range."""
    from sklearn.neighbors import BallTree, KDTree

    from modelworks._compat.sklearn import tree_types

    Tree, TreePredictor = tree_types()

    checks = ((Tree, _check_sklearn_tree), (TreePredictor, _check_tree_predictor),
              ((KDTree, BallTree), _check_neighbors_tree))
    for obj in _objects(model):
        for kind, check in checks:
            if isinstance(obj, kind):
                try:
                    problem = check(obj)
                except Exception as e:  # a structure too broken to inspect is refused too
                    problem = f"{type(e).__name__}: {e}"
                _refuse_malformed(where, type(obj).__name__, problem)
