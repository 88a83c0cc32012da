"""The data spine: load, validate, infer the task, split, and build preprocessing."""

from modelworks.data._load import load_table
from modelworks.data._preprocess import (
    DatetimeFeatures,
    TextFeatures,
    build_preprocessor,
    column_kinds,
    feature_sources,
    is_text_column,
    make_pipeline,
)
from modelworks.data._schema import ColumnSpec, Schema
from modelworks.data._task import Task
from modelworks.data._validate import DataWarning, Prepared, infer_task, prepare, train_test_split

# modelworks types a fitted pipeline may hold, for loading packages with skops
SKOPS_TRUSTED = [
    "modelworks.data._preprocess.TextFeatures",
]

__all__ = [
    "SKOPS_TRUSTED",
    "ColumnSpec",
    "DataWarning",
    "DatetimeFeatures",
    "Prepared",
    "Schema",
    "Task",
    "TextFeatures",
    "build_preprocessor",
    "column_kinds",
    "feature_sources",
    "infer_task",
    "is_text_column",
    "load_table",
    "make_pipeline",
    "prepare",
    "train_test_split",
]
