"""The ``package`` step of ``modelworks run``: save the final model as a package and register it.

It lives with the registry, which sits above ``package`` (the package area itself never
imports the registry).
"""

from __future__ import annotations

import time

from modelworks import _areas
from modelworks._context import RunContext

# registering needs MLflow (import + a local sqlite store); skip it when the budget is nearly spent
_MIN_SECONDS_TO_REGISTER = 10.0


def step(ctx: RunContext) -> None:
    """Save ``ctx.final_model`` to ``ctx.out_dir/model``, register it as ``<name>@champion``.

    Reads ``final_model``, ``final_name``, ``X_train``, ``y_train``, ``task``, ``target``,
    ``test_scores``, ``seed``, ``out_dir`` and ``options["model_name"]``; writes
    ``ctx.results["package"]`` (path, model_ref, tracking_uri, version, manifest summary) and a
    "Model package" report section.
    """
    from modelworks.package import read_manifest, save

    if ctx.final_model is None:
        ctx.results["package"] = {"skipped": "no final model"}
        return
    t0 = time.monotonic()
    X, y = ctx.X_train, ctx.y_train
    fitted_on = ctx.results.get("ensemble", {}).get("scored_as", "fitted on the training split")
    if ctx.holdout_model is not None:  # refit on all rows (search._workflow.refit_step)
        X, y = ctx.all_rows()
        fitted_on = ("refit on all rows, the training and held-out splits (the metrics are the held-out "
                     f"scores of the same recipe, {fitted_on})")
    path = save(ctx.final_model, ctx.out_dir / "model", X_sample=X, y_sample=y, task=ctx.task,
                target=ctx.target, metrics=dict(ctx.test_scores or {}), seed=ctx.seed,
                metadata={"model_name": ctx.final_name, "source": "modelworks run", "fitted_on": fitted_on,
                          "fitted_rows": len(X)},
                dropped_columns=getattr(ctx.schema, "dropped", None) or None)
    manifest = read_manifest(path, verify=False)
    result = {"path": str(path), "format_version": manifest["format_version"],
              "model_format": manifest["model"]["format"], "estimator": manifest["model"].get("estimator"),
              "files": {n: e["bytes"] for n, e in manifest["files"].items()},
              "save_s": round(time.monotonic() - t0, 3)}
    name = str(ctx.options.get("model_name") or "modelworks-model")
    remaining = ctx.remaining()
    register_note = None
    missing = _areas.needs_extra("registry")
    if ctx.options.get("register", True) is False:
        register_note = "registration switched off"
    elif missing:
        register_note = f"registration skipped: {missing}"
    elif remaining is not None and remaining < _MIN_SECONDS_TO_REGISTER:
        register_note = f"registration skipped: {remaining:.0f} s left in the time budget"
    else:
        try:
            from modelworks.registry._registry import local_tracking_uri, register

            uri = local_tracking_uri(ctx.out_dir)
            v = register(path, name, alias="champion", tracking_uri=uri, run_name=f"run-{ctx.final_name}",
                         params={"model": ctx.final_name, "cv": ctx.cv})
            result.update(model_ref=f"models:/{v.name}@champion", version=v.version, tracking_uri=uri,
                          run_id=v.run_id)
        except Exception as e:  # the package is already saved; a registry failure must not lose it
            register_note = f"registration failed: {type(e).__name__}: {e}"
    if register_note:
        result["register_note"] = register_note
        if register_note.startswith("registration failed") or (missing and missing in register_note):
            ctx.warnings.append(register_note)
    ctx.results["package"] = result
    _section(ctx, manifest, result)


def _section(ctx: RunContext, manifest: dict, result: dict) -> None:
    sec = ctx.report.section("Model package", order=70)
    sec.text(
        f"The final model ({result['estimator']}) is saved as a pickle-free package (format "
        f"{result['format_version']}, model stored as {result['model_format']}) in {result['path']}: "
        "manifest with library versions, input schema, metrics, training-data fingerprint, SHA-256 of "
        "every file, a reference sample for drift checks and a model card."
    )
    summary = {"features": len(manifest["features"]), "task": manifest.get("task"),
               "package files": len(manifest["files"]),
               "package size (kB)": round(sum(result["files"].values()) / 1024, 1)}
    if result.get("version"):
        summary["registry version"] = result["version"]
    sec.metrics(summary)
    if result.get("model_ref"):
        sec.text(f"Registered as {result['model_ref']} (version {result['version']}) in the MLflow store "
                 f"{result['tracking_uri']}.")
    if result.get("register_note"):
        sec.warning(result["register_note"])
    ref = result.get("model_ref") or result["path"]
    uri = f" --tracking-uri {result['tracking_uri']}" if result.get("tracking_uri") else ""
    sec.code(
        "import modelworks.package as mp\n"
        f"pkg = mp.load({result['path']!r})  # verifies hashes, audits types, no pickle\n"
        "pkg.predict(frame)                   # validates columns against the schema first\n\n"
        f"# shell: inspect, then serve over HTTP\n"
        f"modelworks package inspect {result['path']}\n"
        f"modelworks serve {ref}{uri} --port 8080"
    )
