"""``import modelworks.deep`` and the CLI stay light: no Keras or PyTorch until used."""

from __future__ import annotations

import subprocess
import sys


def test_importing_deep_and_building_the_cli_loads_neither_keras_nor_torch():
    code = ("import sys, modelworks, modelworks.deep; from modelworks.cli import build_parser; "
            "build_parser(); print(sorted(m for m in ('keras', 'torch', 'matplotlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.strip() == "[]"
