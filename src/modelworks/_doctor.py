"""``modelworks doctor``: which capability areas work here, and which extra installs the rest."""

from __future__ import annotations

import importlib.metadata as md

from modelworks._imports import is_available

# area -> (modules it needs, extra that installs them, what it does)
AREAS = {
    "tuning": (["optuna", "sklearn"], "core", "grid / random / Bayesian (GP, needs torch) / TPE search"),
    "explain": (["shap", "matplotlib"], "core", "SHAP values, partial dependence, plots"),
    "stats": (["statsmodels", "pygam"], "core", "mixed-effects models and GAMs"),
    "forecast": (["statsmodels", "prophet", "statsforecast"], "forecast", "ARIMA, AutoARIMA, Prophet, backtests"),
    "deep": (["torch", "keras"], "deep", "Keras 3 on PyTorch: transfer learning, custom layers"),
    "registry": (["mlflow", "skops"], "core", "safe model packages and an MLflow registry"),
    "serve": (["starlette", "uvicorn"], "core", "HTTP prediction server"),
    "features": (["featuretools", "woodwork"], "features", "polynomial features and deep feature synthesis"),
    "monitor": (["scipy", "statsmodels"], "core", "data drift and A/B tests"),
    "dist": (["dask", "distributed"], "dist", "tuning trials on a Dask cluster"),
    "boosters": (["xgboost", "lightgbm"], "core", "XGBoost and LightGBM models"),
}

_DIST = {"sklearn": "scikit-learn"}


def _version(module: str) -> str:
    try:
        return md.version(_DIST.get(module, module))
    except md.PackageNotFoundError:
        return "?"


def check_all() -> list[dict]:
    """One row per area: ok, versions found, what is missing and how to install it."""
    rows = []
    for area, (modules, extra, what) in AREAS.items():
        missing = [m for m in modules if not is_available(m)]
        found = ", ".join(f"{m} {_version(m)}" for m in modules if m not in missing)
        install = "pip install modelworks" if extra == "core" else f"pip install 'modelworks[{extra}]'"
        detail = what + (f" ({found})" if found else "")
        if missing:
            detail += f"; missing: {', '.join(missing)}"
        rows.append({"area": area, "ok": not missing, "detail": detail, "missing": missing,
                     "install": install})
    return rows
