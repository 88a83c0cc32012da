"""Every example in examples/ and every snippet in the README runs."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def _covered_elsewhere() -> set[str]:
    """Examples that an area's own test file already runs (tests/<area>/test_*examples*.py)."""
    covered = set()
    for test in (ROOT / "tests").glob("*/test_*example*.py"):
        text = test.read_text()
        covered |= {p.name for p in EXAMPLES if p.name in text or p.stem in text}
    return covered


@pytest.mark.parametrize("example", [p for p in EXAMPLES if p.name not in _covered_elsewhere()],
                         ids=lambda p: p.name)
def test_example_runs(example, tmp_path):
    proc = subprocess.run([sys.executable, str(example)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert proc.stdout.strip(), "an example should print what it did"


def readme_blocks() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text()
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w+)\n(.*?)```", text, re.S)]


def test_readme_starts_with_the_two_commands():
    lang, first = readme_blocks()[0]
    assert first.split() == ["make", "demo", "make", "test"] or "make demo" in first and "make test" in first


def test_readme_snippets_run(tmp_path):
    """The Python blocks in order in one namespace (like a reader), then every `modelworks ...` line of
    the bash blocks in the same directory. The first block (`make demo` / `make test`) is what CI runs."""
    namespace: dict = {}
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        blocks = [code for lang, code in readme_blocks() if lang == "python"]
        assert blocks
        for code in blocks:
            exec(compile(code, "README.md", "exec"), namespace)
    finally:
        os.chdir(old)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    ran = 0
    for lang, code in readme_blocks():
        if lang != "bash":
            continue
        for line in code.splitlines():
            line = line.split(" #")[0].strip()
            if not line.startswith("modelworks "):
                continue
            argv = shlex.split(line)
            if argv[1] == "serve":  # a server runs until stopped: tests/serve starts and stops real ones
                continue
            proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
            assert proc.returncode in (0, 1), f"{line}\n{proc.stderr[-3000:]}"  # drift exits 1 on drift
            ran += 1
    assert ran >= 3
