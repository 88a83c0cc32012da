"""``modelworks doctor``: which capability areas work here, and which extra installs the rest."""

from __future__ import annotations

import functools
import importlib.metadata as md
from typing import Any

from modelworks import _areas
from modelworks._imports import is_available
from modelworks._result import Listing

__all__ = ["DoctorResult", "check_all", "doctor"]

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


class DoctorResult(Listing):
    """One row per capability area (:func:`check_all`); the summary marks what works and says what to install."""

    title = "modelworks doctor"
    json_name = "doctor.json"
    key = "areas"

    def line(self, row: dict[str, Any]) -> str:
        mark = "ok " if row["ok"] else "-- "
        install = "" if row["ok"] else f"   install: {row['install']}"
        return f"{mark}{row['area']:<10} {row['detail']}{install}"

    @property
    def missing(self) -> list[str]:
        """The areas that do not work here."""
        return [row["area"] for row in self.rows if not row["ok"]]


def doctor() -> DoctorResult:
    """Which capability areas work in this environment, and which extra installs the rest.

    Returns
    -------
    DoctorResult
        One row per area of :mod:`modelworks._areas` (``area``, ``ok``, ``detail``, ``missing``,
        ``install``); ``exit_code`` is 0 either way (a missing extra is not an error).
    """
    return DoctorResult(check_all())
