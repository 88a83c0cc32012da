"""How a model is written inside a package: one handler per on-disk format, looked up by name.

=========  ===============================================  ==========================================
format     used for                                         loaded with
=========  ===============================================  ==========================================
skops      scikit-learn estimators and pipelines, boosters  skops, after auditing types (allow-list)
native     estimators with ``save_native``/``load_native``  the class's own ``load_native``
           (modelworks' Keras wrappers)                     (modelworks classes only)
keras      plain Keras models                               ``.keras`` with ``safe_mode=True``
pipeline   a pipeline whose last step is native or Keras    skops for the steps, native for the last
pickle     only with ``save(..., allow_pickle=True)``       ``load(..., trust_pickle=True)`` only
=========  ===============================================  ==========================================
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from modelworks.exceptions import ModelworksError, PackageError, UnsafePackageError


def qualname(obj_or_type: Any) -> str:
    t = obj_or_type if isinstance(obj_or_type, type) else type(obj_or_type)
    return f"{t.__module__}.{t.__qualname__}"


def _is_native(model: Any) -> bool:
    return callable(getattr(model, "save_native", None)) and callable(getattr(type(model), "load_native", None))


def _is_keras(model: Any) -> bool:
    return any(c.__module__.split(".")[0] == "keras" and c.__name__ == "Model" for c in type(model).__mro__)


def _last_step_special(model: Any) -> bool:
    steps = getattr(model, "steps", None)
    if not (isinstance(steps, list) and steps and qualname(model) == "sklearn.pipeline.Pipeline"):
        return False
    last = steps[-1][1]
    return _is_native(last) or _is_keras(last)


def _wrap(e: Exception, file: str) -> PackageError:
    if isinstance(e, ModelworksError):
        if isinstance(e, PackageError):
            return e
        return UnsafePackageError(f"{file}: {e}") if "refus" in str(e) or "Lambda" in str(e) else PackageError(f"{file}: {e}")
    return PackageError(f"cannot load {file}: {type(e).__name__}: {e}")


def modules_of(model: Any) -> set[str]:
    """Top-level modules of every type the model is made of: its own, its pipeline steps' and
    ensemble members' (recursively, so a blend of pipelines names the boosters inside), and the
    libraries their classes derive from (modelworks' CatBoost subclass records catboost)."""
    mods: set[str] = set()
    seen: set[int] = set()

    def walk(obj: Any, depth: int) -> None:
        if obj is None or isinstance(obj, str) or id(obj) in seen or depth > 8:
            return
        seen.add(id(obj))
        mods.update(cls.__module__.split(".")[0] for cls in type(obj).__mro__[:-1])
        parts = [step for _, step in getattr(obj, "steps", None) or []]
        parts += [trans for _, trans, *_ in getattr(obj, "transformers_", None) or []]
        for attr in ("estimators_", "estimator_", "final_estimator_", "regressor_"):
            value = getattr(obj, attr, None)
            parts += value if isinstance(value, list) else [value]
        for part in parts:
            walk(part, depth + 1)

    walk(model, 0)
    return mods


# --------------------------------------------------------------------------------- handlers


class SkopsFormat:
    name = "skops"

    def save(self, model: Any, root: Path) -> dict:
        from modelworks._imports import skops_io

        sio = skops_io()

        try:
            sio.dump(model, root / "model.skops")
        except Exception as e:
            raise PackageError(
                f"{type(model).__name__} cannot be saved with skops ({type(e).__name__}: {e}); "
                "pass allow_pickle=True to save(...) to store it as a pickle that only "
                "load(..., trust_pickle=True) will open"
            ) from e
        from modelworks.package._audit import audit_skops

        try:
            types = audit_skops(root / "model.skops")  # every type the file names (not only non-default ones)
        except PackageError as e:
            raise PackageError(
                f"{type(model).__name__} uses names that modelworks would refuse to load ({e}); add them, "
                "with a reason, to modelworks/package/_allowlist.py if they are safe, or save with "
                "allow_pickle=True (loading then needs trust_pickle=True)"
            ) from e
        return {"file": "model.skops", "trusted_types": types}

    def load(self, root: Path, entry: dict, *, trust_pickle: bool, trust: tuple[str, ...] = ()) -> Any:
        from modelworks.package._audit import audit_skops, check_loaded

        path = root / entry["file"]
        needed = audit_skops(path, trust=trust)  # decided from the file's JSON; nothing imported yet
        from modelworks._imports import skops_io

        sio = skops_io()
        try:
            model = sio.load(path, trusted=needed)
        except RecursionError as e:
            raise UnsafePackageError(f"{entry['file']}: the model is nested too deeply; refusing") from e
        except Exception as e:
            raise _wrap(e, entry["file"]) from e
        check_loaded(model, entry["file"])
        return model


# the modelworks classes that save themselves natively (decided before anything is imported)
NATIVE_CLASSES = frozenset({
    "modelworks.deep._wrappers.KerasMLPClassifier",
    "modelworks.deep._wrappers.KerasMLPRegressor",
})


def _native_class(name: object) -> type:
    """Resolve a native-format class; only the listed modelworks classes with ``load_native`` qualify."""
    if not isinstance(name, str) or name not in NATIVE_CLASSES:
        raise UnsafePackageError(
            f"native model class {name!r} is not one of modelworks' natively saved estimators "
            f"({', '.join(sorted(NATIVE_CLASSES))}); refusing to import it"
        )
    module_name, _, attr = name.rpartition(".")
    if not all(p.isidentifier() for p in name.split(".")):
        raise UnsafePackageError(f"native model class {name!r} is not a valid class name")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except ImportError as e:
        raise PackageError(f"cannot import {module_name} to load the model: {e}") from e
    except AttributeError:
        raise PackageError(f"{module_name} has no class {attr}; the package needs another modelworks version") from None
    if not isinstance(cls, type) or not callable(getattr(cls, "load_native", None)):
        raise UnsafePackageError(f"{name} is not a class with load_native(); refusing to load")
    return cls


class NativeFormat:
    name = "native"

    def save(self, model: Any, root: Path) -> dict:
        (root / "model").mkdir()
        model.save_native(root / "model")
        return {"file": "model", "class": qualname(model)}

    def load(self, root: Path, entry: dict, *, trust_pickle: bool, trust: tuple[str, ...] = ()) -> Any:
        cls = _native_class(entry.get("class"))
        try:
            return cls.load_native(root / entry["file"])
        except Exception as e:
            raise _wrap(e, entry["file"]) from e


class KerasFormat:
    name = "keras"

    def save(self, model: Any, root: Path) -> dict:
        model.save(root / "model.keras")
        return {"file": "model.keras", "class": qualname(model)}

    def load(self, root: Path, entry: dict, *, trust_pickle: bool, trust: tuple[str, ...] = ()) -> Any:
        from modelworks.deep._keras import load_keras_model

        if not entry["file"].endswith(".keras"):
            raise UnsafePackageError(f"keras model file {entry['file']!r} is not a native .keras file")
        try:
            return load_keras_model(root / entry["file"])
        except Exception as e:
            raise _wrap(e, entry["file"]) from e


class PipelineFormat:
    """A scikit-learn pipeline whose last step saves natively: skops for the head, native for the tail."""

    name = "pipeline"

    def save(self, model: Any, root: Path) -> dict:
        from sklearn.pipeline import Pipeline

        head = Pipeline(model.steps[:-1])
        last_name, last = model.steps[-1]
        entry = SkopsFormat().save(head, root)
        (root / "final").mkdir()
        sub = choose(last)
        final = sub.save(last, root / "final")
        final["file"] = f"final/{final['file']}"
        final["format"] = sub.name
        return {"file": entry["file"], "trusted_types": entry["trusted_types"], "final_step": last_name,
                "final": final}

    def load(self, root: Path, entry: dict, *, trust_pickle: bool, trust: tuple[str, ...] = ()) -> Any:
        from sklearn.pipeline import Pipeline

        final = entry.get("final")
        if not isinstance(final, dict) or final.get("format") not in ("native", "keras") \
                or not isinstance(final.get("file"), str) or not isinstance(entry.get("final_step"), str):
            raise PackageError("the pipeline entry of the manifest is invalid; the package is damaged")
        from modelworks.package._files import check_name

        check_name(final["file"], "manifest")
        head = SkopsFormat().load(root, entry, trust_pickle=trust_pickle, trust=trust)
        if not isinstance(head, Pipeline):
            raise PackageError("the pipeline head of the package is not a scikit-learn Pipeline")
        last = FORMATS[final["format"]].load(root, final, trust_pickle=trust_pickle, trust=trust)
        return Pipeline(head.steps + [(entry["final_step"], last)])


class PickleFormat:
    """Opt-in only, on both sides: written with ``allow_pickle=True``, read with ``trust_pickle=True``."""

    name = "pickle"

    def save(self, model: Any, root: Path) -> dict:
        import pickle

        with open(root / "model.pkl", "wb") as f:
            pickle.dump(model, f, protocol=5)
        return {"file": "model.pkl", "class": qualname(model)}

    def load(self, root: Path, entry: dict, *, trust_pickle: bool, trust: tuple[str, ...] = ()) -> Any:
        if trust_pickle is not True:
            raise UnsafePackageError(
                f"the model in this package is a pickle ({entry['file']}), which runs arbitrary code when "
                "loaded; modelworks refuses it", param="trust_pickle=True",
                fix="if you trust its source, pass {} for this one load"
            )
        import pickle

        try:
            with open(root / entry["file"], "rb") as f:
                return pickle.load(f)  # noqa: S301 - explicit per-call opt-in above
        except Exception as e:
            raise PackageError(f"cannot unpickle {entry['file']}: {type(e).__name__}: {e}") from e


FORMATS = {f.name: f for f in (SkopsFormat(), NativeFormat(), KerasFormat(), PipelineFormat(), PickleFormat())}


def choose(model: Any):
    """The handler that writes ``model`` (first match wins)."""
    if _is_native(model):
        return FORMATS["native"]
    if _is_keras(model):
        return FORMATS["keras"]
    if _last_step_special(model):
        return FORMATS["pipeline"]
    return FORMATS["skops"]


def audit_model(root: Path, entry: dict, *, trust: tuple[str, ...] = ()) -> None:
    """Check what loading would check about names, without importing or building anything."""
    from modelworks.package._audit import _TREE_TYPES, audit_skops, check_tree_files

    fmt = entry.get("format")
    if fmt not in FORMATS:
        raise UnsafePackageError(
            f"unknown model format {fmt!r} in the manifest; known formats: {', '.join(FORMATS)}"
        )
    if fmt in ("skops", "pipeline"):
        names = audit_skops(root / entry["file"], trust=trust)
        if set(names) & _TREE_TYPES.keys():
            check_tree_files(root / entry["file"])
    final = entry.get("final") if fmt == "pipeline" else entry
    if isinstance(final, dict) and final.get("format") == "native" and final.get("class") not in NATIVE_CLASSES:
        _native_class(final.get("class"))  # raises, naming the class


def load_model(root: Path, entry: dict, *, trust_pickle: bool, trust: tuple[str, ...] = ()) -> Any:
    handler = FORMATS.get(entry.get("format"))
    if handler is None:
        raise UnsafePackageError(
            f"unknown model format {entry.get('format')!r} in the manifest; known formats: {', '.join(FORMATS)}"
        )
    return handler.load(root, entry, trust_pickle=trust_pickle, trust=trust)
