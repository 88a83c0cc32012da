"""Importing Keras on the PyTorch backend, late, and loading ``.keras`` files safely."""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from modelworks.exceptions import DataFileError, DeepError

# modules whose registered Keras objects modelworks itself defines (trusted, imported on demand)
_OWN_MODULES = ("modelworks.deep.layers",)


def keras_module() -> ModuleType:
    """Import Keras with the PyTorch backend (unless the user chose another one)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    from modelworks._imports import require

    return require("keras", purpose="deep learning")


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Seed Python, NumPy and the backend for reproducible Keras training, then restore them.

    ``keras.utils.set_random_seed`` seeds global generators; restoring them afterwards keeps a
    fit from changing the random streams of the caller (scikit-learn estimators should not).
    """
    if seed is None:
        yield
        return
    import random

    import numpy as np

    keras = keras_module()
    py_state, np_state = random.getstate(), np.random.get_state()
    torch_state = None
    if keras.backend.backend() == "torch":
        import torch

        torch_state = torch.get_rng_state()
    keras.utils.set_random_seed(int(seed) % (2**32))
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        if torch_state is not None:
            import torch

            torch.set_rng_state(torch_state)


def _walk_objects(node: Any) -> Iterator[dict]:
    """Every serialized Keras object (a dict with ``class_name`` and ``module``) in a config."""
    if isinstance(node, dict):
        if "class_name" in node and "module" in node:
            yield node
        for value in node.values():
            yield from _walk_objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_objects(value)


def custom_objects_in(path: str | os.PathLike) -> list[dict[str, str]]:
    """The custom (non-Keras) classes a ``.keras`` file refers to, without loading it.

    Returns a list of ``{"name": registered name, "class": class, "module": defining module}``.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            config = json.loads(zf.read("config.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, OSError) as e:
        raise DeepError(
            f"{path} is not a Keras 3 model file (.keras zip with config.json): {e}; "
            "save models with model.save('model.keras')"
        ) from e
    found: dict[str, dict[str, str]] = {}
    for obj in _walk_objects(config):
        module = str(obj.get("module") or "")
        if module == "keras" or module.startswith("keras.") or module in ("builtins", ""):
            continue
        name = obj.get("registered_name") or f"{module}.{obj['class_name']}"
        found.setdefault(str(name), {"name": str(name), "class": str(obj["class_name"]),
                                     "module": module})
    return list(found.values())


def load_keras_model(path: str | os.PathLike, *, compile: bool = True) -> Any:
    """Load a native ``.keras`` model with ``safe_mode=True`` after checking its custom classes.

    modelworks' own layers (``modelworks.deep.layers``) are imported automatically. Any other
    custom class must already be registered in this process (its module imported); otherwise a
    :class:`~modelworks.exceptions.DeepError` names the module to import. Nothing named in the
    file is imported automatically: that would run code chosen by whoever wrote the file.

    Parameters
    ----------
    path : path
        A ``.keras`` file.
    compile : bool, default=True
        Restore the optimizer and loss as saved.

    Raises
    ------
    DataFileError
        The file does not exist.
    DeepError
        Not a ``.keras`` file, unknown custom classes, or layers that ``safe_mode`` refuses
        (``Lambda`` layers hold arbitrary code).
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"model file not found: {path}")
    if path.suffix != ".keras":
        raise DeepError(
            f"{path.name}: expected a native Keras file ending in .keras (got '{path.suffix}'); "
            "legacy .h5 files and SavedModel folders are not loaded here"
        )
    customs = custom_objects_in(path)
    keras = keras_module()
    if any(c["module"].startswith("modelworks.") for c in customs):
        import importlib

        for module in _OWN_MODULES:
            importlib.import_module(module)
    missing = [c for c in customs if keras.saving.get_registered_object(c["name"]) is None]
    if missing:
        modules = sorted({c["module"] for c in missing})
        names = ", ".join(f"{c['class']} (registered as '{c['name']}', from module '{c['module']}')"
                          for c in missing)
        raise DeepError(
            f"{path.name} uses custom Keras objects not registered in this process: {names}; "
            f"import {', '.join(modules)} before loading (its classes must be decorated with "
            "@keras.saving.register_keras_serializable)"
        )
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except ValueError as e:
        if "Lambda" in str(e) or "safe_mode" in str(e):
            raise DeepError(
                f"{path.name} contains a Lambda layer (arbitrary Python code), which is refused "
                "when loading safely; replace it with a registered custom layer"
            ) from e
        raise DeepError(f"cannot load {path.name}: {e}") from e
    except TypeError as e:
        raise DeepError(
            f"cannot load {path.name}: {e}; if it uses custom layers, import the module that "
            "defines them first"
        ) from e
