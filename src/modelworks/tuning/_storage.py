"""Where studies live: a journal file by default, any Optuna RDB URL at scale.

Why the journal file is the default (measured here, Optuna 5.0, 2-core machine, trivial
objective; ``python benchmarks/bench_tuning.py --parts storage``): storage overhead per trial
was 2.4 ms for ``JournalFileBackend`` against 15 ms for SQLite (12-46 ms in earlier runs, 14 ms
in WAL mode), and 4 processes x 25 trials on one study took 1.6 s against 4.6 s (8 x 50: 5.2 s
against 11.4 s). Neither lost a trial nor reported "database is locked" in those runs, but
Optuna's FAQ warns against SQLite with parallel writers, while the journal appends under a
file lock, which is what it was designed for.

The journal has no heartbeat, so modelworks adds one (:class:`HeartbeatJournalStorage`): each
running trial records a heartbeat every :data:`HEARTBEAT_INTERVAL` seconds; a RUNNING trial
whose heartbeat is older than :data:`GRACE_PERIOD`, or whose worker process on this machine
is gone (``kill -9``), is marked FAIL and re-queued with the same parameters
(``optuna.storages.RetryHeartbeatStaleTrialCallback``). RDB URLs (``sqlite:///``,
``postgresql://``, ``mysql://``) use Optuna's own heartbeat with the same policy.

A PostgreSQL URL lets workers on several machines share one study: each runs the same
``modelworks tune ... --storage postgresql://USER:PASSWORD@HOST/DB --study NAME``. The database
must exist (``createdb DB``); the first worker creates Optuna's tables. ``postgresql://`` uses
psycopg 3 (SQLAlchemy 2.1's default driver, in the ``dist`` extra); ``postgresql+psycopg2://``
works where psycopg2 is installed.

Every study opens with plain Optuna::

    optuna.load_study(study_name="rf-bayes", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend("out/study.journal")))
"""

from __future__ import annotations

import copy
import functools
import os
import random
import socket
import time
import warnings
from pathlib import Path
from typing import Any

from modelworks.exceptions import TuningError

HEARTBEAT_INTERVAL = 5  # seconds between heartbeats of a running trial
GRACE_PERIOD = 30  # a trial silent for this long is stale (its worker died or hangs)
MAX_RETRY = 2  # a stale trial is re-queued at most this many times
WORKER_ATTR = "worker"  # user attribute "host:pid" of the process running a trial
DEFAULT_FILE = "study.journal"
_RDB_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "oracle", "mssql")
CONNECT_TIMEOUT = 10  # seconds to reach a database server before giving up
SCHEMA_ATTEMPTS = 5  # tries to open a new database that other workers are setting up too
_SQLITE = {"connect_args": {"timeout": 60}}  # wait for a writer rather than fail "locked"
# give up on an unreachable server instead of hanging, and replace the connections that the
# server dropped while a long trial ran (libpq options: psycopg 3 and psycopg2)
_LIBPQ = {"pool_pre_ping": True, "connect_args": {"connect_timeout": CONNECT_TIMEOUT}}
_ENGINE_KWARGS: dict[str, dict[str, Any]] = {
    "sqlite": _SQLITE,
    "sqlite+pysqlite": _SQLITE,
    "postgresql": _LIBPQ,
    "postgresql+psycopg": _LIBPQ,
    "postgresql+psycopg2": _LIBPQ,
}
# the package that provides each URL's driver (SQLAlchemy 2.1 maps postgresql:// to psycopg 3)
_DRIVERS = {
    "postgresql": "psycopg[binary] (pip install 'modelworks[dist]')",
    "postgresql+psycopg": "psycopg[binary] (pip install 'modelworks[dist]')",
    "postgresql+psycopg2": "psycopg2-binary",
    "mysql": "mysqlclient",
    "mysql+mysqldb": "mysqlclient",
    "mysql+pymysql": "PyMySQL",
}
# what to check when a storage does not open, by database
_OPEN_HINTS = {
    "sqlite": "check that the file's directory exists and is writable",
}
_SERVER_HINT = (
    "check that the server runs and that host, port, user, password and database are right "
    "(the database must exist: createdb NAME)"
)


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child that nobody reaped yet is a zombie: dead for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def worker_is_dead(worker: str | None) -> bool:
    """Whether a ``host:pid`` worker is a process on this machine that no longer runs."""
    if not worker or ":" not in worker:
        return False
    host, pid = worker.rsplit(":", 1)
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return not _pid_alive(int(pid))


@functools.cache
def _retry_class():
    import optuna

    class RetryStaleTrial(optuna.storages.RetryHeartbeatStaleTrialCallback):
        """Optuna's re-queue of a stale trial, without the dead worker's marks.

        Optuna copies the failed trial's user and system attributes into the retry, including
        our ``worker`` attribute (the dead process) and its last ``heartbeat``. The retry would
        then look stale again to every other worker in the moment between being picked up and
        its new worker writing its own marks, get failed under that worker's feet, and the
        worker would stop with "Cannot tell a FAIL trial" (its share of --trials lost).
        """

        def __call__(self, study, trial) -> None:
            trial = copy.deepcopy(trial)
            trial.user_attrs = {k: v for k, v in trial.user_attrs.items() if k != WORKER_ATTR}
            trial.system_attrs = {k: v for k, v in trial.system_attrs.items() if k != "heartbeat"}
            super().__call__(study, trial)

        def __reduce__(self):  # storages travel to worker processes; a local class cannot be pickled
            return (retry_callback, ())

    return RetryStaleTrial


def retry_callback():
    """The callback that re-queues a stale trial (at most :data:`MAX_RETRY` times)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks it experimental
        return _retry_class()(max_retry=MAX_RETRY)


@functools.cache
def _journal_class():
    import optuna
    from optuna.trial import TrialState

    from modelworks._compat.optuna import base_heartbeat, trial_id

    class HeartbeatJournalStorage(optuna.storages.JournalStorage, base_heartbeat()):
        """Optuna's journal storage plus the heartbeat it lacks (see the module docstring)."""

        def __init__(
            self,
            path: str,
            *,
            heartbeat_interval: int = HEARTBEAT_INTERVAL,
            grace_period: int = GRACE_PERIOD,
            max_retry: int | None = MAX_RETRY,
        ) -> None:
            from optuna.storages.journal import JournalFileBackend

            self.path = str(path)
            self.heartbeat_interval = heartbeat_interval
            self.grace_period = grace_period
            self.max_retry = max_retry
            super().__init__(JournalFileBackend(self.path))

        def __reduce__(self):  # rebuilt from the path in worker processes
            return (
                _make_journal,
                (self.path, self.heartbeat_interval, self.grace_period, self.max_retry),
            )

        def record_heartbeat(self, trial_id: int) -> None:
            try:
                self.set_trial_system_attr(trial_id, "heartbeat", time.time())
            except optuna.exceptions.UpdateFinishedTrialError:
                pass

        def _get_stale_trial_ids(self, study_id: int) -> list[int]:  # _compat.optuna.STALE_TRIAL_IDS
            now = time.time()
            stale = []
            for t in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
                beat = t.system_attrs.get("heartbeat")
                if beat is None and t.datetime_start is not None:
                    beat = t.datetime_start.timestamp()
                if worker_is_dead(t.user_attrs.get(WORKER_ATTR)) or (
                    beat is not None and now - beat > self.grace_period
                ):
                    stale.append(trial_id(t))
            return stale

        def get_heartbeat_interval(self) -> int | None:
            return self.heartbeat_interval

        def get_heartbeat_stale_trial_callback(self):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Optuna marks it experimental
                return _retry_class()(max_retry=self.max_retry)

    return HeartbeatJournalStorage


class TuningWarning(UserWarning):
    """Something about a study the user should know (it was repaired, or a trial re-run)."""


def _last_newline(f, end: int) -> int:
    """Offset just after the last ``\\n`` before ``end`` (0 when there is none)."""
    block = 1 << 16
    pos = end
    while pos > 0:
        start = max(0, pos - block)
        f.seek(start)
        chunk = f.read(pos - start)
        i = chunk.rfind(b"\n")
        if i >= 0:
            return start + i + 1
        pos = start
    return 0


def _complete_json(line: bytes) -> bool:
    import json

    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def repair_journal(path) -> int:
    """Drop a torn last record of a journal file (a crash mid-append, a full disk).

    Optuna appends one JSON record per line. A writer killed mid-write leaves a last line with
    no newline (or one that is not JSON); Optuna skips it on read, but the next append glues a
    new record onto it and every later read fails with ``JSONDecodeError``. Under the journal's
    own lock, this cuts the file back to its last complete record and warns
    (:class:`TuningWarning`) with the number of bytes dropped; the trial that record belonged
    to is found stale and re-run. Returns the number of bytes dropped (0 for a sound file).

    Raises
    ------
    TuningError
        A damaged record that is not the last one (the file was edited or corrupted, not torn).
    """
    import warnings

    from optuna.storages.journal import JournalFileSymlinkLock

    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return 0
    lock = JournalFileSymlinkLock(str(path))
    lock.acquire()
    try:
        with open(path, "rb+") as f:
            size = f.seek(0, os.SEEK_END)
            good = _last_newline(f, size)  # a tail without a newline is torn
            if good > 0:  # the last complete line may be torn too (a newline written, not JSON)
                start = _last_newline(f, good - 1)
                f.seek(start)
                if not _complete_json(f.read(good - start)):
                    good = start
                    if good > 0:
                        prev = _last_newline(f, good - 1)
                        f.seek(prev)
                        if not _complete_json(f.read(good - prev)):
                            raise TuningError(
                                f"the study file {path} is damaged before its last record (not a "
                                "torn write)", param="storage",
                                fix="restore it from a copy or start a new study (another {})"
                            )
            dropped = size - good
            if dropped:
                f.truncate(good)
                f.flush()
                os.fsync(f.fileno())
    finally:
        lock.release()
    if dropped:
        warnings.warn(
            f"the study file {path} ended with a torn record ({dropped} bytes, a write cut short "
            "by a crash or a full disk); it was dropped and the study continues from the record "
            "before it",
            TuningWarning,
            stacklevel=3,
        )
    return dropped


def _make_journal(
    path, heartbeat_interval=HEARTBEAT_INTERVAL, grace_period=GRACE_PERIOD, max_retry=MAX_RETRY
):
    import warnings

    repair_journal(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks heartbeat features experimental
        return _journal_class()(
            path,
            heartbeat_interval=heartbeat_interval,
            grace_period=grace_period,
            max_retry=max_retry,
        )


def _one_line(e: BaseException) -> str:
    """A driver's error on one line, without SQLAlchemy's statement and background link."""
    text = str(getattr(e, "orig", None) or e)
    text = text.split("\n(Background on this error", 1)[0].split("\n[SQL:", 1)[0]
    return " ".join(text.split())[:300]


def _make_rdb(url: str):
    import warnings

    import optuna
    from sqlalchemy import exc

    scheme = url.split("://", 1)[0].lower()
    if scheme.split("+", 1)[0] == "postgres":  # the libpq / Heroku spelling SQLAlchemy refuses
        url = "postgresql" + url[len("postgres") :]
        scheme = "postgresql" + scheme[len("postgres") :]
    kwargs = _ENGINE_KWARGS.get(scheme)
    for attempt in range(1, SCHEMA_ATTEMPTS + 1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return optuna.storages.RDBStorage(
                    url,
                    engine_kwargs=copy.deepcopy(kwargs),
                    heartbeat_interval=HEARTBEAT_INTERVAL,
                    grace_period=GRACE_PERIOD,
                    heartbeat_stale_trial_callback=retry_callback(),
                )
        except ImportError as e:
            driver = _DRIVERS.get(scheme, "the database driver named in the URL")
            raise TuningError(
                f"the driver for storage '{_redact(url)}' is not installed: install {driver}"
            ) from e
        except (exc.IntegrityError, exc.ProgrammingError) as e:
            # workers that open a new database at once race to create Optuna's tables; the
            # losers fail (PostgreSQL: duplicate key in pg_type) and find the tables on a retry
            if attempt == SCHEMA_ATTEMPTS:
                raise TuningError(
                    f"cannot set up storage '{_redact(url)}': {_one_line(e)}; check that the user "
                    "may create tables in this database"
                ) from e
            time.sleep(random.uniform(0.1, 0.3) * attempt)
        except Exception as e:  # OperationalError: unreachable server, unknown database, login
            hint = _OPEN_HINTS.get(scheme.split("+", 1)[0], _SERVER_HINT)
            raise TuningError(
                f"cannot open storage '{_redact(url)}': {_one_line(e)}; {hint}"
            ) from e
    raise AssertionError("unreachable")  # pragma: no cover


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        if ":" in creds:
            return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url


def describe_storage(storage: Any) -> str:
    """A printable name for a storage spec or object (passwords hidden)."""
    if storage is None:
        return ":memory:"
    if isinstance(storage, str | os.PathLike):
        return _redact(os.fspath(storage))
    path = getattr(storage, "path", None)
    if path:
        return str(path)
    url = getattr(storage, "url", None)
    return _redact(str(url)) if url else type(storage).__name__


def default_storage(out_dir) -> str:
    return str(Path(out_dir).resolve() / DEFAULT_FILE)


def open_storage(spec: Any):
    """An Optuna storage for a spec.

    Parameters
    ----------
    spec : None, str, path or optuna storage
        ``None``: in memory (one process only). A URL with a scheme (``sqlite:///x.db``,
        ``postgresql://user:pw@host/db``): Optuna's RDB storage with heartbeat. Any other
        string or path: a journal file (created with its directory). An Optuna storage object
        is used as it is.
    """
    import optuna

    if spec is None:
        return optuna.storages.InMemoryStorage()
    if isinstance(spec, optuna.storages.BaseStorage):
        return spec
    if not isinstance(spec, str | os.PathLike):
        raise TuningError(
            f"storage must be a file path, a database URL or an Optuna storage, got {type(spec).__name__}"
        )
    text = os.fspath(spec)
    if "://" in text:
        scheme = text.split("://", 1)[0].split("+", 1)[0].lower()
        if scheme not in _RDB_SCHEMES:
            raise TuningError(
                f"unknown storage scheme '{scheme}://'; use a file path (journal), "
                "sqlite:///FILE.db or postgresql://USER:PASSWORD@HOST/DB"
            )
        return _make_rdb(text)
    path = Path(text).expanduser().resolve()
    if path.is_dir():
        path = path / DEFAULT_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return _make_journal(str(path))
    except OSError as e:
        raise TuningError(f"cannot open the study file {path}: {e}") from e


def storage_spec(storage) -> Any:
    """What to hand a worker process so it opens the same storage (a path/URL or the object)."""
    import optuna

    if isinstance(storage, optuna.storages.InMemoryStorage):
        return None
    path = getattr(storage, "path", None)
    if path is not None:
        return path
    return storage  # RDBStorage / JournalStorage pickle themselves


def recover_stale_trials(study) -> list[int]:
    """Fail RUNNING trials whose worker died or whose heartbeat stopped, and re-queue them.

    Returns the numbers of the trials that were failed. Works on any storage: trials of a dead
    local worker are found by their ``worker`` attribute even where there is no heartbeat.
    """
    import warnings

    import optuna
    from optuna.trial import TrialState

    from modelworks._compat.optuna import heartbeat_stale_trial_ids, storage_of, trial_id

    storage = storage_of(study)
    stale_ids = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stale_ids.update(heartbeat_stale_trial_ids(study))
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if worker_is_dead(t.user_attrs.get(WORKER_ATTR)):
                stale_ids.add(trial_id(t))
        failed = []
        for trial_id in sorted(stale_ids):
            try:
                if storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
                    failed.append(trial_id)
            except optuna.exceptions.UpdateFinishedTrialError:
                pass  # another worker got there first
        retry = retry_callback()
        numbers = []
        for trial_id in failed:
            frozen = copy.deepcopy(storage.get_trial(trial_id))
            retry(study, frozen)
            numbers.append(frozen.number)
    return numbers


def load_study(storage, study_name: str):
    """Open a stored study (a journal file path, a database URL or a storage object).

    Equivalent to ``optuna.load_study(study_name=..., storage=...)``; a journal file path is
    wrapped in ``JournalStorage(JournalFileBackend(path))`` first.
    """
    import optuna

    if isinstance(storage, str | os.PathLike) and "://" not in os.fspath(storage):
        path = Path(storage)
        if path.is_dir():
            path = path / DEFAULT_FILE
        if not path.exists():
            raise TuningError(f"no study file at {path}; run tune with this storage first")
    try:
        return optuna.load_study(study_name=study_name, storage=open_storage(storage))
    except KeyError as e:
        raise TuningError(f"no study named '{study_name}' in {describe_storage(storage)}") from e
