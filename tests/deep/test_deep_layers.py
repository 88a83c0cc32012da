"""The attention layers and the custom-model template: correct maths, masks, saving."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from modelworks.deep import layers as L  # noqa: E402
from modelworks.deep import load_model  # noqa: E402
from modelworks.exceptions import DeepError  # noqa: E402


def _np(t):
    return np.asarray(keras.ops.convert_to_numpy(t))


def _reference(x, wq, wk, wv):
    q, k, v = x @ wq, x @ wk, x @ wv
    s = q @ k.transpose(0, 2, 1) / np.sqrt(wq.shape[1])
    s = np.exp(s - s.max(-1, keepdims=True))
    w = s / s.sum(-1, keepdims=True)
    return w @ v, w


@pytest.fixture
def x():
    # time (5) differs from units (4) and features (3): the chapter's layer fails on this shape
    return np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")


def test_self_attention_matches_the_scaled_dot_product_formula(x):
    layer = L.SelfAttention(4)
    out, weights = layer(x, return_attention_scores=True)
    ref_out, ref_w = _reference(x, *(_np(w) for w in (layer.query_kernel, layer.key_kernel,
                                                        layer.value_kernel)))
    assert out.shape == (2, 5, 4) and weights.shape == (2, 5, 5)
    np.testing.assert_allclose(_np(out), ref_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(weights).sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(_np(weights), ref_w, rtol=1e-5, atol=1e-6)


def test_self_attention_agrees_with_keras_dot_product_attention(x):
    layer = L.SelfAttention(6, use_bias=True)
    out = _np(layer(x))
    q, k, v = (_np(layer._project(x, n)) for n in ("query", "key", "value"))
    # keras.ops wants (batch, time, heads, dim)
    ref = _np(keras.ops.dot_product_attention(q[:, :, None], k[:, :, None], v[:, :, None]))[:, :, 0]
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_self_attention_is_permutation_equivariant(x):
    layer = L.SelfAttention(4)
    perm = np.array([3, 0, 4, 1, 2])
    np.testing.assert_allclose(_np(layer(x[:, perm])), _np(layer(x))[:, perm], rtol=1e-5, atol=1e-6)


def test_masked_keys_get_no_weight_and_do_not_change_other_outputs(x):
    layer = L.SelfAttention(4)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    out, w = layer(x, mask=mask, return_attention_scores=True)
    assert np.allclose(_np(w)[0, :, 3:], 0.0)
    changed = x.copy()
    changed[0, 3:] = 99.0  # padding content must not matter
    np.testing.assert_allclose(_np(layer(changed, mask=mask))[0, :3], _np(out)[0, :3],
                               rtol=1e-5, atol=1e-6)


def test_causal_attention_never_looks_ahead(x):
    _, w = L.SelfAttention(4, causal=True)(x, return_attention_scores=True)
    assert np.allclose(np.triu(_np(w)[0], k=1), 0.0)


def test_multi_head_self_attention_keeps_the_input_shape(x):
    layer = L.MultiHeadSelfAttention(2, 4, residual=True)
    out = _np(layer(x))
    assert out.shape == x.shape
    np.testing.assert_allclose(out - x, _np(layer.attention(x, x)), rtol=1e-5, atol=1e-6)


def test_configs_round_trip():
    for layer in (L.SelfAttention(8, causal=True, dropout=0.1), L.MultiHeadSelfAttention(2, 4),
                  L.ImagePreprocessing("vgg16")):
        again = type(layer).from_config(layer.get_config())
        assert again.get_config() == layer.get_config()
    model = L.AttentionClassifier(3, units=8, hidden=16, dropout=0.2)
    assert L.AttentionClassifier.from_config(model.get_config()).get_config() == model.get_config()


@pytest.mark.parametrize(("kwargs", "match"), [({"units": 0}, "units must be a positive"),
                                               ({"units": 4, "dropout": 1.0}, "dropout must be")])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        L.SelfAttention(**kwargs)


def test_chapter_attention_shape_problem_is_fixed():
    # softmax(x W) @ x needs units == time; ours works for any time, features and units
    for t, f, u in [(7, 3, 5), (2, 9, 16)]:
        out = L.SelfAttention(u)(np.zeros((1, t, f), "float32"))
        assert tuple(out.shape) == (1, t, u)


LOAD_AND_PREDICT = """
import sys, numpy as np
from modelworks.deep import load_model
x = np.load(sys.argv[1])
for name in ("functional", "subclassed"):
    m = load_model(sys.argv[2] + f"/{name}.keras")
    np.save(sys.argv[2] + f"/{name}_pred.npy", np.asarray(m.predict(x, verbose=0)))
"""


def test_models_with_custom_layers_reload_in_a_new_process(tmp_path):
    keras.utils.set_random_seed(1)
    x = np.random.default_rng(1).normal(size=(4, 6, 5)).astype("float32")
    inp = keras.Input((6, 5))
    h = L.SelfAttention(8, name="attn")(inp)
    h = L.MultiHeadSelfAttention(2, 4, residual=True, name="mhsa")(h)
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.GlobalAveragePooling1D()(h))
    functional = keras.Model(inp, out)
    subclassed = L.AttentionClassifier(3, units=8, hidden=16)
    subclassed.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    subclassed.fit(x, np.array([0, 1, 2, 0]), epochs=1, verbose=0)
    expected = {"functional": _np(functional.predict(x, verbose=0)),
                "subclassed": _np(subclassed.predict(x, verbose=0))}
    functional.save(tmp_path / "functional.keras")
    subclassed.save(tmp_path / "subclassed.keras")
    np.save(tmp_path / "x.npy", x)
    subprocess.run([sys.executable, "-c", LOAD_AND_PREDICT, str(tmp_path / "x.npy"), str(tmp_path)],
                   check=True, timeout=120)
    for name, pred in expected.items():
        np.testing.assert_array_equal(np.load(tmp_path / f"{name}_pred.npy"), pred)


FOREIGN = """
import os, sys
sys.path.insert(0, sys.argv[1])
import keras, foreign_layers_mw
inp = keras.Input((3,))
keras.Model(inp, foreign_layers_mw.Doubler()(inp)).save(sys.argv[1] + "/foreign.keras")
inp = keras.Input((3,))
keras.Model(inp, keras.layers.Lambda(lambda t: t * 2)(inp)).save(sys.argv[1] + "/lambda.keras")
"""


def test_loading_refuses_unknown_custom_layers_and_names_the_module(tmp_path):
    (tmp_path / "foreign_layers_mw.py").write_text(textwrap.dedent("""
        import keras
        @keras.saving.register_keras_serializable(package="foreign")
        class Doubler(keras.layers.Layer):
            def call(self, x):
                return x * 2
    """))
    subprocess.run([sys.executable, "-c", FOREIGN, str(tmp_path)], check=True, timeout=120)
    with pytest.raises(DeepError, match=r"Doubler .*'foreign>Doubler'.*import foreign_layers_mw"):
        load_model(tmp_path / "foreign.keras")
    sys.path.insert(0, str(tmp_path))
    try:
        import foreign_layers_mw  # noqa: F401 - registering the class is the point

        model = load_model(tmp_path / "foreign.keras")
        assert _np(model(np.ones((1, 3), "float32"))).tolist() == [[2.0, 2.0, 2.0]]
    finally:
        sys.path.remove(str(tmp_path))
    with pytest.raises(DeepError, match="Lambda layer"):
        load_model(tmp_path / "lambda.keras")


def test_load_model_errors_on_missing_and_non_keras_files(tmp_path):
    from modelworks.exceptions import DataFileError

    with pytest.raises(DataFileError, match="model file not found"):
        load_model(tmp_path / "nope.keras")
    (tmp_path / "model.h5").write_bytes(b"\x89HDF")
    with pytest.raises(DeepError, match="expected a native Keras file ending in .keras"):
        load_model(tmp_path / "model.h5")
    (tmp_path / "broken.keras").write_text("not a zip")
    with pytest.raises(DeepError, match="is not a Keras 3 model file"):
        load_model(tmp_path / "broken.keras")
