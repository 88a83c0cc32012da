"""Score files with a saved model: in bounded-memory chunks, written atomically."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from modelworks._result import Result
from modelworks.exceptions import ConfigError, DataFileError, SchemaError

DEFAULT_CHUNK = 50_000
_ID_NAME = re.compile(r"^(id|.*_id|uuid|key)$", re.I)


@dataclass
class PredictResult(Result):
    """What ``predict`` did: the predictions (when kept in memory) and where they were written.

    The one result shape (:class:`modelworks._result.Result`): ``to_dict()`` holds the
    predictions as records when they were kept in memory; ``summary()`` is empty when they went
    to a ``sink`` only (e.g. streamed to stdout).
    """

    title = "modelworks predict"
    json_name = "predict.json"

    predictions: pd.DataFrame | None
    rows: int
    out: Path | None
    seconds: float
    chunks: int
    ignored_columns: dict[str, str] = field(default_factory=dict)  # dropped in training: column -> why

    def to_dict(self) -> dict:
        out = {"rows": self.rows, "out": str(self.out) if self.out else None, "seconds": round(self.seconds, 3),
               "chunks": self.chunks, "ignored_columns": dict(self.ignored_columns)}
        if self.predictions is not None and self.out is None:
            out["predictions"] = self.predictions.to_dict(orient="records")
        return out

    def summary(self) -> str:
        done = f"({self.chunks} chunk(s), {self.seconds:.2f} s)"
        if self.out is not None:
            return f"wrote {self.rows} predictions to {self.out} {done}"
        return f"{self.rows} predictions {done}" if self.predictions is not None else ""

    def report_section(self, report):
        sec = report.section("Predictions", order=45)
        sec.text(self.summary() or f"{self.rows} predictions")
        if self.predictions is not None:
            sec.table(self.predictions.head(20))
        return sec


def ignored_line(ignored: dict[str, str]) -> str:
    """The line that names the columns a model set aside (training dropped them; the target)."""
    return "ignored columns the model does not use: " + "; ".join(f"{c}: {why}" for c, why in ignored.items())


def _id_column(columns, schema_names, id_column):
    if id_column is not None:
        if id_column not in columns:
            raise SchemaError(f"id column '{id_column}' not found; columns are: {', '.join(map(str, columns))}")
        return id_column
    for col in columns:
        if col not in schema_names and _ID_NAME.match(str(col)):
            return col
    return None


def _outputs(model, X, proba: bool):
    """``(predict, predict_proba or None)``, transforming the chunk once for a pipeline.

    ``Pipeline.predict`` and ``Pipeline.predict_proba`` each run every transformer again; for
    one-hot encoding and scaling that is a third of the time of scoring a file.
    ``pipeline[:-1].transform`` then the final step's methods is exactly what both do.
    """
    from sklearn.pipeline import Pipeline

    final = model.steps[-1][1] if isinstance(model, Pipeline) and len(model.steps) > 1 else None
    if proba and final is not None and hasattr(final, "predict") and hasattr(final, "predict_proba"):
        Xt = model[:-1].transform(X)
        return final.predict(Xt), final.predict_proba(Xt)
    return model.predict(X), (model.predict_proba(X) if proba else None)


def _score_chunk(pkg, chunk: pd.DataFrame, *, proba: bool, ignore_extra: bool, id_col, task,
                 set_aside=()) -> pd.DataFrame:
    if any(not isinstance(c, str) for c in chunk.columns):
        chunk = chunk.set_axis([str(c) for c in chunk.columns], axis=1)
    aside = [c for c in ([id_col] if id_col is not None else []) + list(set_aside) if c in chunk.columns]
    features = chunk.drop(columns=aside) if aside else chunk
    X = pkg.schema.validate(features, ignore_extra=ignore_extra) if pkg.schema is not None else features
    model = pkg.model
    if proba and (not hasattr(model, "predict_proba") or task == "regression"):
        raise ConfigError("probabilities need a classifier with predict_proba; this model predicts values",
                          param="proba", fix="drop {}")
    pred, p = _outputs(model, X, proba)
    out = pd.DataFrame(index=chunk.index)
    if id_col is not None:
        out[id_col] = chunk[id_col]
    out["prediction"] = pred
    if p is not None:
        p = np.asarray(p)
        for j, cls in enumerate(getattr(model, "classes_", range(p.shape[1]))):
            out[f"proba_{cls}"] = p[:, j]
    return out


# the hidden file predictions are written to before the rename: .NAME.RANDOM.w<pid>@<host>.partial
_PARTIAL = re.compile(r"\.w(\d+)@(.+)\.partial$")


def _partial_suffix() -> str:
    import socket

    return f".w{os.getpid()}@{socket.gethostname()}.partial"


def _writer_alive(pid: int, partial: Path) -> bool:
    """Whether process ``pid`` on this machine may still be writing ``partial``."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False  # killed, not yet reaped
        # a process that started after the file was last written is not its writer (pid reused)
        if os.stat(f"/proc/{pid}").st_ctime > partial.stat().st_mtime + 1:
            return False
    except (OSError, IndexError):
        pass  # no /proc (not Linux): the pid test above is all there is
    return True


def _clean_stale_partials(target: Path) -> list[Path]:
    """Remove the hidden ``.partial`` files of ``target`` left by predict runs that were killed.

    Only files written by a process of this machine that no longer runs (or whose pid now
    belongs to a younger process) are removed; a run still writing keeps its file.
    """
    import glob
    import socket

    host = socket.gethostname()
    removed = []
    try:
        candidates = list(target.parent.glob(glob.escape(f".{target.name}.") + "*.partial"))
    except OSError:
        return removed
    for partial in candidates:
        m = _PARTIAL.search(partial.name)
        if m is None or m.group(2) != host:
            continue
        try:
            if not _writer_alive(int(m.group(1)), partial):
                partial.unlink()
                removed.append(partial)
        except OSError:
            continue
    return removed


class _CsvWriter:
    """Append chunks to one open text file (comma-separated, or tab for ``.tsv``)."""

    def __init__(self, path: Path, target: Path):
        self._sep = "\t" if target.suffix.lower() == ".tsv" else ","
        self._file = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 closed in close()
        self._header = True

    def write(self, frame: pd.DataFrame) -> None:
        frame.to_csv(self._file, sep=self._sep, header=self._header, index=False)
        self._header = False

    def close(self) -> None:
        self._file.close()


class _ParquetWriter:
    """Append chunks as row groups; later chunks are cast to the first chunk's schema."""

    def __init__(self, path: Path, target: Path):
        self._path, self._writer = path, None

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._path, table.schema)
        self._writer.write_table(table.cast(self._writer.schema))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


_WRITERS = {".csv": _CsvWriter, ".tsv": _CsvWriter, ".txt": _CsvWriter,
            ".parquet": _ParquetWriter, ".pq": _ParquetWriter}


def predict(model, data, *, out: str | os.PathLike | None = None, proba: bool = False,
            chunk_size: int = DEFAULT_CHUNK, ignore_extra: bool = False, id_column: str | None = None,
            keep: bool | None = None, trust_pickle: bool = False, trust=(), tracking_uri: str | None = None,
            sink=None, log=None) -> PredictResult:
    """Predict with a saved model on a CSV/Parquet file or a DataFrame.

    Input is validated against the model's schema exactly as the server does (columns by
    name, missing ones named, extra ones refused unless ``ignore_extra``; columns that training
    dropped are accepted and listed in ``ignored_columns``). Files are read in
    chunks of ``chunk_size`` rows, so memory stays bounded; ``out`` (``.csv`` or ``.parquet``)
    appears only once complete.

    Parameters
    ----------
    model : path, ``models:/NAME@ALIAS``, Package or fitted estimator
    data : path or pandas.DataFrame
    out : path, optional
        Output file; its extension picks CSV or Parquet. Without it predictions are returned.
    proba : bool
        Add one ``proba_<class>`` column per class.
    id_column : str, optional
        Column copied next to the predictions (default: an ``id``-like column not used by the model).
    keep : bool, optional
        Keep predictions in memory (default: when ``out`` is not given).
    sink : callable, optional
        Called with each scored chunk (a DataFrame) as soon as it is ready, e.g. to stream
        predictions to stdout with bounded memory (``keep=False``).
    log : callable, optional
        Called with a line naming the columns set aside, if any.

    Returns
    -------
    PredictResult
    """
    from modelworks._io import atomic_path
    from modelworks._progress import progress
    from modelworks._resolve import resolve_model
    from modelworks._validation import check_scalar
    from modelworks.data import iter_table

    chunk_size = check_scalar(chunk_size, "chunk_size", kind=int, low=1)
    started = time.perf_counter()
    pkg = resolve_model(model, trust_pickle=trust_pickle, trust=trust, tracking_uri=tracking_uri)
    task = (pkg.manifest or {}).get("task")
    target = (pkg.manifest or {}).get("target")
    schema_names = pkg.schema.names if pkg.schema is not None else []
    keep = out is None if keep is None else keep
    out_path = Path(out) if out is not None else None
    if out_path is not None and out_path.suffix.lower() not in _WRITERS:
        raise ConfigError(f"output file {out_path} must end in .csv or .parquet (or .tsv)")
    kept, rows, n_chunks, id_col, ignored = [], 0, 0, None, {}
    bar = progress(desc="predict", unit="rows")

    def chunks_scored():
        nonlocal rows, n_chunks, id_col
        for chunk in iter_table(data, chunk_rows=chunk_size):
            if n_chunks == 0:
                id_col = _id_column([str(c) for c in chunk.columns], schema_names, id_column)
                if pkg.schema is not None:
                    ignored.update({c: pkg.schema.dropped[c] for c in pkg.schema.ignored(chunk.columns)})
                # a file shaped like the training file still has the target: not a feature
                if target and target in chunk.columns and target not in schema_names:
                    ignored[target] = "the target"
            scored = _score_chunk(pkg, chunk, proba=proba, ignore_extra=ignore_extra, id_col=id_col, task=task,
                                  set_aside=[target] if target in ignored else ())
            rows += len(scored)
            n_chunks += 1
            bar.update(len(scored))
            if keep:
                kept.append(scored)
            if sink is not None:
                sink(scored)
            yield scored

    try:
        if out_path is None:
            for _ in chunks_scored():
                pass
        else:
            _clean_stale_partials(out_path)
            with atomic_path(out_path, suffix=_partial_suffix()) as tmp:
                writer = _WRITERS[out_path.suffix.lower()](tmp, out_path)
                try:
                    for scored in chunks_scored():
                        writer.write(scored)
                    if rows == 0:
                        raise DataFileError("the data has no rows to predict")
                finally:
                    writer.close()
    finally:
        bar.close()
    predictions = pd.concat(kept, ignore_index=True) if keep and kept else None
    if rows == 0:
        raise DataFileError("the data has no rows to predict")
    if ignored and log is not None:
        log(ignored_line(ignored))
    return PredictResult(predictions=predictions, rows=rows, out=out_path, seconds=time.perf_counter() - started,
                         chunks=n_chunks, ignored_columns=ignored)
