"""transfer(): data sources, the two phases, outputs, and every error it promises."""

from __future__ import annotations

import urllib.error

import numpy as np
import pandas as pd
import pytest

keras = pytest.importorskip("keras")
from deep_helpers import save_tiny_base, write_digit_folder  # noqa: E402

from modelworks.deep import TransferConfig, load_images, load_model, transfer  # noqa: E402
from modelworks.exceptions import (  # noqa: E402
    ConfigError,
    DataFileError,
    DeepError,
    UnknownNameError,
)

QUICK = {"epochs": 2, "batch_size": 8, "progress": False}


def _leaves(model):
    out = []
    for layer in model.layers:
        out += _leaves(layer) if hasattr(layer, "layers") else [layer]
    return out


def test_two_phases_freeze_then_fine_tune_top_layers_with_bn_frozen(digit_dir, tiny_base):
    seen = []
    result = transfer(tiny_base, digit_dir, fine_tune_layers=1, fine_tune_epochs=2,
                      early_stopping=False, on_epoch=seen.append, **QUICK)
    assert result.history["phase"].tolist() == ["head", "head", "fine_tune", "fine_tune"]
    assert result.history["epoch"].tolist() == [1, 2, 3, 4]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(result.history.columns)
    assert [row["epoch"] for row in seen] == [1, 2, 3, 4] and seen[0]["epochs"] == 4
    assert result.classes == ["digit_0", "digit_1", "digit_2"]
    assert result.image_shape == (16, 16, 1)
    assert result.info["phases"][1]["learning_rate"] == pytest.approx(1e-4)
    trainable = {layer.name: layer.trainable for layer in _leaves(result.model)}
    # the base's classifier was cut off; only its top weighted layer (conv2) is unfrozen
    assert "classifier" not in trainable
    assert trainable["conv2"] and not trainable["conv1"] and not trainable["bn1"]
    assert trainable["head_output"]


def test_frozen_base_weights_do_not_move_in_the_head_phase(digit_dir, tiny_base):
    before = load_model(tiny_base).get_layer("conv1").get_weights()[0]
    result = transfer(tiny_base, digit_dir, **QUICK)
    base = next(layer for layer in result.model.layers if hasattr(layer, "layers"))
    np.testing.assert_array_equal(base.get_layer("conv1").get_weights()[0], before)
    assert result.info["trainable_params"] < result.info["total_params"]


def test_arrays_and_dataframe_of_paths_give_the_same_data(digit_dir, tiny_base, tmp_path):
    images = load_images(digit_dir, channels=1)
    files = sorted(p for p in digit_dir.rglob("*.png"))
    frame = pd.DataFrame({"path": [str(p) for p in files], "label": [p.parent.name for p in files]})
    from_frame = load_images(frame, channels=1)
    np.testing.assert_array_equal(from_frame.X, images.X)
    result = transfer(tiny_base, images.X[..., 0], labels=images.y, **QUICK)  # (n, h, w) arrays
    assert result.classes == ["digit_0", "digit_1", "digit_2"]
    assert result.predict(frame).shape == (len(frame),)
    ev = result.evaluate(frame)
    assert ev["n"] == len(frame) and np.sum(ev["confusion_matrix"]) == len(frame)
    assert 0.0 <= ev["accuracy"] <= 1.0


def test_images_are_resized_and_converted_to_what_the_base_takes(digit_dir, tmp_path):
    rgb_base = save_tiny_base(tmp_path / "rgb.keras", size=24, channels=3)
    result = transfer(rgb_base, digit_dir, **QUICK)
    assert result.image_shape == (24, 24, 3)
    assert result.predict_proba(digit_dir).shape[1] == 3


def test_outputs_model_plots_report_and_reload(digit_dir, tiny_base, tmp_path):
    result = transfer(tiny_base, digit_dir, class_weight="balanced", **QUICK)
    paths = result.write(tmp_path / "out")
    for key in ("model", "training_curves", "confusion_matrix", "report", "result"):
        assert paths[key].is_file() and paths[key].stat().st_size > 0
    html = paths["report"].read_text()
    assert "Transfer learning" in html and "plots/training_curves.png" in html
    assert paths["training_curves"].read_bytes()[:4] == b"\x89PNG"
    reloaded = load_model(paths["model"])
    X = load_images(digit_dir, channels=1).X
    np.testing.assert_allclose(reloaded.predict(X, verbose=0), result.model.predict(X, verbose=0),
                               rtol=1e-6, atol=1e-7)


def test_unreadable_images_are_skipped_and_counted(tiny_base, tmp_path):
    folder = write_digit_folder(tmp_path / "imgs", per_class=6)
    (folder / "digit_1" / "broken.png").write_bytes(b"not an image")
    (folder / "digit_1" / "notes.txt").write_text("ignored: not an image suffix")
    result = transfer(tiny_base, folder, **QUICK)
    assert len(result.skipped) == 1 and result.skipped[0].endswith("broken.png")
    assert result.info["n_train"] + result.info["n_validation"] == 18


def test_from_scratch_reinitialises_the_same_architecture(digit_dir, tiny_base):
    pre = transfer(tiny_base, digit_dir, **QUICK)
    scratch = transfer(tiny_base, digit_dir, from_scratch=True, fine_tune_layers=1, **QUICK)
    assert scratch.history["phase"].unique().tolist() == ["scratch"]
    assert len(scratch.history) == 4  # same budget: head + fine-tune epochs
    # everything trains except the BatchNormalization moving mean and variance (2 x 4 channels)
    assert scratch.info["trainable_params"] == scratch.info["total_params"] - 8
    assert pre.model.count_params() == scratch.model.count_params()


# -- errors ----------------------------------------------------------------------------------
def test_one_class_and_empty_classes_are_refused(tiny_base, tmp_path):
    one = write_digit_folder(tmp_path / "one", digits=(3,), per_class=3)
    with pytest.raises(DeepError, match=r"only one class sub-folder \('digit_3'\)"):
        transfer(tiny_base, one, **QUICK)
    empty = write_digit_folder(tmp_path / "empty", digits=(1, 2), per_class=3)
    (empty / "digit_9").mkdir()
    (empty / "digit_9" / "junk.png").write_bytes(b"junk")
    with pytest.raises(DeepError, match="without readable images .*: digit_9"):
        transfer(tiny_base, empty, **QUICK)
    (tmp_path / "flat").mkdir()
    with pytest.raises(DeepError, match="no class sub-folders"):
        transfer(tiny_base, tmp_path / "flat", **QUICK)
    with pytest.raises(DataFileError, match="image folder not found"):
        transfer(tiny_base, tmp_path / "missing", **QUICK)


def test_input_shape_the_base_cannot_take(digit_dir, tiny_base, tmp_path):
    with pytest.raises(DeepError, match=r"takes 16x16 images, not 64x64"):
        transfer(tiny_base, digit_dir, image_size=64, **QUICK)
    with pytest.raises(DeepError, match=r"base VGG16 cannot take input shape 16x16x3"):
        transfer("VGG16", digit_dir, image_size=16, weights=None, **QUICK)
    inp = keras.Input((10,))
    keras.Model(inp, keras.layers.Dense(2)(inp)).save(tmp_path / "tabular.keras")
    with pytest.raises(DeepError, match=r"takes inputs of shape \(10,\), not images"):
        transfer(tmp_path / "tabular.keras", digit_dir, **QUICK)
    X = np.zeros((6, 16, 16, 4), "float32")
    with pytest.raises(DeepError, match="images have 4 channels but the base model takes 1"):
        transfer(tiny_base, X, labels=[0, 1] * 3, **QUICK)


def test_imagenet_weights_without_network_say_so_plainly(digit_dir, tmp_path, monkeypatch):
    import keras.src.utils.file_utils as file_utils

    def offline(*args, **kwargs):  # the one call that would reach the network
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))
    monkeypatch.setattr(file_utils, "urlretrieve", offline)
    with pytest.raises(DeepError, match=r"no network access .*pass a local \.keras model file"):
        transfer("MobileNetV2", digit_dir, image_size=96, **QUICK)


def test_unknown_base_name_and_missing_base_file(digit_dir, tmp_path):
    with pytest.raises(UnknownNameError, match="unknown base model 'VGG17'.*VGG16"):
        transfer("VGG17", digit_dir, **QUICK)
    with pytest.raises(DataFileError, match="base model file not found"):
        transfer(tmp_path / "nope.keras", digit_dir, **QUICK)


def test_base_with_unknown_custom_layer_names_the_module(digit_dir, tiny_base, tmp_path):
    import json
    import zipfile

    with zipfile.ZipFile(tiny_base) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    config = json.loads(files["config.json"])
    config["config"]["layers"][2].update(module="vision_lab.blocks", class_name="FancyConv",
                                         registered_name="vision_lab>FancyConv")
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "custom.keras", "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    with pytest.raises(DeepError, match=r"FancyConv .*import vision_lab\.blocks"):
        transfer(tmp_path / "custom.keras", digit_dir, **QUICK)


def test_bad_options_and_data(digit_dir, tiny_base):
    with pytest.raises(ConfigError, match="epochs must be a whole number >= 1"):
        transfer(tiny_base, digit_dir, epochs=0)
    with pytest.raises(UnknownNameError, match="unknown head 'mlp'"):
        transfer(tiny_base, digit_dir, head="mlp", **QUICK)
    with pytest.raises(ConfigError, match="class_weight must be 'balanced'"):
        transfer(tiny_base, digit_dir, class_weight="inverse", **QUICK)
    with pytest.raises(DeepError, match="needs a column of image paths"):
        transfer(tiny_base, pd.DataFrame({"file_name": ["a.png"], "label": [0]}), **QUICK)
    with pytest.raises(DeepError, match="at least two classes"):
        transfer(tiny_base, np.zeros((4, 16, 16)), labels=[1, 1, 1, 1], **QUICK)
    result = transfer(tiny_base, digit_dir, validation_split=0, **QUICK)
    with pytest.raises(DeepError, match="no validation split was held out"):
        result.evaluate()
    with pytest.raises(DeepError, match="labels not seen in training: 7"):
        result.evaluate(np.zeros((2, 16, 16)), labels=[7, 7])


def test_a_config_object_trains_the_same_model_as_keyword_arguments(digit_dir, tiny_base):
    by_keywords = transfer(tiny_base, digit_dir, head="linear", dropout=0.2, **QUICK)
    config = TransferConfig(head="linear", dropout=0.2, **QUICK)
    by_config = transfer(tiny_base, digit_dir, config=config)
    pd.testing.assert_frame_equal(by_config.history, by_keywords.history)
    assert by_config.info == by_keywords.info
    # keyword arguments override the config's fields; the config itself is left as it was
    longer = transfer(tiny_base, digit_dir, config=config, epochs=3)
    assert len(longer.history) == 3 and config.epochs == 2
    with pytest.raises(ConfigError, match=r"unknown option\(s\) 'epoch'; options are: head, .*epochs"):
        transfer(tiny_base, digit_dir, epoch=3)
    with pytest.raises(ConfigError, match="config must be a TransferConfig, got dict"):
        transfer(tiny_base, digit_dir, config={"epochs": 2})


def test_keras_application_base_offline_with_its_own_preprocessing(digit_dir, tmp_path):
    # weights=None builds the real keras.applications graph without a download
    result = transfer("MobileNetV2", digit_dir, weights=None, image_size=32, epochs=1,
                      fine_tune_layers=2, fine_tune_epochs=1, batch_size=16, progress=False)
    assert result.image_shape == (32, 32, 3)  # grayscale PNGs converted to RGB
    assert result.info["preprocess"] == "mobilenet_v2"
    base = result.model.get_layer("mobilenetv2_1.00_32")
    unfrozen = [layer.name for layer in base.layers if layer.trainable and layer.weights]
    assert unfrozen == ["block_16_project", "Conv_1"]
    assert not any(isinstance(layer, keras.layers.BatchNormalization) and layer.trainable
                   for layer in base.layers)
    path = result.save(tmp_path / "mobilenet.keras")
    X = load_images(digit_dir, size=(32, 32)).X[:4]
    np.testing.assert_allclose(load_model(path).predict(X, verbose=0),
                               result.model.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
