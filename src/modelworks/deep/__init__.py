"""Deep learning on Keras 3 (PyTorch backend): transfer learning, custom layers, sklearn wrappers.

Nothing here imports Keras or PyTorch until a function needs it; the custom layers live in
:mod:`modelworks.deep.layers`, which does import Keras.
"""

from __future__ import annotations

import importlib
from typing import Any

from modelworks.deep._bases import APPLICATIONS
from modelworks.deep._images import load_images
from modelworks.deep._keras import custom_objects_in, load_keras_model
from modelworks.deep._transfer import TransferConfig, transfer
from modelworks.deep._transfer_job import TransferJobResult, transfer_job
from modelworks.deep._transfer_result import TransferResult
from modelworks.deep._wrappers import KerasMLPClassifier, KerasMLPRegressor

__all__ = [
    "APPLICATIONS",
    "KerasMLPClassifier",
    "KerasMLPRegressor",
    "TransferConfig",
    "TransferJobResult",
    "TransferResult",
    "custom_objects_in",
    "load_images",
    "load_model",
    "transfer",
    "transfer_job",
]

load_model = load_keras_model

_LAZY = {"layers": "modelworks.deep.layers"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        value = module if name == "layers" else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'modelworks.deep' has no attribute {name!r}")
