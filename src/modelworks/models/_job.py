"""The job behind ``modelworks models``: the zoo as a listing with the one result shape."""

from __future__ import annotations

from typing import Any

from modelworks._result import Listing


class ModelList(Listing):
    """One row per zoo model: ``name``, ``description``, ``family`` and the ``tasks`` it supports."""

    title = "Model zoo"
    json_name = "models.json"
    key = "models"

    def line(self, row: dict[str, Any]) -> str:
        return f"{row['name']:<12} {row['family']:<10} {'/'.join(row['tasks']):<30} {row['description']}"


def models_job() -> ModelList:
    """The model zoo as ``modelworks models`` lists it.

    Returns
    -------
    ModelList
        One row per model of :data:`modelworks.models.ZOO`, in the zoo's order.
    """
    from modelworks.models._zoo import TASKS, ZOO

    return ModelList([{"name": e.name, "description": e.description, "family": e.family,
                       "tasks": [t for t in TASKS if e.supports(t)]} for e in ZOO.values()])
