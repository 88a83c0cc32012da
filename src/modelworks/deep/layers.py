"""Custom Keras layers and a custom-model template, all serializable.

Importing this module imports Keras (on the PyTorch backend unless ``KERAS_BACKEND`` says
otherwise); ``import modelworks`` and ``import modelworks.deep`` do not.

Every class here is registered with ``@keras.saving.register_keras_serializable(package=
"modelworks")`` and implements ``get_config``, so a model using them saves to a native
``.keras`` file and loads back, in a new process, after ``import modelworks.deep.layers``
(:func:`modelworks.deep.load_model` does that import for you).

The chapter's attention layer computes ``softmax(x @ W) @ x``: ``softmax(x @ W)`` has shape
``(batch, time, units)`` and cannot be multiplied by ``x`` of shape ``(batch, time, features)``
unless ``units == time``, and it never compares positions with each other. :class:`SelfAttention`
is the correct scaled dot-product form: queries, keys and values are three projections of the
input, the weights ``softmax(q k^T / sqrt(d))`` have shape ``(batch, time, time)`` and each row
sums to one, and the output ``weights @ v`` has shape ``(batch, time, units)`` for any input.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402, TID253 - this module defines Keras layers; importing it means using Keras
from keras import ops  # noqa: E402, TID253

__all__ = ["SelfAttention", "MultiHeadSelfAttention", "AttentionClassifier", "ImagePreprocessing"]

_register = keras.saving.register_keras_serializable(package="modelworks")


@_register
class SelfAttention(keras.layers.Layer):
    """Single-head scaled dot-product self-attention.

    For inputs ``x`` of shape ``(batch, time, features)``::

        q, k, v = x @ Wq, x @ Wk, x @ Wv              # (batch, time, units) each
        weights = softmax(q @ k^T / sqrt(units))       # (batch, time, time), rows sum to 1
        output  = weights @ v                          # (batch, time, units)

    Parameters
    ----------
    units : int
        Size of the query, key and value projections (and of the output).
    use_bias : bool, default=False
        Add a bias to the three projections.
    causal : bool, default=False
        Position ``t`` attends only to positions ``<= t`` (for autoregressive models).
    dropout : float, default=0.0
        Dropout on the attention weights during training.
    kernel_initializer : str or initializer, default="glorot_uniform"

    Notes
    -----
    Keras masks (e.g. from ``Embedding(mask_zero=True)``) are honoured: masked positions get
    zero attention weight as keys, and the mask is passed on. Call with
    ``return_attention_scores=True`` to get ``(output, weights)``.
    """

    def __init__(self, units: int, *, use_bias: bool = False, causal: bool = False,
                 dropout: float = 0.0, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if int(units) <= 0:
            raise ValueError(f"units must be a positive integer, got {units!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.units = int(units)
        self.use_bias = bool(use_bias)
        self.causal = bool(causal)
        self.dropout = float(dropout)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True
        self._dropout_layer = keras.layers.Dropout(self.dropout)

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"SelfAttention expects inputs of shape (batch, time, features), got {tuple(input_shape)}"
            )
        features = input_shape[-1]
        for name in ("query", "key", "value"):
            setattr(self, f"{name}_kernel", self.add_weight(
                name=f"{name}_kernel", shape=(features, self.units),
                initializer=self.kernel_initializer, trainable=True))
            if self.use_bias:
                setattr(self, f"{name}_bias", self.add_weight(
                    name=f"{name}_bias", shape=(self.units,), initializer="zeros", trainable=True))

    def _project(self, x, name):
        y = ops.matmul(x, getattr(self, f"{name}_kernel"))
        return y + getattr(self, f"{name}_bias") if self.use_bias else y

    def call(self, inputs, mask=None, training=None, return_attention_scores=False):
        q = self._project(inputs, "query")
        k = self._project(inputs, "key")
        v = self._project(inputs, "value")
        scores = ops.matmul(q, ops.transpose(k, (0, 2, 1))) / ops.sqrt(
            ops.cast(self.units, q.dtype))
        allowed = None
        if mask is not None:  # keys that are padding get no weight
            allowed = ops.expand_dims(ops.cast(mask, "bool"), axis=1)
        if self.causal:
            steps = ops.shape(scores)[-1]
            lower = ops.cast(ops.tril(ops.ones((steps, steps))), "bool")[None, :, :]
            allowed = lower if allowed is None else ops.logical_and(allowed, lower)
        if allowed is not None:
            scores = ops.where(allowed, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)
        weights = self._dropout_layer(weights, training=training)
        output = ops.matmul(weights, v)
        if return_attention_scores:
            return output, weights
        return output

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.units)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "use_bias": self.use_bias,
            "causal": self.causal,
            "dropout": self.dropout,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        })
        return config


@_register
class MultiHeadSelfAttention(keras.layers.Layer):
    """Multi-head self-attention: Keras' own ``MultiHeadAttention`` with query = key = value.

    Parameters
    ----------
    num_heads : int
        Number of attention heads.
    key_dim : int
        Size of each head's query and key projections.
    dropout : float, default=0.0
        Dropout on the attention weights during training.
    causal : bool, default=False
        Position ``t`` attends only to positions ``<= t``.
    residual : bool, default=False
        Add the input to the output (``x + attention(x)``), the Transformer block's habit.

    The output has the input's shape ``(batch, time, features)``.
    """

    def __init__(self, num_heads: int, key_dim: int, *, dropout: float = 0.0,
                 causal: bool = False, residual: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim)
        self.dropout = float(dropout)
        self.causal = bool(causal)
        self.residual = bool(residual)
        self.supports_masking = True
        self.attention = keras.layers.MultiHeadAttention(
            num_heads=self.num_heads, key_dim=self.key_dim, dropout=self.dropout, name="mha")

    def build(self, input_shape):
        self.attention.build(input_shape, input_shape)

    def call(self, inputs, mask=None, training=None):
        out = self.attention(inputs, inputs, query_mask=mask, value_mask=mask,
                             use_causal_mask=self.causal, training=training)
        return inputs + out if self.residual else out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.update({"num_heads": self.num_heads, "key_dim": self.key_dim,
                       "dropout": self.dropout, "causal": self.causal, "residual": self.residual})
        return config


@_register
class AttentionClassifier(keras.Model):
    """The chapter's custom-model pattern, made correct: a template for subclassing ``Model``.

    ``SelfAttention -> GlobalAveragePooling1D -> Dense(relu) -> Dropout -> Dense(softmax)`` over
    sequences of shape ``(batch, time, features)``. To write your own model, copy this class:
    create the layers in ``__init__``, wire them in ``call``, store every constructor argument
    and return it from ``get_config``, and register the class so ``.keras`` files load it back.

    Parameters
    ----------
    num_classes : int
        Number of output classes (softmax probabilities).
    units : int, default=64
        Size of the attention projections.
    hidden : int, default=128
        Width of the dense layer after pooling.
    dropout : float, default=0.0
        Dropout before the output layer.
    """

    def __init__(self, num_classes: int, *, units: int = 64, hidden: int = 128,
                 dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.units = int(units)
        self.hidden = int(hidden)
        self.dropout = float(dropout)
        self.attention = SelfAttention(self.units, name="attention")
        self.pool = keras.layers.GlobalAveragePooling1D(name="pool")
        self.dense1 = keras.layers.Dense(self.hidden, activation="relu", name="dense1")
        self.drop = keras.layers.Dropout(self.dropout, name="dropout")
        self.dense2 = keras.layers.Dense(self.num_classes, activation="softmax", name="dense2")

    def call(self, inputs, training=None, mask=None):
        x = self.attention(inputs, mask=mask, training=training)
        x = self.pool(x, mask=mask)
        x = self.dense1(x)
        x = self.drop(x, training=training)
        return self.dense2(x)

    def get_config(self):
        config = super().get_config()
        config.update({"num_classes": self.num_classes, "units": self.units,
                       "hidden": self.hidden, "dropout": self.dropout})
        return config


# name -> keras.applications module whose preprocess_input the base expects
_PREPROCESS_MODULES = {
    "vgg16", "vgg19", "resnet", "resnet_v2", "mobilenet", "mobilenet_v2", "mobilenet_v3",
    "efficientnet", "efficientnet_v2", "densenet", "inception_v3", "inception_resnet_v2",
    "xception", "nasnet", "convnext",
}


@_register
class ImagePreprocessing(keras.layers.Layer):
    """Apply a ``keras.applications`` model's own ``preprocess_input`` inside the model.

    Keeping it a layer (not a ``Lambda``) means the saved model takes raw 0-255 pixels and still
    loads with ``safe_mode=True``.

    Parameters
    ----------
    mode : str
        ``"rescale"`` (divide by 255) or a ``keras.applications`` module name such as
        ``"vgg16"``, ``"resnet"``, ``"mobilenet_v2"``, ``"efficientnet"``.
    """

    def __init__(self, mode: str, **kwargs):
        super().__init__(**kwargs)
        if mode != "rescale" and mode not in _PREPROCESS_MODULES:
            raise ValueError(
                f"unknown preprocessing {mode!r}; use 'rescale' or one of: "
                + ", ".join(sorted(_PREPROCESS_MODULES))
            )
        self.mode = mode

    def call(self, inputs):
        if self.mode == "rescale":
            return inputs / 255.0
        import importlib

        module = importlib.import_module(f"keras.applications.{self.mode}")
        return module.preprocess_input(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config
