"""Feature engineering: polynomial/interaction features and deep feature synthesis over related tables."""

from modelworks.features._dfs import (
    DFSResult,
    DFSTransformer,
    dfs,
    read_cutoff_times,
    save_features,
    select_features,
)
from modelworks.features._job import FeatureTableResult, dfs_job, poly_job
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
    "FeatureTableResult",
    "PolynomialFeatures",
    "Relationship",
    "TableSpec",
    "build_entityset",
    "dfs",
    "dfs_job",
    "load_spec",
    "n_output_features",
    "poly_job",
    "read_cutoff_times",
    "save_features",
    "select_features",
]
