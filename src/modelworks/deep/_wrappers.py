"""scikit-learn estimators around a Keras multi-layer perceptron, for tabular data."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from modelworks._compat.sklearn import check_sample_weight
from modelworks._deprecation import RandomStateAlias
from modelworks._validation import check_scalar
from modelworks.deep._keras import keras_module, load_keras_model, seeded
from modelworks.exceptions import DeepError

FORMAT = "modelworks.keras_mlp"
FORMAT_VERSION = 1
_PARAMS_FILE = "params.json"
_MODEL_FILE = "model.keras"


class _KerasMLP(RandomStateAlias, BaseEstimator):
    """Shared fitting, prediction and native persistence of the two wrappers."""

    _loss: str = ""

    def __init__(self, *, hidden_units=(64,), activation="relu", dropout=0.1, epochs=50,
                 batch_size=64, learning_rate=1e-3, early_stopping=True, validation_fraction=0.1,
                 patience=5, random_state=0, verbose=0, seed="deprecated"):
        self.hidden_units = hidden_units
        self.activation = activation
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.verbose = verbose
        self.seed = seed

    # -- building and fitting ------------------------------------------------------------------
    def _check_params(self) -> tuple[int, ...]:
        units = (self.hidden_units,) if isinstance(self.hidden_units, int | np.integer) else tuple(
            self.hidden_units)
        if any(int(u) <= 0 for u in units):
            raise DeepError(f"hidden_units must be positive integers, got {self.hidden_units!r}")
        check_scalar(self.dropout, "dropout", kind=float, low=0, high=1, closed="left", error=DeepError)
        for name in ("epochs", "batch_size"):
            check_scalar(getattr(self, name), name, kind=int, low=1, error=DeepError)
        check_scalar(self.learning_rate, "learning_rate", kind=float, low=0, closed="neither",
                     error=DeepError)
        return tuple(int(u) for u in units)

    def _build(self, X: np.ndarray, n_outputs: int, output_activation: str):
        keras = keras_module()
        inputs = keras.Input(shape=(X.shape[1],), name="features")
        norm = keras.layers.Normalization(name="standardize")
        norm.adapt(X)
        x = norm(inputs)
        for i, units in enumerate(self._check_params()):
            x = keras.layers.Dense(units, activation=self.activation, name=f"hidden_{i}")(x)
            if self.dropout:
                x = keras.layers.Dropout(float(self.dropout), name=f"dropout_{i}")(x)
        outputs = keras.layers.Dense(n_outputs, activation=output_activation, name="output")(x)
        model = keras.Model(inputs, outputs, name=type(self).__name__)
        model.compile(optimizer=keras.optimizers.Adam(float(self.learning_rate)), loss=self._loss)
        return model

    def _fit_keras(self, X, y_encoded, n_outputs, output_activation, sample_weight):
        keras = keras_module()
        self._check_params()
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X, dtype=np.float32)
        random_state = self._random_state()
        with seeded(random_state):
            self.model_ = self._build(X, n_outputs, output_activation)
            callbacks, validation = [], 0.0
            # early stopping needs a validation slice big enough to mean something
            if self.early_stopping and len(X) * float(self.validation_fraction) >= 10:
                validation = float(self.validation_fraction)
                callbacks.append(keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=int(self.patience), restore_best_weights=True))
            if validation:  # Keras takes the *last* rows for validation: shuffle them first
                order = np.random.default_rng(random_state).permutation(len(X))
                X, y_encoded = X[order], y_encoded[order]
                if sample_weight is not None:
                    sample_weight = sample_weight[order]
            history = self.model_.fit(
                X, y_encoded, epochs=int(self.epochs), batch_size=int(self.batch_size),
                validation_split=validation, callbacks=callbacks, sample_weight=sample_weight,
                verbose=int(self.verbose), shuffle=True)
        self.history_ = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        self.n_iter_ = len(history.history.get("loss", []))
        return self

    def _predict_raw(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=np.float32)
        return np.asarray(self.model_.predict(X, batch_size=max(256, int(self.batch_size)),
                                              verbose=0))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags

    # -- native persistence (no pickle) --------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"n_features_in_": int(self.n_features_in_)} | (
            {"feature_names_in_": [str(c) for c in self.feature_names_in_]}
            if hasattr(self, "feature_names_in_") else {})

    def _set_state(self, state: dict[str, Any]) -> None:
        self.n_features_in_ = int(state["n_features_in_"])
        if "feature_names_in_" in state:
            self.feature_names_in_ = np.asarray(state["feature_names_in_"], dtype=object)

    def save_native(self, directory: str | os.PathLike) -> Path:
        """Save to ``directory``: ``params.json`` (parameters and fitted state) and ``model.keras``.

        Nothing is pickled: the network is a native Keras file, the rest is JSON.
        The directory is written atomically (complete or not at all).

        Returns
        -------
        Path
            The directory.
        """
        check_is_fitted(self, "model_")
        from modelworks import __version__
        from modelworks._io import atomic_path, to_jsonable

        keras = keras_module()
        params = self.get_params()
        params["hidden_units"] = list(self._check_params())
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "class": type(self).__name__,
                "params": to_jsonable(params), "state": self._state(),
                "versions": {"modelworks": __version__, "keras": keras.__version__,
                             "backend": keras.backend.backend()}}
        directory = Path(directory)
        with atomic_path(directory, suffix="") as tmp:
            tmp.mkdir()
            self.model_.save(tmp / _MODEL_FILE)
            (tmp / _PARAMS_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        return directory

    @classmethod
    def load_native(cls, directory: str | os.PathLike):
        """Load an estimator written by :meth:`save_native` (``safe_mode=True``, no pickle).

        Raises
        ------
        DeepError
            The directory is not a saved wrapper, holds another class, or its Keras file uses
            custom layers that are not registered (the message names the module to import).
        """
        directory = Path(directory)
        meta_path = directory / _PARAMS_FILE
        if not meta_path.is_file():
            raise DeepError(f"{directory} is not a saved Keras MLP: {_PARAMS_FILE} is missing "
                            "(write one with estimator.save_native(directory))")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise DeepError(f"{meta_path} is not valid JSON: {e}") from e
        if meta.get("format") != FORMAT or int(meta.get("format_version", 0)) > FORMAT_VERSION:
            raise DeepError(f"{meta_path}: unsupported format {meta.get('format')!r} version "
                            f"{meta.get('format_version')!r}; expected {FORMAT} <= {FORMAT_VERSION}")
        klass = {c.__name__: c for c in (KerasMLPClassifier, KerasMLPRegressor)}.get(meta["class"])
        if klass is None or not issubclass(klass, cls):
            raise DeepError(f"{directory} holds a {meta['class']}, not a {cls.__name__}; "
                            f"load it with {meta['class']}.load_native")
        params = dict(meta["params"])
        params["hidden_units"] = tuple(params["hidden_units"])
        if "random_state" not in params and "seed" in params:  # saved before modelworks 0.2
            params["random_state"] = params.pop("seed")
        est = klass(**params)
        est._set_state(meta["state"])
        est.model_ = load_keras_model(directory / _MODEL_FILE)
        return est


class KerasMLPClassifier(ClassifierMixin, _KerasMLP):
    """A Keras multi-layer perceptron with the scikit-learn classifier contract.

    ``Input -> Normalization -> [Dense(units, activation) -> Dropout] * k -> Dense(softmax)``,
    trained with Adam on sparse categorical cross-entropy; early stopping on a validation slice.
    Works in Pipelines, cross-validation, tuning and stacking (``clone`` and ``get_params``).

    Parameters
    ----------
    hidden_units : tuple of int, default=(64,)
        Width of each hidden layer.
    activation : str, default="relu"
        Activation of the hidden layers.
    dropout : float, default=0.1
        Dropout after each hidden layer.
    epochs : int, default=50
        Maximum passes over the data.
    batch_size : int, default=64
        Rows per gradient step (Keras on PyTorch costs about 5 ms per step on one CPU core,
        so larger batches fit much faster).
    learning_rate : float, default=1e-3
        Adam learning rate.
    early_stopping : bool, default=True
        Stop when the validation loss has not improved for ``patience`` epochs and keep the
        best weights (only when the validation slice has at least 10 rows).
    validation_fraction : float, default=0.1
        Share of the training rows held out for early stopping.
    patience : int, default=5
    random_state : int or None, default=0
        Seeds weight initialisation, dropout and shuffling (global generators are restored).
    seed : int or None, optional
        Deprecated name of ``random_state`` (until modelworks 0.3; warns).
    verbose : int, default=0
        Keras' own training output.

    Attributes
    ----------
    classes_ : ndarray
    model_ : keras.Model
    history_ : dict of list
        Per-epoch loss (and val_loss).
    n_features_in_ : int
    """

    _loss = "sparse_categorical_crossentropy"

    def fit(self, X, y, sample_weight=None):
        """Fit the network; returns ``self``."""
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"KerasMLPClassifier needs at least 2 classes in y, got 1 class: {self.classes_[0]!r}")
        return self._fit_keras(X, encoded.astype("int32"), len(self.classes_), "softmax",
                               sample_weight)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        proba = self._predict_raw(X).astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """Most probable class label per row."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def _state(self) -> dict[str, Any]:
        from modelworks._io import to_jsonable

        return super()._state() | {"classes_": to_jsonable(self.classes_),
                                   "classes_dtype": self.classes_.dtype.str}

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        dtype = np.dtype(state["classes_dtype"])
        self.classes_ = np.asarray(state["classes_"], dtype=object if dtype.kind == "O" else dtype)


class KerasMLPRegressor(RegressorMixin, _KerasMLP):
    """A Keras multi-layer perceptron with the scikit-learn regressor contract.

    ``Input -> Normalization -> [Dense -> Dropout] * k -> Dense(linear)`` on a standardised
    target (predictions are transformed back), trained with Adam on mean squared error.
    Parameters are those of :class:`KerasMLPClassifier`.

    Attributes
    ----------
    model_ : keras.Model
    y_mean_, y_scale_ : ndarray
        The target standardisation.
    history_ : dict of list
    n_features_in_ : int
    """

    _loss = "mean_squared_error"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y, sample_weight=None):
        """Fit the network; returns ``self``."""
        X, y = validate_data(self, X, y, dtype=np.float32, y_numeric=True, multi_output=True)
        y = np.asarray(y, dtype=np.float32)
        self._y_1d = y.ndim == 1
        y2 = y.reshape(len(y), -1)
        self.y_mean_ = y2.mean(axis=0)
        scale = y2.std(axis=0)
        self.y_scale_ = np.where(scale > 0, scale, 1.0).astype(np.float32)
        return self._fit_keras(X, (y2 - self.y_mean_) / self.y_scale_, y2.shape[1], "linear",
                               sample_weight)

    def predict(self, X) -> np.ndarray:
        """Predicted target values (1-D for a 1-D target)."""
        out = self._predict_raw(X).astype(np.float64) * self.y_scale_ + self.y_mean_
        return out.ravel() if out.shape[1] == 1 else out

    def _state(self) -> dict[str, Any]:
        return super()._state() | {"y_mean_": self.y_mean_.tolist(),
                                   "y_scale_": self.y_scale_.tolist()}

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        self.y_mean_ = np.asarray(state["y_mean_"], dtype=np.float32)
        self.y_scale_ = np.asarray(state["y_scale_"], dtype=np.float32)
