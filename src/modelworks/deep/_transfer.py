"""Transfer learning: a pretrained base, a new head, then optional fine-tuning of the top layers."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modelworks._validation import check_scalar
from modelworks.deep._images import Images, load_images
from modelworks.deep._keras import keras_module, load_keras_model, seeded
from modelworks.exceptions import ConfigError, DataFileError, DeepError, UnknownNameError

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


def _head_dense(keras, x, n_classes, units, dropout):
    x = keras.layers.Dense(units, activation="relu", name="head_dense")(x)
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    return keras.layers.Dense(n_classes, activation="softmax", name="head_output")(x)


def _head_linear(keras, x, n_classes, units, dropout):
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    return keras.layers.Dense(n_classes, activation="softmax", name="head_output")(x)


# head name -> builder(keras, features, n_classes, units, dropout) -> softmax output
HEADS: dict[str, Callable] = {"dense": _head_dense, "linear": _head_linear}


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
                f"({e}); pass a local .keras model file as the base instead (--base model.keras), "
                "or run once with a network so Keras caches the weights under ~/.keras/models"
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


def _class_weights(option, y_enc: np.ndarray, classes: np.ndarray) -> dict[int, float] | None:
    if option is None:
        return None
    if isinstance(option, str):
        if option != "balanced":
            raise ConfigError(f"class_weight must be 'balanced', a dict or None, got {option!r}")
        from sklearn.utils.class_weight import compute_class_weight

        w = compute_class_weight("balanced", classes=np.arange(len(classes)), y=y_enc)
        return {i: float(v) for i, v in enumerate(w)}
    index = {c: i for i, c in enumerate(classes.tolist())}
    unknown = [k for k in option if k not in index]
    if unknown:
        raise ConfigError(f"class_weight names unknown classes {unknown}; classes are "
                          f"{classes.tolist()}")
    return {i: float(option.get(c, 1.0)) for c, i in index.items()}


def _split(X, y, validation_split, seed):
    if not validation_split:
        return X, y, None, None
    if not 0 < validation_split < 1:
        raise ConfigError(f"validation_split must be in [0, 1), got {validation_split}")
    from sklearn.model_selection import train_test_split

    n_val = int(round(len(X) * validation_split))
    counts = np.bincount(y)
    stratify = y if counts.min() >= 2 and n_val >= len(counts) else None
    if n_val < 1 or len(X) - n_val < 1:
        raise DeepError(f"{len(X)} images are too few for a validation split of {validation_split}; "
                        "add images or set validation_split=0")
    Xt, Xv, yt, yv = train_test_split(X, y, test_size=n_val, random_state=seed, stratify=stratify)
    return Xt, yt, Xv, yv


@dataclass
class TransferResult:
    """A model trained by :func:`transfer`, its per-epoch history and what it was built from.

    Attributes
    ----------
    model : keras.Model
        Takes images ``(n, height, width, channels)`` of raw 0-255 pixels; returns class
        probabilities in the order of ``classes``.
    history : pandas.DataFrame
        One row per epoch: ``phase`` ("head", "fine_tune" or "scratch"), ``epoch``, ``loss``,
        ``accuracy`` and, with a validation split, ``val_loss``, ``val_accuracy``.
    classes : list
        Class labels (sub-folder names for an image folder).
    image_shape : tuple
        ``(height, width, channels)`` the model takes.
    """

    model: Any
    history: Any
    classes: list
    image_shape: tuple
    base: str
    info: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    _validation: tuple | None = field(default=None, repr=False)

    # -- using the model -----------------------------------------------------------------------
    def _images(self, data, labels=None) -> Images:
        return load_images(data, size=self.image_shape[:2], channels=self.image_shape[2],
                           labels=labels)

    def predict_proba(self, data, labels=None) -> np.ndarray:
        """Class probabilities for images (a folder, an array or a DataFrame of paths)."""
        images = self._images(data, labels)
        return np.asarray(self.model.predict(images.X, verbose=0, batch_size=64), dtype=float)

    def predict(self, data) -> np.ndarray:
        """Predicted class labels."""
        return np.asarray(self.classes, dtype=object)[np.argmax(self.predict_proba(data), axis=1)]

    def evaluate(self, data=None, labels=None) -> dict[str, Any]:
        """Accuracy, loss, per-class precision/recall and the confusion matrix.

        Parameters
        ----------
        data : folder, array, (X, y) or DataFrame, optional
            Labelled images; by default the validation split held out during training.
        labels : array-like, optional
            Labels when ``data`` is an array.
        """
        from sklearn.metrics import classification_report, confusion_matrix, log_loss

        if data is None:
            if self._validation is None:
                raise DeepError("no validation split was held out (validation_split=0); pass "
                                "labelled images to evaluate")
            X, y_enc = self._validation
        else:
            images = self._images(data, labels)
            if images.y is None:
                raise DeepError("evaluate needs labelled images (a class folder, (X, y) or a "
                                "DataFrame with a label column)")
            index = {str(c): i for i, c in enumerate(self.classes)}
            unknown = sorted({str(v) for v in images.y} - set(index))
            if unknown:
                raise DeepError(f"labels not seen in training: {', '.join(unknown[:10])}; the "
                                f"model knows: {', '.join(map(str, self.classes))}")
            X, y_enc = images.X, np.array([index[str(v)] for v in images.y])
        proba = np.asarray(self.model.predict(X, verbose=0, batch_size=64), dtype=float)
        pred = proba.argmax(axis=1)
        k = len(self.classes)
        names = [str(c) for c in self.classes]
        report = classification_report(y_enc, pred, labels=list(range(k)), target_names=names,
                                       output_dict=True, zero_division=0)
        return {
            "n": int(len(y_enc)),
            "accuracy": float(np.mean(pred == y_enc)),
            "loss": float(log_loss(y_enc, _normalize(proba), labels=list(range(k)))),
            "per_class": {c: {m: float(report[c][m]) for m in ("precision", "recall", "f1-score",
                                                                "support")} for c in names},
            "confusion_matrix": confusion_matrix(y_enc, pred, labels=list(range(k))).tolist(),
            "classes": names,
        }

    # -- pictures and files ----------------------------------------------------------------------
    def plot_history(self, path: str | os.PathLike | None = None):
        """Loss and accuracy per epoch (train and validation), phases marked; PNG if ``path``."""
        import matplotlib.pyplot as plt

        h = self.history
        fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6))
        for ax, metric in zip(axes, ("loss", "accuracy")):
            ax.plot(h["epoch"], h[metric], "o-", ms=3, label="train")
            if f"val_{metric}" in h:
                ax.plot(h["epoch"], h[f"val_{metric}"], "o-", ms=3, label="validation")
            for start in h.loc[h["phase"].ne(h["phase"].shift()) & (h.index > 0), "epoch"]:
                ax.axvline(start - 0.5, color="grey", ls="--", lw=1)
            ax.set_xlabel("epoch")
            ax.set_title(metric)
            ax.legend()
        fig.suptitle("Training curves (" + " then ".join(dict.fromkeys(h["phase"])) + ")")
        fig.tight_layout()
        if path is None:
            return fig
        from modelworks.report import save_figure

        return save_figure(fig, path)

    def plot_confusion_matrix(self, path: str | os.PathLike | None = None, evaluation=None):
        """Confusion matrix of ``evaluation`` (default: the validation split); PNG if ``path``."""
        import matplotlib.pyplot as plt
        from sklearn.metrics import ConfusionMatrixDisplay

        evaluation = evaluation or self.evaluate()
        k = len(self.classes)
        fig, ax = plt.subplots(figsize=(1.2 + 0.5 * k, 1.0 + 0.45 * k) if k > 6 else (4.8, 4.2))
        ConfusionMatrixDisplay(np.array(evaluation["confusion_matrix"]),
                               display_labels=evaluation["classes"]).plot(
            ax=ax, colorbar=False, xticks_rotation=45 if k > 4 else "horizontal")
        ax.set_title(f"Confusion matrix (n={evaluation['n']}, accuracy "
                     f"{evaluation['accuracy']:.3f})")
        if path is None:
            return fig
        from modelworks.report import save_figure

        return save_figure(fig, path)

    def to_dict(self) -> dict[str, Any]:
        from modelworks._io import to_jsonable

        return to_jsonable({"base": self.base, "classes": self.classes,
                            "image_shape": list(self.image_shape), "info": self.info,
                            "skipped": self.skipped,
                            "history": self.history.to_dict(orient="records")})

    def save(self, path: str | os.PathLike) -> Path:
        """Save the model as a native ``.keras`` file (atomically)."""
        from modelworks._io import atomic_path

        path = Path(path)
        if path.suffix != ".keras":
            raise DeepError(f"save to a file ending in .keras, got {path.name}")
        with atomic_path(path, suffix=".keras") as tmp:
            self.model.save(tmp)
        return path

    def add_to_report(self, report, *, evaluation=None, order: int = 60):
        """Add a "Transfer learning" section: key figures, curves, confusion matrix, history."""
        label = "held-out" if evaluation is not None else "validation"
        import pandas as pd

        sec = report.section("Transfer learning", order=order)
        sec.text(f"Base: {self.base}. Classes: {', '.join(map(str, self.classes))}. Images "
                 f"{self.image_shape[0]}x{self.image_shape[1]}x{self.image_shape[2]}; "
                 f"{self.info.get('n_train', '?')} for training, "
                 f"{self.info.get('n_validation', 0)} for validation.")
        phases = ", ".join(f"{p} ({n} epochs)" for p, n in
                           self.history.groupby("phase", sort=False).size().items())
        sec.text(f"Phases: {phases}. Trainable parameters in the last phase: "
                 f"{self.info.get('trainable_params', '?')}.")
        if self.skipped:
            sec.warning(f"{len(self.skipped)} unreadable image file(s) were skipped, e.g. "
                        f"{self.skipped[0]}")
        if evaluation is None and self._validation is not None:
            evaluation = self.evaluate()
        if evaluation is not None:
            sec.metrics({f"{label} accuracy": evaluation["accuracy"],
                         f"{label} log loss": evaluation["loss"], "images": evaluation["n"]})
        sec.image(self.plot_history(report.plots_dir / "training_curves.png"),
                  "Loss and accuracy per epoch; the dashed line starts the next phase.")
        if evaluation is not None:
            sec.image(self.plot_confusion_matrix(report.plots_dir / "confusion_matrix.png",
                                                 evaluation), "Confusion matrix on held-out images.")
            per_class = pd.DataFrame(evaluation["per_class"]).T.reset_index(names="class")
            sec.table(per_class)
        sec.table(self.history)
        return sec

    def write(self, out_dir: str | os.PathLike, *, evaluation: dict | None = None
              ) -> dict[str, Path]:
        """Write ``model.keras``, ``plots/*.png``, ``result.json`` and ``report.html``.

        ``evaluation`` (from :meth:`evaluate` on test images) defaults to the validation split.
        """
        from modelworks._io import write_json
        from modelworks.report import Report

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        report = Report(out, "Transfer learning", f"base {self.base}")
        if evaluation is None and self._validation is not None:
            evaluation = self.evaluate()
        self.add_to_report(report, evaluation=evaluation)
        paths = {"model": self.save(out / "model.keras"),
                 "training_curves": report.plots_dir / "training_curves.png"}
        if evaluation is not None:
            paths["confusion_matrix"] = report.plots_dir / "confusion_matrix.png"
        paths["report"] = report.write()
        paths["result"] = out / "result.json"
        write_json(paths["result"], self.to_dict() | {"evaluation": evaluation,
                                                      "files": {k: str(v) for k, v in paths.items()}})
        return paths


def transfer(base, data, *, labels=None, head: str | Callable = "dense", head_units: int = 128,
             dropout: float = 0.5, freeze: bool = True, fine_tune_layers: int = 0,
             epochs: int = 10, fine_tune_epochs: int | None = None, learning_rate: float = 1e-3,
             fine_tune_learning_rate: float | None = None, batch_size: int = 32,
             validation_split: float = 0.2, validation_data=None, early_stopping: bool = True,
             patience: int = 3, class_weight=None, image_size: tuple[int, int] | int | None = None,
             preprocess: str | None = "auto", weights: str | None = "imagenet",
             feature_layer: str | None = None, from_scratch: bool = False, seed: int | None = 0,
             on_epoch: Callable[[dict], None] | None = None, progress: bool = True) -> TransferResult:
    """Train a new classification head on a pretrained base, then optionally fine-tune it.

    Phase 1 ("head") freezes the base and trains only the new head. Phase 2 ("fine_tune"),
    when ``fine_tune_layers > 0``, unfreezes the top ``fine_tune_layers`` layers that have
    weights and trains again with a lower learning rate. The base is always called with
    ``training=False`` and its BatchNormalization layers stay frozen, so their statistics are
    not destroyed by a few small batches.

    Parameters
    ----------
    base : str, path or keras.Model
        A ``keras.applications`` name ("VGG16", "ResNet50", "MobileNetV2", ...; built with
        ``include_top=False`` and ``weights``, which downloads them), a local ``.keras`` file,
        or a Keras model. A saved classifier whose last layer is a softmax/sigmoid ``Dense`` has
        that layer removed (or give ``feature_layer``).
    data : folder, array, (X, y) or DataFrame
        A folder with one sub-folder of images per class, an array of images with ``labels``,
        or a DataFrame with a ``path`` and a ``label`` column.
    labels : array-like, optional
        Labels when ``data`` is an array.
    head : {"dense", "linear"} or callable, default="dense"
        "dense": pooling -> Dense(head_units, relu) -> Dropout -> Dense(softmax), the chapter's
        head; "linear": pooling -> Dropout -> Dense(softmax); or ``f(features, n_classes)``
        returning the output tensor.
    head_units : int, default=128
    dropout : float, default=0.5
    freeze : bool, default=True
        Freeze the base in phase 1 (False trains everything from the start).
    fine_tune_layers : int, default=0
        Layers with weights to unfreeze at the top of the base in phase 2 (0: no phase 2).
    epochs : int, default=10
        Epochs of phase 1.
    fine_tune_epochs : int, optional
        Epochs of phase 2 (default: ``epochs``).
    learning_rate : float, default=1e-3
        Adam learning rate of phase 1.
    fine_tune_learning_rate : float, optional
        Adam learning rate of phase 2 (default: ``learning_rate / 10``).
    batch_size : int, default=32
    validation_split : float, default=0.2
        Share of the images held out (stratified) for early stopping and :meth:`~TransferResult.evaluate`.
    validation_data : (X, y), folder or DataFrame, optional
        Explicit validation images instead of a split.
    early_stopping : bool, default=True
        Stop a phase when the validation loss has not improved for ``patience`` epochs and keep
        the best weights.
    patience : int, default=3
    class_weight : "balanced", dict or None
        Weights per class in the loss (for imbalanced classes).
    image_size : int or (height, width), optional
        Size for an application base (default: its own, e.g. 224); a local base uses its input.
    preprocess : "auto", "rescale", a keras.applications module name, or None
        Put the base's own ``preprocess_input`` inside the model ("auto": for application bases;
        local models are expected to contain their own scaling).
    weights : str or None, default="imagenet"
        Weights of an application base.
    feature_layer : str, optional
        Name of the layer of a local base whose output are the features.
    from_scratch : bool, default=False
        Re-initialise the base's weights and train everything (the baseline that transfer
        has to beat), for ``epochs`` (+ ``fine_tune_epochs`` when fine-tuning was asked).
    seed : int or None, default=0
        Seeds weights, dropout, shuffling and the split (global generators are restored).
    on_epoch : callable, optional
        Called after every epoch with ``{"phase", "epoch", "epochs", "loss", ...}``.
    progress : bool, default=True
        A progress bar over epochs on stderr (only when interactive).

    Returns
    -------
    TransferResult

    Raises
    ------
    DeepError
        Bad images (one class, empty classes), an input shape the base cannot take, a ``.keras``
        file with unknown custom layers, ImageNet weights without a network.
    """
    keras = keras_module()
    from modelworks._progress import progress as progress_bar

    epochs = check_scalar(epochs, "epochs", kind=int, low=1)
    fine_tune_layers = check_scalar(fine_tune_layers, "fine_tune_layers", kind=int, low=0)
    if not callable(head) and head not in HEADS:
        raise UnknownNameError(f"unknown head '{head}'; use one of: {', '.join(HEADS)} or a "
                               "function f(features, n_classes) -> output")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    fine_tune_epochs = int(epochs if fine_tune_epochs is None else fine_tune_epochs)
    fine_tune_learning_rate = (learning_rate / 10 if fine_tune_learning_rate is None
                               else fine_tune_learning_rate)

    with seeded(seed):
        b = _resolve_base(base, image_size=image_size, weights=weights,
                          feature_layer=feature_layer, from_scratch=from_scratch)
        h, w, c = b.input_shape
        size = (h, w) if h is not None and w is not None else image_size
        images = load_images(data, size=size, channels=c, labels=labels)
        if images.y is None:
            raise DeepError("training needs labels: a class folder, (X, y), or a DataFrame with a "
                            "label column")
        classes, y_enc = np.unique(images.y.astype(str) if images.y.dtype == object else images.y,
                                   return_inverse=True)
        if len(classes) < 2:
            raise DeepError(f"training needs at least two classes, got only {classes.tolist()}")
        X = images.X
        if validation_data is not None:
            val = load_images(validation_data, size=X.shape[1:3], channels=c)
            index = {str(k): i for i, k in enumerate(classes)}
            unknown = sorted({str(v) for v in val.y} - set(index))
            if unknown:
                raise DeepError(f"validation labels not in the training data: {unknown}")
            Xt, yt, Xv, yv = X, y_enc, val.X, np.array([index[str(v)] for v in val.y])
        else:
            Xt, yt, Xv, yv = _split(X, y_enc, validation_split, seed)
        mode = b.preprocess if preprocess == "auto" else preprocess

        from modelworks.deep.layers import ImagePreprocessing

        inputs = keras.Input(shape=tuple(X.shape[1:]), name="image")
        x = ImagePreprocessing(mode, name="preprocess")(inputs) if mode else inputs
        try:
            features = b.model(x, training=False)
        except Exception as e:
            raise DeepError(f"base {b.name} cannot take images of shape {tuple(X.shape[1:])}: "
                            f"{e}") from e
        if len(features.shape) == 4:
            features = keras.layers.GlobalAveragePooling2D(name="head_pool")(features)
        elif len(features.shape) > 2:
            features = keras.layers.Flatten(name="head_flatten")(features)
        out = (head(features, len(classes)) if callable(head)
               else HEADS[head](keras, features, len(classes), int(head_units), float(dropout)))
        model = keras.Model(inputs, out, name="transfer")

        cw = _class_weights(class_weight, yt, classes)
        validation = (Xv, yv) if Xv is not None else None
        rows: list[dict[str, Any]] = []
        phases = []
        if from_scratch:
            b.model.trainable = True
            phases.append(("scratch", int(epochs) + (fine_tune_epochs if fine_tune_layers else 0),
                           float(learning_rate)))
        else:
            b.model.trainable = not freeze
            for lyr in _layers_of(b.model):  # BatchNormalization stays in inference mode
                if isinstance(lyr, keras.layers.BatchNormalization):
                    lyr.trainable = False
            phases.append(("head", int(epochs), float(learning_rate)))
            if fine_tune_layers and fine_tune_epochs:
                phases.append(("fine_tune", fine_tune_epochs, float(fine_tune_learning_rate)))
        total = sum(p[1] for p in phases)
        bar = progress_bar(total=total, desc="training", unit="epoch") if progress else None
        unfrozen = None

        class _Epochs(keras.callbacks.Callback):
            phase = ""
            offset = 0
            n_epochs = 0

            def on_epoch_end(self, epoch, logs=None):
                row = {"phase": self.phase, "epoch": self.offset + epoch + 1}
                row |= {k: float(v) for k, v in (logs or {}).items()
                        if k in ("loss", "accuracy", "val_loss", "val_accuracy")}
                rows.append(row)
                if bar is not None:
                    bar.set_postfix({k: f"{v:.3f}" for k, v in row.items()
                                     if isinstance(v, float)})
                    bar.update(1)
                if on_epoch is not None:
                    on_epoch(row | {"epochs": total, "phase_epochs": self.n_epochs})

        tracker = _Epochs()
        try:
            for phase, n_epochs, lr in phases:
                if phase == "fine_tune":
                    unfrozen = _set_fine_tune(keras, b.model, int(fine_tune_layers))
                model.compile(optimizer=keras.optimizers.Adam(lr),
                              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
                callbacks = [tracker]
                if early_stopping and validation is not None:
                    callbacks.insert(0, keras.callbacks.EarlyStopping(
                        monitor="val_loss", patience=int(patience), restore_best_weights=True))
                tracker.phase, tracker.offset, tracker.n_epochs = phase, len(rows), n_epochs
                model.fit(Xt, yt, epochs=n_epochs, batch_size=int(batch_size),
                          validation_data=validation, class_weight=cw, callbacks=callbacks,
                          verbose=0, shuffle=True)
        finally:
            if bar is not None:
                bar.close()

    import pandas as pd

    trainable = int(sum(int(np.prod(v.shape)) for v in model.trainable_weights))
    info = {"n_train": int(len(Xt)), "n_validation": int(0 if Xv is None else len(Xv)),
            "phases": [{"phase": p, "epochs_max": n, "learning_rate": lr} for p, n, lr in phases],
            "freeze": bool(freeze), "fine_tune_layers": int(fine_tune_layers),
            "unfrozen_layers": unfrozen, "trainable_params": trainable,
            "total_params": int(model.count_params()), "preprocess": mode,
            "from_scratch": bool(from_scratch), "source": images.source,
            "head": head if isinstance(head, str) else getattr(head, "__name__", "custom")}
    return TransferResult(model=model, history=pd.DataFrame(rows),
                          classes=[c.item() if hasattr(c, "item") else c for c in classes],
                          image_shape=tuple(int(v) for v in X.shape[1:]), base=b.name, info=info,
                          skipped=images.skipped,
                          _validation=None if Xv is None else (Xv, yv))


def _normalize(proba: np.ndarray) -> np.ndarray:
    """Clip and renormalise float32 softmax rows so log loss sees proper probabilities."""
    p = np.clip(proba, 1e-7, 1.0)
    return p / p.sum(axis=1, keepdims=True)
