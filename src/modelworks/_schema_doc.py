"""The input-schema document as stored in a package manifest, checked field by field.

Pure Python (no pandas), so ``package inspect`` can refuse a malformed schema without importing
the data stack; :meth:`modelworks.data.Schema.from_dict` builds on the same check.
"""

from __future__ import annotations

from typing import Any

from modelworks._validation import check_scalar
from modelworks.exceptions import SchemaError

KINDS = ("numeric", "integer", "boolean", "categorical", "datetime")
FIELDS = ("name", "kind", "dtype", "nullable", "categories", "min", "max")
_SCALAR = (str, int, float, bool)


def _column(i: int, c: Any) -> dict[str, Any]:
    if not isinstance(c, dict):
        raise SchemaError(f"invalid schema document: column {i} is not an object")
    unknown = set(c) - set(FIELDS)
    if unknown:
        raise SchemaError(f"invalid schema document: column {i} has unknown fields {sorted(map(str, unknown))}")
    name, kind, dtype = c.get("name"), c.get("kind"), c.get("dtype")
    if not isinstance(name, str) or not name:
        raise SchemaError(f"invalid schema document: column {i} has no text name (got {name!r})")
    if kind not in KINDS:
        raise SchemaError(f"invalid schema: column '{name}' has unknown kind {kind!r}")
    if not isinstance(dtype, str):
        raise SchemaError(f"invalid schema: column '{name}' has no dtype text")
    nullable = c.get("nullable", True)
    if not isinstance(nullable, bool):
        raise SchemaError(f"invalid schema: column '{name}' has a non-boolean 'nullable'")
    categories = c.get("categories")
    if categories is not None and not (isinstance(categories, list)
                                       and all(isinstance(v, _SCALAR) for v in categories)):
        raise SchemaError(f"invalid schema: column '{name}' has categories that are not a list of values")
    for key in ("min", "max"):
        b = c.get(key)
        check_scalar(b, f"invalid schema: column '{name}': {key}", kind=float, allow_none=True, error=SchemaError)
    return {"name": name, "kind": kind, "dtype": dtype, "nullable": nullable,
            "categories": categories, "min": c.get("min"), "max": c.get("max")}


def check_schema_document(data: Any) -> list[dict[str, Any]]:
    """The columns of a schema document, each checked; raise :class:`SchemaError` if malformed."""
    columns = data.get("columns") if isinstance(data, dict) else None
    if not isinstance(columns, list):
        raise SchemaError("invalid schema document: 'columns' must be a list of column objects")
    cols = [_column(i, c) for i, c in enumerate(columns)]
    names = [c["name"] for c in cols]
    if len(set(names)) != len(names):
        raise SchemaError("invalid schema document: duplicate column names")
    return cols


def check_dropped(data: Any) -> dict[str, str]:
    """The columns the model dropped in training, ``{name: why}`` (empty in older documents)."""
    dropped = data.get("dropped") if isinstance(data, dict) else None
    if dropped is None:
        return {}
    if not (isinstance(dropped, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in dropped.items())):
        raise SchemaError("invalid schema document: 'dropped' must map column names to reasons")
    return dict(dropped)
