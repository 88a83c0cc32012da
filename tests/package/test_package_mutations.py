"""Randomly mutated packages: every mutation is refused with a typed error, and nothing hangs.

2,000 mutations of the bytes, names and presence of a package's files (directory and archive
forms) must each raise a :class:`~modelworks.exceptions.PackageError`. A second batch re-signs
the manifest after mutating (an attacker who rewrites the hashes), so the corrupted bytes reach
the zip, skops and Parquet parsers: those may load or refuse, but only with a typed error.
"""

from __future__ import annotations

import random
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

import modelworks.package as mp
from modelworks.exceptions import PackageError
from modelworks.package import _files

N_MUTATIONS = 2000
N_RESIGNED = 300


def _mutate_bytes(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    b = bytearray(data)
    op = rng.choice(["flip", "set", "insert", "delete", "truncate", "append", "zero", "swap", "dup"])
    if not b:
        return bytes([rng.randrange(256)]), "insert"
    i = rng.randrange(len(b))
    if op == "flip":
        b[i] ^= 1 << rng.randrange(8)
    elif op == "set":
        old = b[i]
        b[i] = rng.choice([v for v in range(256) if v != old])
    elif op == "insert":
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    elif op == "delete":
        del b[i:i + rng.randint(1, 64)]
    elif op == "truncate":
        b = b[:i]
    elif op == "append":
        b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif op == "zero":
        n = rng.randint(1, 32)
        if all(v == 0 for v in b[i:i + n]):
            b[i] ^= 0xFF
        else:
            b[i:i + n] = bytes(len(b[i:i + n]))
    elif op == "swap":
        j = rng.randrange(len(b))
        if b[i] == b[j]:
            b[i] ^= 0x55
        else:
            b[i], b[j] = b[j], b[i]
    elif op == "dup":
        b[i:i] = b[i:i + rng.randint(1, 64)] or b"\x00"
    return bytes(b), op


def mutate_dir(pkg: Path, rng: random.Random) -> str:
    files = sorted(_files.list_files(pkg))
    kind = rng.random()
    if kind < 0.04:
        victim = rng.choice(files)
        (pkg / victim).unlink()
        return f"delete {victim}"
    if kind < 0.07:
        victim = rng.choice(files)
        (pkg / victim).rename(pkg / (victim + ".bak"))
        return f"rename {victim}"
    if kind < 0.09:
        (pkg / rng.choice(["extra.bin", "model.pkl", "notes.txt"])).write_bytes(b"x")
        return "add file"
    # bias towards the manifest and the model: they are where a loader is most exposed
    victim = rng.choice(["manifest.json"] * 3 + ["model.skops"] * 3 + files)
    data, op = _mutate_bytes((pkg / victim).read_bytes(), rng)
    (pkg / victim).write_bytes(data)
    return f"{op} {victim}"


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120),
                      "c": rng.choice(["x", "y"], size=120)})
    y = (X["a"] > 0).astype(int)
    from modelworks.data import make_pipeline

    model = make_pipeline(X, RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0)).fit(X, y)
    root = tmp_path_factory.mktemp("mut")
    directory = mp.save(model, root / "pkg", X_sample=X, y_sample=y, task="binary", target="y")
    archive = mp.save(model, root / "pkg", X_sample=X, y_sample=y, task="binary", target="y", archive=True)
    mp.load(directory), mp.load(archive)  # both intact versions load
    return directory, archive


def test_2000_mutations_all_give_typed_errors_without_hanging(package, tmp_path):
    directory, archive = package
    rng = random.Random(20261124)
    outcomes, slowest = Counter(), 0.0
    work = tmp_path / "work"
    for i in range(N_MUTATIONS):
        if work.exists():
            shutil.rmtree(work) if work.is_dir() else work.unlink()
        if i % 4 == 3:  # a quarter mutate the single-file archive
            work = tmp_path / "work.mwpkg"
            data, what = _mutate_bytes(archive.read_bytes(), rng)
            work.write_bytes(data)
            what = f"{what} archive"
        else:
            work = tmp_path / "work"
            shutil.copytree(directory, work)
            what = mutate_dir(work, rng)
        t0 = time.perf_counter()
        try:
            mp.load(work)
        except PackageError as e:
            outcomes[type(e).__name__] += 1
        except Exception as e:  # pragma: no cover - this is what the test hunts for
            pytest.fail(f"mutation {i} ({what}) raised an untyped {type(e).__name__}: {e}")
        else:
            pytest.fail(f"mutation {i} ({what}) loaded without an error")
        slowest = max(slowest, time.perf_counter() - t0)
    assert sum(outcomes.values()) == N_MUTATIONS
    assert slowest < 10, f"a load took {slowest:.1f} s"
    print(f"\n{N_MUTATIONS} mutations -> {dict(outcomes)}; slowest load {slowest * 1000:.0f} ms")


def test_resigned_mutations_reach_the_parsers_and_fail_typed(package, tmp_path):
    from test_package_malicious import rehash

    directory, _ = package
    rng = random.Random(7)
    outcomes = Counter()
    for i in range(N_RESIGNED):
        work = tmp_path / f"w{i}"
        shutil.copytree(directory, work)
        victim = rng.choice(["model.skops", "model.skops", "reference.parquet"])
        data, what = _mutate_bytes((work / victim).read_bytes(), rng)
        (work / victim).write_bytes(data)
        rehash(work)
        try:
            pkg = mp.load(work)
            pkg.reference_sample()
            outcomes["loaded"] += 1
        except PackageError as e:
            outcomes[type(e).__name__] += 1
        except Exception as e:  # pragma: no cover
            pytest.fail(f"re-signed mutation {i} ({what} {victim}) raised an untyped {type(e).__name__}: {e}")
        shutil.rmtree(work)
    assert sum(outcomes.values()) == N_RESIGNED
    print(f"\n{N_RESIGNED} re-signed mutations -> {dict(outcomes)}")
