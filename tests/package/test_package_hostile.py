"""The hostile-package suite: hundreds of crafted packages, four loaders, nothing runs.

``hostile/make_hostile.py`` writes the variants (gadget chains through re-exported standard-library
callables, dangerous constructors, method/partial/operator nodes, import side effects, callables
in estimator parameters, crafted trees, memory bombs, container tricks), each re-hashed and
re-signed as an attacker would. ``hostile/run_loader.py`` loads every one with one loader in a
fresh process. Each must be refused with a typed modelworks error (the CLI: exit 2 and one
line, no traceback), within its time limit, while the marker file stays absent and no sentinel
module is imported.
"""

from __future__ import annotations

import collections
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile")]

HERE = Path(__file__).parent / "hostile"
LOADERS = ("api", "inspect", "predict", "serve")
TYPED = {"PackageError", "IntegrityError", "UnsafePackageError"}


def _run(loader: str, variants_json: Path, data: Path, out: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, str(HERE / "run_loader.py"), loader, str(variants_json), str(data), str(out)],
        capture_output=True, text=True, timeout=1500, cwd=HERE,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    sys.path.insert(0, str(HERE))
    try:
        from make_hostile import generate
    finally:
        sys.path.remove(str(HERE))
    root = tmp_path_factory.mktemp("hostile")
    marker = root / "PWNED"
    variants = generate(root / "variants", marker)
    reports = {loader: _run(loader, root / "variants" / "variants.json", root / "variants" / "data.csv",
                            root / f"{loader}.json") for loader in LOADERS}
    return {"root": root, "marker": marker, "variants": variants, "reports": reports}


def test_the_suite_has_at_least_100_variants_across_every_family(hostile):
    families = collections.Counter(v.family for v in hostile["variants"])
    assert len(hostile["variants"]) >= 100
    assert set(families) >= {"reexport", "direct", "node", "import", "param", "numpy", "tree", "memory",
                             "container"}
    assert families["reexport"] >= 20  # the report's gadget family, found by walking scikit-learn


@pytest.mark.parametrize("loader", LOADERS)
def test_every_variant_is_refused_with_a_typed_error(hostile, loader):
    report = hostile["reports"][loader]
    assert set(report["results"]) == {v.name for v in hostile["variants"]}
    bad = {}
    for name, r in report["results"].items():
        if loader == "api":
            ok = r["outcome"] == "refused" and r["type"] in TYPED
        else:
            ok = (r["outcome"] == "exit" and r["code"] == 2 and not r["traceback"]
                  and len(r["stderr"]) == 1 and r["stderr"][0].startswith("error: "))
        if not ok:
            bad[name] = r
    assert not bad, json.dumps(bad, indent=1)[:4000]


def test_nothing_in_any_variant_ran(hostile):
    assert not hostile["marker"].exists(), hostile["marker"].read_text()
    for loader, report in hostile["reports"].items():
        assert report["imported"] == [], (loader, report["imported"])
        assert report["threads"] == [], (loader, report["threads"])  # no Thread, no listener left running


def test_refusals_name_what_was_refused_and_the_opt_in(hostile):
    results = hostile["reports"]["api"]["results"]
    gadget = results["direct-reduce-system"]
    assert "posix.system" in gadget["message"] and "trust" in gadget["message"]
    assert "sklearn.utils._testing.groupby" in results["v1-reexport-groupby"]["message"]
    assert "OperatorFuncNode" in results["v1-operator"]["message"]
    assert "zip bomb" in results["memory-array-inflates-1gib"]["message"]
    assert "malformed" in results["tree-kd-index-out-of-range"]["message"]


def test_the_untouched_bases_load_through_every_loader(hostile, tmp_path):
    """Controls: the refusals come from the edits, not from packages the loaders cannot read."""
    root = hostile["root"] / "variants"
    bases = [{"name": p.name, "family": "base", "path": str(p)} for p in sorted(root.glob("base-*"))]
    assert len(bases) == 4
    listing = root / "bases.json"
    listing.write_text(json.dumps(bases))
    api = _run("api", listing, root / "data.csv", tmp_path / "api.json")
    assert {r["outcome"] for r in api["results"].values()} == {"loaded"}
    for loader in ("inspect", "predict"):
        report = _run(loader, listing, root / "data.csv", tmp_path / f"{loader}.json")
        assert {(r["outcome"], r["code"]) for r in report["results"].values()} == {("exit", 0)}, report


@pytest.mark.parametrize("tag", ["exec", "open", "memmap", "gzip"])
def test_the_gadgets_are_real_under_a_loader_that_trusts_everything(hostile, tmp_path, tag):
    """A naive skops load that trusts what the file names runs the payload: the suite tests real attacks."""
    variant = next(v for v in hostile["variants"] if v.name == f"direct-reduce-{tag}")
    marker = hostile["marker"]
    code = (
        "import skops.io as sio, sys\n"
        f"p = {str(variant.path / 'model.skops')!r}\n"
        "try:\n    sio.load(p, trusted=sio.get_untrusted_types(file=p))\nexcept Exception:\n    pass\n"
    )
    try:
        subprocess.run([sys.executable, "-c", code], timeout=120, cwd=tmp_path, capture_output=True)
        assert marker.exists()
    finally:
        marker.unlink(missing_ok=True)


def test_a_hostile_package_behind_a_registry_alias_is_refused(hostile, tmp_path):
    import modelworks.package as mp
    from modelworks.exceptions import UnsafePackageError
    from modelworks.registry import package_path, register

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    version = register(str(hostile["root"] / "variants" / "base-pipe"), "victim", alias="champion",
                       tracking_uri=uri)
    stored = Path(package_path(version.ref, tracking_uri=uri))
    evil = next(v for v in hostile["variants"] if v.name == "direct-reduce-exec").path
    for f in ("model.skops", "manifest.json"):
        shutil.copy(evil / f, stored / f)
    with pytest.raises(UnsafePackageError, match="builtins.exec"):
        mp.load_ref("models:/victim@champion", tracking_uri=uri)
    assert not hostile["marker"].exists()


def test_counts_for_the_record(hostile, capsys):
    refused = {loader: sum(1 for r in rep["results"].values()
                           if r["outcome"] == "refused" or (r["outcome"] == "exit" and r["code"] == 2))
               for loader, rep in hostile["reports"].items()}
    with capsys.disabled():
        print(f"\nhostile suite: {len(hostile['variants'])} variants x {len(LOADERS)} loaders; "
              f"refused {refused}; executed 0")
    assert all(n == len(hostile["variants"]) for n in refused.values())
