"""Transfer learning: a pretrained base, a new head, then optional fine-tuning of the top layers.

The base is resolved in :mod:`~modelworks.deep._bases`, the options are one
:class:`TransferConfig`, and the result is a :class:`~modelworks.deep._transfer_result.TransferResult`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelworks._validation import check_scalar
from modelworks.deep._bases import APPLICATIONS, _layers_of, _resolve_base, _set_fine_tune
from modelworks.deep._images import load_images
from modelworks.deep._keras import keras_module, seeded
from modelworks.deep._transfer_result import TransferResult
from modelworks.exceptions import ConfigError, DeepError, UnknownNameError

__all__ = ["APPLICATIONS", "HEADS", "TransferConfig", "TransferResult", "transfer"]


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
class TransferConfig:
    """How :func:`transfer` builds and trains the model: every option but the base and the data.

    Give one to ``transfer(base, data, config=...)``, or the same names as keyword arguments
    (``transfer(base, data, epochs=5)``); keyword arguments override the config's fields.

    Attributes
    ----------
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
    """

    head: str | Callable = "dense"
    head_units: int = 128
    dropout: float = 0.5
    freeze: bool = True
    fine_tune_layers: int = 0
    epochs: int = 10
    fine_tune_epochs: int | None = None
    learning_rate: float = 1e-3
    fine_tune_learning_rate: float | None = None
    batch_size: int = 32
    validation_split: float = 0.2
    validation_data: Any = None
    early_stopping: bool = True
    patience: int = 3
    class_weight: Any = None
    image_size: tuple[int, int] | int | None = None
    preprocess: str | None = "auto"
    weights: str | None = "imagenet"
    feature_layer: str | None = None
    from_scratch: bool = False
    seed: int | None = 0
    on_epoch: Callable[[dict], None] | None = None
    progress: bool = True

    def checked(self) -> TransferConfig:
        """A copy with the options checked and the defaults that depend on others filled in."""
        epochs = check_scalar(self.epochs, "epochs", kind=int, low=1)
        fine_tune_layers = check_scalar(self.fine_tune_layers, "fine_tune_layers", kind=int, low=0)
        if not callable(self.head) and self.head not in HEADS:
            raise UnknownNameError(f"unknown head '{self.head}'; use one of: {', '.join(HEADS)} or a "
                                   "function f(features, n_classes) -> output")
        image_size = (self.image_size, self.image_size) if isinstance(self.image_size, int) else self.image_size
        return dataclasses.replace(
            self, epochs=epochs, fine_tune_layers=fine_tune_layers, image_size=image_size,
            fine_tune_epochs=int(epochs if self.fine_tune_epochs is None else self.fine_tune_epochs),
            fine_tune_learning_rate=(self.learning_rate / 10 if self.fine_tune_learning_rate is None
                                     else self.fine_tune_learning_rate))

    def phases(self) -> list[tuple[str, int, float]]:
        """``(phase, epochs, learning rate)`` in training order (on a checked config)."""
        if self.from_scratch:
            return [("scratch", int(self.epochs) + (self.fine_tune_epochs if self.fine_tune_layers else 0),
                     float(self.learning_rate))]
        phases = [("head", int(self.epochs), float(self.learning_rate))]
        if self.fine_tune_layers and self.fine_tune_epochs:
            phases.append(("fine_tune", self.fine_tune_epochs, float(self.fine_tune_learning_rate)))
        return phases


_OPTIONS = tuple(f.name for f in dataclasses.fields(TransferConfig))


def _config(config: TransferConfig | None, options: dict) -> TransferConfig:
    if config is not None and not isinstance(config, TransferConfig):
        raise ConfigError(f"config must be a TransferConfig, got {type(config).__name__}")
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise ConfigError(f"transfer() got unknown option(s) {', '.join(map(repr, unknown))}; "
                          f"options are: {', '.join(_OPTIONS)}")
    return dataclasses.replace(config or TransferConfig(), **options).checked()


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


def transfer(base, data, *, labels=None, config: TransferConfig | None = None, **options) -> TransferResult:
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
    config : TransferConfig, optional
        The options (head, epochs, fine-tuning, validation, seed, ...); see
        :class:`TransferConfig` for each one and its default.
    **options
        Any field of :class:`TransferConfig` by name (``epochs=5, fine_tune_layers=3``),
        overriding ``config``.

    Returns
    -------
    TransferResult

    Raises
    ------
    ConfigError, UnknownNameError
        An unknown option name or an invalid value.
    DeepError
        Bad images (one class, empty classes), an input shape the base cannot take, a ``.keras``
        file with unknown custom layers, ImageNet weights without a network.
    """
    cfg = _config(config, options)
    with seeded(cfg.seed):
        b = _resolve_base(base, image_size=cfg.image_size, weights=cfg.weights,
                          feature_layer=cfg.feature_layer, from_scratch=cfg.from_scratch)
        images, classes, (Xt, yt, Xv, yv) = _training_images(b, data, labels, cfg)
        mode = b.preprocess if cfg.preprocess == "auto" else cfg.preprocess
        model = _build_model(b, tuple(images.X.shape[1:]), len(classes), mode, cfg)
        phases = cfg.phases()
        rows, unfrozen = _train(model, b, phases, (Xt, yt), None if Xv is None else (Xv, yv),
                                _class_weights(cfg.class_weight, yt, classes), cfg)

    import pandas as pd

    trainable = int(sum(int(np.prod(v.shape)) for v in model.trainable_weights))
    info = {"n_train": int(len(Xt)), "n_validation": int(0 if Xv is None else len(Xv)),
            "phases": [{"phase": p, "epochs_max": n, "learning_rate": lr} for p, n, lr in phases],
            "freeze": bool(cfg.freeze), "fine_tune_layers": int(cfg.fine_tune_layers),
            "unfrozen_layers": unfrozen, "trainable_params": trainable,
            "total_params": int(model.count_params()), "preprocess": mode,
            "from_scratch": bool(cfg.from_scratch), "source": images.source,
            "head": cfg.head if isinstance(cfg.head, str) else getattr(cfg.head, "__name__", "custom")}
    return TransferResult(model=model, history=pd.DataFrame(rows),
                          classes=[c.item() if hasattr(c, "item") else c for c in classes],
                          image_shape=tuple(int(v) for v in images.X.shape[1:]), base=b.name, info=info,
                          skipped=images.skipped,
                          _validation=None if Xv is None else (Xv, yv))


def _training_images(b, data, labels, cfg: TransferConfig):
    """The images at the base's size, the classes, and (X_train, y_train, X_val, y_val) encoded."""
    h, w, c = b.input_shape
    size = (h, w) if h is not None and w is not None else cfg.image_size
    images = load_images(data, size=size, channels=c, labels=labels)
    if images.y is None:
        raise DeepError("training needs labels: a class folder, (X, y), or a DataFrame with a "
                        "label column")
    classes, y_enc = np.unique(images.y.astype(str) if images.y.dtype == object else images.y,
                               return_inverse=True)
    if len(classes) < 2:
        raise DeepError(f"training needs at least two classes, got only {classes.tolist()}")
    X = images.X
    if cfg.validation_data is None:
        return images, classes, _split(X, y_enc, cfg.validation_split, cfg.seed)
    val = load_images(cfg.validation_data, size=X.shape[1:3], channels=c)
    index = {str(k): i for i, k in enumerate(classes)}
    unknown = sorted({str(v) for v in val.y} - set(index))
    if unknown:
        raise DeepError(f"validation labels not in the training data: {unknown}")
    return images, classes, (X, y_enc, val.X, np.array([index[str(v)] for v in val.y]))


def _build_model(b, image_shape: tuple, n_classes: int, mode, cfg: TransferConfig):
    """image -> preprocessing -> base (inference mode) -> pooling -> head, as one Keras model."""
    keras = keras_module()
    from modelworks.deep.layers import ImagePreprocessing

    inputs = keras.Input(shape=image_shape, name="image")
    x = ImagePreprocessing(mode, name="preprocess")(inputs) if mode else inputs
    try:
        features = b.model(x, training=False)
    except Exception as e:
        raise DeepError(f"base {b.name} cannot take images of shape {image_shape}: {e}") from e
    if len(features.shape) == 4:
        features = keras.layers.GlobalAveragePooling2D(name="head_pool")(features)
    elif len(features.shape) > 2:
        features = keras.layers.Flatten(name="head_flatten")(features)
    head = cfg.head
    out = (head(features, n_classes) if callable(head)
           else HEADS[head](keras, features, n_classes, int(cfg.head_units), float(cfg.dropout)))
    return keras.Model(inputs, out, name="transfer")


def _epoch_tracker(keras, rows: list, bar, on_epoch, total: int):
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
                bar.set_postfix({k: f"{v:.3f}" for k, v in row.items() if isinstance(v, float)})
                bar.update(1)
            if on_epoch is not None:
                on_epoch(row | {"epochs": total, "phase_epochs": self.n_epochs})

    return _Epochs()


def _train(model, b, phases, train, validation, class_weight, cfg: TransferConfig):
    """Run the phases; return the per-epoch rows and how many base layers fine-tuning unfroze."""
    keras = keras_module()
    from modelworks._progress import progress as progress_bar

    if cfg.from_scratch:
        b.model.trainable = True
    else:
        b.model.trainable = not cfg.freeze
        for lyr in _layers_of(b.model):  # BatchNormalization stays in inference mode
            if isinstance(lyr, keras.layers.BatchNormalization):
                lyr.trainable = False
    total = sum(p[1] for p in phases)
    bar = progress_bar(total=total, desc="training", unit="epoch") if cfg.progress else None
    rows: list[dict[str, Any]] = []
    unfrozen = None
    tracker = _epoch_tracker(keras, rows, bar, cfg.on_epoch, total)
    try:
        for phase, n_epochs, lr in phases:
            if phase == "fine_tune":
                unfrozen = _set_fine_tune(keras, b.model, int(cfg.fine_tune_layers))
            model.compile(optimizer=keras.optimizers.Adam(lr),
                          loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            callbacks = [tracker]
            if cfg.early_stopping and validation is not None:
                callbacks.insert(0, keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=int(cfg.patience), restore_best_weights=True))
            tracker.phase, tracker.offset, tracker.n_epochs = phase, len(rows), n_epochs
            model.fit(*train, epochs=n_epochs, batch_size=int(cfg.batch_size), validation_data=validation,
                      class_weight=class_weight, callbacks=callbacks, verbose=0, shuffle=True)
    finally:
        if bar is not None:
            bar.close()
    return rows, unfrozen
