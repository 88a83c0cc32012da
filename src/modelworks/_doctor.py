"""``modelworks doctor``: which capability areas work here, and which extra installs the rest."""

from __future__ import annotations

import functools
import importlib.metadata as md

from modelworks import _areas
from modelworks._imports import is_available

# area -> (modules it needs, extra that installs them, what it does), from modelworks._areas
AREAS = _areas.doctor_areas()


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return md.packages_distributions()


def _version(module: str) -> str:
    """The installed version of the distribution that provides ``module`` (xgboost-cpu...)."""
    for dist in [module, *_distributions().get(module, [])]:
        try:
            return md.version(dist)
        except md.PackageNotFoundError:
            continue
    return "?"


def check_all() -> list[dict]:
    """One row per area: ok, versions found, what is missing and how to install it."""
    rows = []
    for area, (modules, extra, what) in AREAS.items():
        missing = [m for m in modules if not is_available(m)]
        found = ", ".join(f"{m} {_version(m)}" for m in modules if m not in missing)
        install = _areas.install_command(extra)
        detail = what + (f" ({found})" if found else "")
        if missing:
            detail += f"; missing: {', '.join(missing)}"
        rows.append({"area": area, "ok": not missing, "detail": detail, "missing": missing,
                     "install": install})
    return rows
