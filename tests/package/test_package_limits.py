"""The memory a package may take before its model is built: stated, and enforced before reading."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

import modelworks.package as mp
from modelworks.exceptions import UnsafePackageError
from modelworks.package import _audit


def test_the_expansion_limit_is_a_multiple_of_the_size_with_a_floor_and_a_ceiling():
    assert _audit.expansion_limit(1024) == _audit.MIN_EXPANSION_BYTES == 256 * 1024**2
    assert _audit.expansion_limit(10 * 1024**2) == 640 * 1024**2
    assert _audit.expansion_limit(1024**3) == _audit.MAX_EXPANSION_BYTES == 8 * 1024**3


def _skops_with_member(path, size):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("schema.json", b'{"__loader__": "ListNode", "__class__": "list", "__module__": "builtins", '
                                   b'"content": []}')
        with zf.open("big.npy", "w", force_zip64=True) as f:
            chunk = b"\0" * 2**24
            for _ in range(size // len(chunk)):
                f.write(chunk)


def test_a_small_file_that_inflates_past_the_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "bomb.skops"
    _skops_with_member(path, 320 * 1024**2)
    assert path.stat().st_size < 1024**2
    with pytest.raises(UnsafePackageError, match="over the limit of 268,435,456"):
        _audit.audit_skops(path)


def test_a_file_within_the_limit_passes(tmp_path):
    path = tmp_path / "ok.skops"
    _skops_with_member(path, 64 * 1024**2)
    assert _audit.audit_skops(path) == ["builtins.list"]


def test_a_real_model_is_far_below_the_limit(tmp_path):
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 5)), columns=list("abcde"))
    y = (X["a"] > 0).astype(int)
    pkg = mp.save(RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y), tmp_path / "p", X_sample=X)
    skops = pkg / "model.skops"
    with zipfile.ZipFile(skops) as zf:
        expanded = sum(i.file_size for i in zf.infolist())
    assert expanded < _audit.expansion_limit(skops.stat().st_size) / 10
