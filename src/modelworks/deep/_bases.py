"""The pretrained base of transfer learning: a keras.applications name, a .keras file or a model.

A saved classifier loses its softmax output layer (or is cut at ``feature_layer``) so that it
yields features; fine-tuning unfreezes the top layers that have weights, never BatchNormalization.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelworks.deep._keras import keras_module, load_keras_model
from modelworks.exceptions import DataFileError, DeepError, UnknownNameError

# keras.applications constructor -> (module of its preprocess_input, default image size)
APPLICATIONS: dict[str, tuple[str, int]] = {
    "VGG16": ("vgg16", 224),
    "VGG19": ("vgg19", 224),
    "ResNet50": ("resnet", 224),
    "ResNet101": ("resnet", 224),
    "ResNet152": ("resnet", 224),
    "ResNet50V2": ("resnet_v2", 224),
    "ResNet101V2": ("resnet_v2", 224),
    "MobileNet": ("mobilenet", 224),
    "MobileNetV2": ("mobilenet_v2", 224),
    "MobileNetV3Small": ("mobilenet_v3", 224),
    "MobileNetV3Large": ("mobilenet_v3", 224),
    "EfficientNetB0": ("efficientnet", 224),
    "EfficientNetB1": ("efficientnet", 240),
    "EfficientNetV2B0": ("efficientnet_v2", 224),
    "DenseNet121": ("densenet", 224),
    "InceptionV3": ("inception_v3", 299),
    "Xception": ("xception", 299),
    "ConvNeXtTiny": ("convnext", 224),
}


@dataclass
class _Base:
    model: Any
    name: str
    input_shape: tuple  # (height or None, width or None, channels)
    preprocess: str | None


def _no_network(e: BaseException) -> bool:
    import urllib.error

    text = str(e)
    return isinstance(e, urllib.error.URLError | ConnectionError | TimeoutError) or (
        "URL fetch failure" in text or "Name or service not known" in text
        or "Temporary failure in name resolution" in text)


def _application(name: str, *, image_size, weights, from_scratch) -> _Base:
    keras = keras_module()
    lookup = {k.lower(): k for k in APPLICATIONS}
    key = lookup.get(name.lower())
    if key is None:
        raise UnknownNameError(
            f"unknown base model '{name}'; give a local .keras file or one of: "
            + ", ".join(APPLICATIONS)
        )
    module, default = APPLICATIONS[key]
    size = (default, default) if image_size is None else tuple(image_size)
    weights = None if from_scratch else weights
    import contextlib
    import sys

    try:  # Keras prints download progress on stdout: keep stdout clean for --json
        with contextlib.redirect_stdout(sys.stderr):
            model = getattr(keras.applications, key)(include_top=False, weights=weights,
                                                     input_shape=(size[0], size[1], 3))
    except Exception as e:
        if weights == "imagenet" and _no_network(e):
            raise DeepError(
                f"cannot download the ImageNet weights of {key}: there is no network access "
                f"({e})", param="base", fix="pass a local .keras model file as {} instead, or run once with a "
                "network so Keras caches the weights under ~/.keras/models"
            ) from e
        if isinstance(e, ValueError):
            raise DeepError(f"base {key} cannot take input shape {size[0]}x{size[1]}x3: {e}") from e
        raise
    return _Base(model, key, (size[0], size[1], 3), module)


def _cut_classifier(keras, model, feature_layer: str | None):
    """Drop a saved classifier's output layer so the base yields features."""
    if feature_layer is not None:
        try:
            layer = model.get_layer(feature_layer)
        except ValueError as e:
            names = ", ".join(layer.name for layer in model.layers)
            raise DeepError(f"the base has no layer '{feature_layer}'; layers are: {names}") from e
        return keras.Model(model.inputs, layer.output, name=f"{model.name}_features"), layer.name
    last = model.layers[-1] if getattr(model, "layers", None) else None
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    if isinstance(last, keras.layers.Dense) and activation in ("softmax", "sigmoid") and len(
            model.layers) > 1:
        try:
            layer = model.layers[-2]
            return keras.Model(model.inputs, layer.output, name=f"{model.name}_features"), layer.name
        except (AttributeError, ValueError):  # a subclassed model has no graph to cut
            return model, None
    return model, None


def _local(path: Path, *, image_size, feature_layer, from_scratch) -> _Base:
    keras = keras_module()
    model = load_keras_model(path, compile=False)
    shape = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else ()
    if len(shape) != 3:
        raise DeepError(f"base {path.name} takes inputs of shape {shape}, not images "
                        "(height, width, channels)")
    if shape[-1] not in (1, 3):
        raise DeepError(f"base {path.name} takes images with {shape[-1]} channels; only 1 "
                        "(grayscale) or 3 (RGB) are supported")
    if image_size is not None and shape[0] is not None and tuple(image_size) != shape[:2]:
        raise DeepError(
            f"base {path.name} takes {shape[0]}x{shape[1]} images, not "
            f"{image_size[0]}x{image_size[1]}; leave the image size out and images are resized "
            f"to {shape[0]}x{shape[1]}"
        )
    model, cut = _cut_classifier(keras, model, feature_layer)
    if from_scratch:
        model = keras.models.clone_model(model)  # same architecture, fresh initial weights
    name = path.name + (f" (up to layer '{cut}')" if cut else "")
    return _Base(model, name, shape, None)


def _resolve_base(base, *, image_size, weights, feature_layer, from_scratch) -> _Base:
    keras = keras_module()
    if isinstance(base, keras.Model):
        shape = tuple(base.input_shape[1:])
        model, _ = _cut_classifier(keras, base, feature_layer)
        if from_scratch:
            model = keras.models.clone_model(model)
        return _Base(model, base.name, shape, None)
    if not isinstance(base, str | os.PathLike):
        raise DeepError(f"base must be a keras.applications name, a .keras file or a keras.Model, "
                        f"got {type(base).__name__}")
    path = Path(base)
    if path.suffix == ".keras" or path.exists():
        if not path.exists():
            raise DataFileError(f"base model file not found: {path}")
        return _local(path, image_size=image_size, feature_layer=feature_layer,
                      from_scratch=from_scratch)
    return _application(str(base), image_size=image_size, weights=weights,
                        from_scratch=from_scratch)


def _layers_of(layer) -> list:
    """Leaf layers of a (possibly nested) model, in order."""
    out = []
    for sub in getattr(layer, "layers", []):
        out += _layers_of(sub) if getattr(sub, "layers", None) else [sub]
    return out


def _set_fine_tune(keras, base, n: int) -> int:
    """Unfreeze the top ``n`` layers that have weights; BatchNormalization stays frozen."""
    base.trainable = True
    leaves = _layers_of(base)
    weighted = [lyr for lyr in leaves if lyr.weights
                and not isinstance(lyr, keras.layers.BatchNormalization)]
    top = set(map(id, weighted[-n:])) if n > 0 else set()
    for lyr in leaves:
        lyr.trainable = id(lyr) in top
    return len(top)
