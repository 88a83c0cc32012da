"""The data spine: load (whole or in chunks), validate, infer the task, split, and build preprocessing.

Every area asks the spine what a column holds (:func:`column_kind`), whether text holds dates
(:func:`is_date_text` / :func:`parse_dates`), whether a target is usable (:func:`check_target`,
:func:`infer_task`, :class:`Task`) and reads tables with :func:`load_table` or, in bounded
memory, :func:`iter_table`.
"""

from modelworks.data._kinds import column_kind, is_date_text, parse_date_text, parse_dates
from modelworks.data._load import iter_table, load_table
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
from modelworks.data._validate import (
    DataWarning,
    Prepared,
    check_target,
    infer_task,
    prepare,
    train_test_split,
)

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
    "check_target",
    "column_kind",
    "column_kinds",
    "feature_sources",
    "infer_task",
    "is_date_text",
    "is_text_column",
    "iter_table",
    "load_table",
    "make_pipeline",
    "parse_date_text",
    "parse_dates",
    "prepare",
    "train_test_split",
]
