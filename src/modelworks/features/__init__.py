"""Feature engineering: polynomial/interaction features and deep feature synthesis over related tables."""

from modelworks.features._dfs import (
    DFSResult,
    DFSTransformer,
    dfs,
    read_cutoff_times,
    save_features,
    select_features,
)
from modelworks.features._poly import PolynomialFeatures, n_output_features
from modelworks.features._spec import (
    EntitySpec,
    Relationship,
    TableSpec,
    build_entityset,
    load_spec,
)

__all__ = [
    "DFSResult",
    "DFSTransformer",
    "EntitySpec",
    "PolynomialFeatures",
    "Relationship",
    "TableSpec",
    "build_entityset",
    "dfs",
    "load_spec",
    "n_output_features",
    "read_cutoff_times",
    "save_features",
    "select_features",
]
