"""A declarative spec of related tables for deep feature synthesis, validated before featuretools runs.

A spec is a dict (or a TOML / YAML file with the same shape)::

    [tables.customers]
    path = "customers.csv"          # or `data = DataFrame` in Python
    index = "customer_id"
    time_index = "join_date"        # optional

    [tables.transactions]
    path = "transactions.csv"
    index = "transaction_id"
    time_index = "transaction_time"

    [[relationships]]
    parent = "customers.customer_id"
    child = "transactions.customer_id"

Relative paths are read relative to the spec file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from modelworks.data._kinds import parse_dates
from modelworks.exceptions import FeatureError


@dataclass
class TableSpec:
    name: str
    data: pd.DataFrame
    index: str
    time_index: str | None = None
    make_index: bool = False


@dataclass
class Relationship:
    parent: str
    parent_key: str
    child: str
    child_key: str


@dataclass
class EntitySpec:
    """Validated tables and relationships."""

    tables: dict[str, TableSpec]
    relationships: list[Relationship] = field(default_factory=list)

    def table_names(self) -> list[str]:
        return list(self.tables)


def _read_spec_file(path: Path) -> dict:
    if not path.exists():
        raise FeatureError(f"spec file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            return tomllib.loads(text)
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            return yaml.safe_load(text) or {}
    except Exception as e:  # tomllib / yaml parse errors
        raise FeatureError(f"spec file {path} cannot be parsed: {e}") from e
    raise FeatureError(f"spec file {path} must be .toml, .yaml or .yml")


def _split_ref(ref: Any, what: str) -> tuple[str, str]:
    if not isinstance(ref, str) or "." not in ref:
        raise FeatureError(f"relationship {what} must read 'table.column', got {ref!r}")
    table, column = ref.split(".", 1)
    return table, column


def load_spec(spec: dict | str | os.PathLike | EntitySpec) -> EntitySpec:
    """Read and validate a spec (dict, TOML/YAML path or EntitySpec).

    Raises
    ------
    FeatureError
        Unknown tables or columns in relationships (named), parent keys that are not unique
        (with examples), child keys without a parent (with examples), a time index that does
        not parse as dates (with the rows).
    """
    from modelworks.data import load_table

    if isinstance(spec, EntitySpec):
        return spec
    base = Path.cwd()
    if isinstance(spec, str | os.PathLike):
        path = Path(spec)
        base = path.parent
        spec = _read_spec_file(path)
    if not isinstance(spec, dict) or not isinstance(spec.get("tables"), dict) or not spec["tables"]:
        raise FeatureError("a spec needs a 'tables' mapping: {name: {path or data, index, time_index}}")
    tables: dict[str, TableSpec] = {}
    for name, t in spec["tables"].items():
        if not isinstance(t, dict):
            raise FeatureError(f"table '{name}' must be a mapping with path/data and index")
        if "data" in t:
            frame = t["data"]  # never mutated here; build_entityset hands featuretools a copy
            if not isinstance(frame, pd.DataFrame):
                raise FeatureError(f"table '{name}': 'data' must be a pandas DataFrame, got {type(frame).__name__}")
        elif "path" in t:
            p = Path(t["path"])
            frame = load_table(p if p.is_absolute() else base / p, name=f"table '{name}'")
        else:
            raise FeatureError(f"table '{name}' needs 'path' (a CSV/Parquet file) or 'data' (a DataFrame)")
        index = t.get("index")
        make_index = False
        if index is None:
            raise FeatureError(f"table '{name}' needs an 'index' column (a unique key per row)")
        if index not in frame.columns:
            if t.get("make_index"):
                make_index = True
            else:
                raise FeatureError(f"index column '{index}' not found in table '{name}'; columns are: "
                                   f"{', '.join(map(str, frame.columns))}")
        elif frame[index].duplicated().any():
            dups = frame.loc[frame[index].duplicated(), index].unique()[:5]
            raise FeatureError(f"index '{index}' of table '{name}' is not unique (e.g. {', '.join(map(str, dups))})")
        time_index = t.get("time_index")
        if time_index is not None:
            if time_index not in frame.columns:
                raise FeatureError(f"time index '{time_index}' not found in table '{name}'")
            column = frame[time_index]
            if pd.api.types.is_datetime64_any_dtype(column):
                parsed, bad = column, None
            else:
                parsed = parse_dates(column)
                bad = parsed.isna() & column.notna()
            if bad is not None and bad.any():
                rows = list(frame.index[bad][:5])
                raise FeatureError(
                    f"time index '{time_index}' of table '{name}' does not parse as dates in rows {rows} "
                    f"(e.g. {frame.loc[bad, time_index].iloc[0]!r})"
                )
            if bad is not None:
                frame = frame.assign(**{time_index: parsed})
        tables[str(name)] = TableSpec(str(name), frame, str(index), time_index, make_index)
    relationships = []
    for r in spec.get("relationships", []) or []:
        if isinstance(r, dict) and "parent" in r and "child" in r:
            (pt, pk), (ct, ck) = _split_ref(r["parent"], "parent"), _split_ref(r["child"], "child")
        elif isinstance(r, list | tuple) and len(r) == 2:
            (pt, pk), (ct, ck) = _split_ref(r[0], "parent"), _split_ref(r[1], "child")
        else:
            raise FeatureError(f"a relationship must be {{parent = 'table.col', child = 'table.col'}}, got {r!r}")
        for table, col, role in ((pt, pk, "parent"), (ct, ck, "child")):
            if table not in tables:
                raise FeatureError(f"relationship {role} table '{table}' is not in the spec; tables are: "
                                   f"{', '.join(tables)}")
            if col not in tables[table].data.columns:
                raise FeatureError(f"relationship {role} column '{col}' not found in table '{table}'; columns are: "
                                   f"{', '.join(map(str, tables[table].data.columns))}")
        parent = tables[pt].data[pk]
        if pk != tables[pt].index:
            raise FeatureError(f"relationship parent key '{pt}.{pk}' must be the index of '{pt}' ('{tables[pt].index}')")
        if parent.duplicated().any():
            dups = parent[parent.duplicated()].unique()[:5]
            raise FeatureError(f"parent key '{pt}.{pk}' is not unique (e.g. {', '.join(map(str, dups))})")
        child = tables[ct].data[ck].dropna()
        orphans = child[~child.isin(parent)].unique()
        if len(orphans):
            raise FeatureError(
                f"{len(orphans)} key(s) of '{ct}.{ck}' have no parent in '{pt}.{pk}' "
                f"(e.g. {', '.join(map(str, orphans[:5]))}); remove those rows or add the parents"
            )
        relationships.append(Relationship(pt, pk, ct, ck))
    return EntitySpec(tables, relationships)


def build_entityset(spec: EntitySpec, *, replace: dict[str, pd.DataFrame] | None = None):
    """A featuretools ``EntitySet`` from a validated spec (``replace`` swaps a table's rows)."""
    from modelworks._imports import require

    ft = require("featuretools", purpose="deep feature synthesis")
    es = ft.EntitySet(id="modelworks")
    for name, t in spec.tables.items():
        frame = (replace or {}).get(name, t.data)
        es.add_dataframe(dataframe_name=name, dataframe=frame.copy(), index=t.index, time_index=t.time_index,
                         make_index=t.make_index)
    for r in spec.relationships:
        es.add_relationship(r.parent, r.parent_key, r.child, r.child_key)
    return es
