"""Load a table from CSV, Parquet or a DataFrame, with errors that say what to do."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
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
    path, kind = _check_path(source, name)
    with _read_errors(path, name, kind):
        if kind in _PARQUET:
            frame = pd.read_parquet(path)
        else:
            _check_text(path, name, kind)
            frame = pd.read_csv(path, sep=_sep(kind), encoding="utf-8", low_memory=False)
    _check_columns(frame, name, path=path)
    if len(frame) == 0:
        raise DataFileError(_no_rows(name, path, frame.columns))
    return frame


def iter_table(source, *, chunk_rows: int = 100_000, columns: list[str] | None = None,
               name: str = "data") -> Iterator[pd.DataFrame]:
    """Read a table in chunks of at most ``chunk_rows`` rows, so memory stays bounded.

    The chunked twin of :func:`load_table`: the same sources (CSV/TSV, optionally gzipped,
    Parquet, or a DataFrame) and the same errors, raised before the first chunk where they can
    be. A CSV file is read with pandas' ``chunksize``, a Parquet file by record batches
    (pyarrow), a DataFrame is sliced without copying.

    Parameters
    ----------
    source : str, path or pandas.DataFrame
    chunk_rows : int
        Rows per chunk at most (Parquet batches may be smaller at row-group ends).
    columns : list of str, optional
        Read only these columns (Parquet reads nothing else from disk).
    name : str
        What to call the table in error messages.

    Yields
    ------
    pandas.DataFrame
        Each chunk, with the file's column names; a DataFrame without rows yields nothing.

    Raises
    ------
    DataFileError
        As :func:`load_table`; a file with a header but no rows too.
    ColumnError
        Duplicate column names, or ``columns`` names one the table lacks.
    """
    from modelworks._validation import check_scalar

    chunk_rows = check_scalar(chunk_rows, "chunk_rows", kind=int, low=1)
    if isinstance(source, pd.DataFrame):
        _check_columns(source, name)
        frame = source[_check_wanted(columns, source.columns, name)] if columns is not None else source
        for start in range(0, len(frame), chunk_rows):
            yield frame.iloc[start:start + chunk_rows]
        return
    path, kind = _check_path(source, name)
    header: list = []
    with _read_errors(path, name, kind):
        if kind in _PARQUET:
            import pyarrow.parquet as pq

            handle = pq.ParquetFile(path)
            header = handle.schema_arrow.names
            wanted = _check_wanted(columns, header, name) if columns is not None else None
            batches = (b.to_pandas() for b in handle.iter_batches(batch_size=chunk_rows, columns=wanted))
            wanted = None  # pyarrow read only those
        else:
            _check_text(path, name, kind)
            batches = pd.read_csv(path, sep=_sep(kind), chunksize=chunk_rows, encoding="utf-8", low_memory=False)
            wanted = None
        n_rows = 0
        for i, chunk in enumerate(batches):
            if i == 0:
                header = list(chunk.columns)
                _check_columns(chunk, name, path=path)
                if columns is not None and kind not in _PARQUET:
                    wanted = _check_wanted(columns, chunk.columns, name)
            if len(chunk) == 0:
                continue
            n_rows += len(chunk)
            yield chunk[wanted] if wanted is not None else chunk
    if n_rows == 0:
        raise DataFileError(_no_rows(name, path, header))


def _sep(kind: str) -> str:
    return "\t" if ".tsv" in kind else ","


def _no_rows(name: str, path: Path, columns) -> str:
    return f"{name} file {path} has a header but no rows (columns: {', '.join(map(str, list(columns)[:10]))})"


def _check_wanted(columns, present, name: str) -> list[str]:
    wanted = [columns] if isinstance(columns, str) else list(columns)
    present = [str(c) for c in present]
    missing = [str(c) for c in wanted if str(c) not in present]
    if missing:
        raise ColumnError(f"column(s) {', '.join(missing)} not in the {name}; its columns are: "
                          f"{', '.join(present[:30])}")
    return wanted


def _check_path(source, name: str) -> tuple[Path, str]:
    """The path of a table file and its kind (suffix), or the error saying why it cannot be read."""
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
    if kind not in _PARQUET and kind not in _CSV and kind != "":
        raise DataFileError(
            f"{name} file {path} has unknown extension '{path.suffix}'; use .csv, .tsv or .parquet"
        )
    return path, kind


def _check_text(path: Path, name: str, kind: str) -> None:
    if not kind.endswith(".gz") and _looks_binary(path):
        raise DataFileError(
            f"{name} file {path} looks binary, not a CSV text file (is it Parquet or Excel? "
            "save it as .csv or .parquet)"
        )


@contextlib.contextmanager
def _read_errors(path: Path, name: str, kind: str):
    """Turn what pandas and pyarrow raise for an unreadable file into one :class:`DataFileError`."""
    try:
        yield
    except PermissionError as e:
        raise DataFileError(f"{name} file {path} cannot be read: permission denied") from e
    except UnicodeDecodeError as e:
        raise DataFileError(
            f"{name} file {path} is not UTF-8 text (byte {e.start}: {e.reason}); re-save it "
            "as UTF-8, e.g. iconv -f latin1 -t utf-8"
        ) from e
    except pd.errors.EmptyDataError as e:
        raise DataFileError(f"{name} file {path} has no columns (is it empty?)") from e
    except pd.errors.ParserError as e:
        raise DataFileError(f"{name} file {path} is not a well-formed CSV: {e}") from e
    except (DataFileError, ColumnError):
        raise
    except Exception as e:  # pyarrow raises many types for a corrupt file
        if kind not in _PARQUET:
            raise
        raise DataFileError(f"{name} file {path} is not a readable Parquet file: {e}") from e


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
