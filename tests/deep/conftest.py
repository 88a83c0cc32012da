"""Fixtures for the deep-learning tests: tiny image folders and tiny saved base models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

from deep_helpers import save_tiny_base, write_digit_folder  # noqa: E402


@pytest.fixture(scope="session")
def digit_dir(tmp_path_factory) -> Path:
    return write_digit_folder(tmp_path_factory.mktemp("images") / "digits")


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    return save_tiny_base(tmp_path_factory.mktemp("base") / "tiny.keras")
