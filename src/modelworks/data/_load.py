"""Load a table from CSV, Parquet or a DataFrame, with errors that say what to do."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from modelworks.exceptions import ColumnError, DataFileError

_CSV = {".csv", ".txt", ".tsv", ".csv.gz", ".tsv.gz"}
_PARQUET = {".parquet", ".pq"}


def _suffix(path: Path) -> str:
    s = "".join(path.suffixes[-2:]).lower()
    return s if s in _CSV | _PARQUET else path.suffix.lower()


def _looks_binary(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(4096)
    return b"\x00" in head


def load_table(source, *, name: str = "data") -> pd.DataFrame:
    """Load a table from a CSV or Parquet path, or take a DataFrame as it is.

    Parameters
    ----------
    source : str, path or pandas.DataFrame
        A ``.csv``/``.tsv`` (optionally gzipped) or ``.parquet`` file, or a DataFrame (copied).
    name : str
        What to call the table in error messages.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataFileError
        Missing, unreadable, binary, empty or non-UTF-8 file, or an unknown extension.
    ColumnError
        Duplicate column names.
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        _check_columns(frame, name)
        return frame
    if isinstance(source, pd.Series):
        raise DataFileError(f"{name} is a pandas Series; pass a DataFrame (series.to_frame())")
    if not isinstance(source, str | os.PathLike):
        raise DataFileError(
            f"{name} must be a path to a CSV/Parquet file or a pandas DataFrame, got {type(source).__name__}"
        )
    path = Path(source)
    if not path.exists():
        raise DataFileError(f"{name} file not found: {path} (check the path; the working directory is {Path.cwd()})")
    if path.is_dir():
        raise DataFileError(f"{name} path {path} is a directory; give a CSV or Parquet file")
    if path.stat().st_size == 0:
        raise DataFileError(f"{name} file {path} is empty (0 bytes)")
    kind = _suffix(path)
    try:
        if kind in _PARQUET:
            try:
                frame = pd.read_parquet(path)
            except Exception as e:  # pyarrow raises many types for a corrupt file
                raise DataFileError(f"{name} file {path} is not a readable Parquet file: {e}") from e
        elif kind in _CSV or kind == "":
            if not kind.endswith(".gz") and _looks_binary(path):
                raise DataFileError(
                    f"{name} file {path} looks binary, not a CSV text file (is it Parquet or Excel? "
                    "save it as .csv or .parquet)"
                )
            sep = "\t" if ".tsv" in kind else ","
            try:
                frame = pd.read_csv(path, sep=sep, encoding="utf-8", low_memory=False)
            except UnicodeDecodeError as e:
                raise DataFileError(
                    f"{name} file {path} is not UTF-8 text (byte {e.start}: {e.reason}); re-save it "
                    "as UTF-8, e.g. iconv -f latin1 -t utf-8"
                ) from e
            except pd.errors.EmptyDataError as e:
                raise DataFileError(f"{name} file {path} has no columns (is it empty?)") from e
            except pd.errors.ParserError as e:
                raise DataFileError(f"{name} file {path} is not a well-formed CSV: {e}") from e
        else:
            raise DataFileError(
                f"{name} file {path} has unknown extension '{path.suffix}'; use .csv, .tsv or .parquet"
            )
    except PermissionError as e:
        raise DataFileError(f"{name} file {path} cannot be read: permission denied") from e
    _check_columns(frame, name, path=path)
    if len(frame) == 0:
        raise DataFileError(
            f"{name} file {path} has a header but no rows (columns: {', '.join(map(str, frame.columns[:10]))})"
        )
    return frame


def _check_columns(frame: pd.DataFrame, name: str, path: Path | None = None) -> None:
    cols = [str(c) for c in frame.columns]
    seen, dups = set(), []
    for c in cols:
        if c in seen and c not in dups:
            dups.append(c)
        seen.add(c)
    # pandas renames duplicate CSV headers to "a.1": detect that too
    if path is not None:
        import re

        for c in cols:
            m = re.fullmatch(r"(.+)\.(\d+)", c)
            if m and m.group(1) in seen and m.group(1) not in dups:
                dups.append(m.group(1))
    if dups:
        raise ColumnError(
            f"{name} has duplicate column names: {', '.join(dups)}; rename them so each column is unique"
        )
    if frame.shape[1] == 0:
        raise DataFileError(f"{name} has no columns")
