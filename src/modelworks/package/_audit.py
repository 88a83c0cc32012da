"""Which types a skops file may build: the allow-list, checked before anything is loaded.

skops lists the types a file would build that are not in its own default trust set
(:func:`skops.io.get_untrusted_types`) without importing them. modelworks trusts, in addition:

* classes defined by scikit-learn, NumPy dtypes/scalars/ufuncs and SciPy sparse matrices,
  resolved inside those libraries only (a name outside them is never imported);
* the booster types listed in :data:`BOOSTER_TYPES` (XGBoost, LightGBM, HistGradientBoosting);
* modelworks' own types, when the area that defines them declares them in its
  ``SKOPS_TRUSTED`` list (``modelworks.ensemble.SKOPS_TRUSTED``, ...), plus the few data-spine
  helpers in :data:`MODELWORKS_TYPES`; other types in an area's list (pygam terms for the
  stats GAMs) are trusted when a type of that area is in the file.

Everything else is refused with :class:`~modelworks.exceptions.UnsafePackageError` naming the
types; the file is never handed to a loader.
"""

from __future__ import annotations

import importlib
import zipfile
from pathlib import Path

from modelworks.exceptions import PackageError, UnsafePackageError

BOOSTER_TYPES = frozenset({
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
})

# types of the data spine and model zoo that every modelworks pipeline may contain
MODELWORKS_TYPES = frozenset({
    "modelworks.data._preprocess._to_str",
    "modelworks.data._preprocess.DatetimeFeatures",
    "modelworks.models._boosters.XGBClassifier",
})

# modelworks areas that may declare SKOPS_TRUSTED (the area is imported only to read its list)
TRUSTING_AREAS = ("data", "models", "ensemble", "stats", "features", "deep", "tuning", "forecast",
                  "monitor", "explain", "package")

_LIBRARIES = ("sklearn", "numpy", "scipy")
MAX_SKOPS_EXPANSION = 4 * 1024**3


def _library_type(name: str) -> bool:
    """Whether ``name`` is a class (or ufunc) defined inside scikit-learn, NumPy or SciPy."""
    top = name.split(".", 1)[0]
    if top not in _LIBRARIES:
        return False
    module_name, _, attr = name.rpartition(".")
    if not module_name or not attr.isidentifier():
        return False
    try:  # only modules of these three libraries are ever imported here
        module = importlib.import_module(module_name)
    except Exception:
        return False
    obj = getattr(module, attr, None)
    import numpy as np

    if top == "numpy":
        if isinstance(obj, np.ufunc):
            return True
        return isinstance(obj, type) and (
            issubclass(obj, np.dtype | np.generic | np.ndarray) or module_name.startswith("numpy.random")
        )
    if not isinstance(obj, type):
        return False
    if top == "scipy":
        return module_name.startswith("scipy.sparse")
    return True


def _area_trusted(area: str) -> frozenset[str]:
    if area not in TRUSTING_AREAS:
        return frozenset()
    try:
        module = importlib.import_module(f"modelworks.{area}")
    except Exception:
        return frozenset()
    declared = getattr(module, "SKOPS_TRUSTED", None) or ()
    return frozenset(t for t in declared if isinstance(t, str))


def is_trusted(name: str) -> bool:
    """Whether a type name reported by skops may be loaded."""
    if name in BOOSTER_TYPES or name in MODELWORKS_TYPES:
        return True
    if name.startswith("modelworks."):
        return name in _area_trusted(name.split(".")[1])
    return _library_type(name)


def trusted_types() -> list[str]:
    """The explicit allow-list (besides scikit-learn/NumPy/SciPy classes): boosters and modelworks types."""
    names = set(BOOSTER_TYPES) | set(MODELWORKS_TYPES)
    for area in TRUSTING_AREAS:
        names |= _area_trusted(area)
    return sorted(names)


def check_zip(path: Path) -> None:
    """A skops file is a zip: refuse bombs and odd members before skops opens it."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if "schema.json" not in {i.filename for i in infos}:
                raise UnsafePackageError(f"{path.name} is not a skops file (no schema.json inside); refusing")
            total = sum(i.file_size for i in infos)
            if total > MAX_SKOPS_EXPANSION or len(infos) > 1_000_000:
                raise UnsafePackageError(f"{path.name} expands to {total:,} bytes; refusing a possible zip bomb")
            for info in infos:
                if info.filename.startswith("/") or ".." in info.filename.split("/"):
                    raise UnsafePackageError(f"{path.name} has a member named {info.filename!r}; refusing")
    except zipfile.BadZipFile as e:
        raise UnsafePackageError(
            f"{path.name} is not a skops file ({e}); modelworks never falls back to pickle"
        ) from e
    except PackageError:
        raise
    except Exception as e:
        raise PackageError(f"{path.name} cannot be read: {type(e).__name__}: {e}") from e


def audit_skops(path: Path) -> list[str]:
    """Return the non-default types ``path`` needs, all allowed; raise if any is not allowed.

    Nothing named in the file is imported here except modules of scikit-learn, NumPy, SciPy
    and modelworks itself.
    """
    from modelworks._imports import skops_io

    sio = skops_io()

    check_zip(path)
    try:
        needed = sio.get_untrusted_types(file=path)
    except Exception as e:
        raise PackageError(f"{path.name} is not a valid skops file: {type(e).__name__}: {e}") from e
    # types an area declares beyond its own (e.g. pygam terms for modelworks.stats GAMs) count
    # when a type of that area is in the file
    areas = {t.split(".")[1] for t in needed if t.startswith("modelworks.") and t.count(".") >= 2}
    declared = frozenset().union(*(_area_trusted(a) for a in areas)) if areas else frozenset()
    refused = [t for t in needed if t not in declared and not is_trusted(t)]
    if refused:
        raise UnsafePackageError(
            f"{path.name} would build types that are not on modelworks' allow-list: {', '.join(refused[:10])}"
            f"{' ...' if len(refused) > 10 else ''}; refusing to load it. If you wrote this model yourself, "
            "declare its types in the area's SKOPS_TRUSTED list"
        )
    return list(needed)
