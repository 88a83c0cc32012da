"""Load every hostile variant with one loader, in a fresh process, and record what happened.

    python run_loader.py LOADER VARIANTS_JSON DATA_CSV OUT_JSON

LOADER is ``api`` (``modelworks.package.load``), ``inspect`` / ``predict`` / ``serve`` (the
``modelworks`` command, called in-process so a hundred variants take seconds, not minutes).
Each load runs under an alarm: a hang is recorded, never waited out. The output lists, per
variant, the exit code or the exception type and whether it is a modelworks error, plus which
sentinel modules ended up imported and which threads are alive at the end.
"""

from __future__ import annotations

import contextlib
import io
import json
import signal
import sys
import threading
from pathlib import Path

TIMEOUT_S = 60


class _Hang(BaseException):
    pass


def _alarm(signum, frame):
    raise _Hang()


def run_one(loader: str, path: str, data: str) -> dict:
    from modelworks.exceptions import ModelworksError

    err = io.StringIO()
    signal.alarm(TIMEOUT_S)
    try:
        if loader == "api":
            import modelworks.package as mp

            mp.load(path)
            return {"outcome": "loaded"}
        from modelworks.cli import main

        argv = {"inspect": ["package", "inspect", path],
                "predict": ["predict", path, data],
                "serve": ["serve", path, "--port", "0"]}[loader]
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(argv)
        lines = [line for line in err.getvalue().splitlines() if line.strip()]
        return {"outcome": "exit", "code": code, "stderr": lines[-3:], "traceback": "Traceback" in err.getvalue()}
    except _Hang:
        return {"outcome": "hang"}
    except ModelworksError as e:
        return {"outcome": "refused", "type": type(e).__name__, "message": str(e)[:300]}
    except BaseException as e:  # noqa: BLE001 - recording exactly what escaped is the point
        return {"outcome": "untyped", "type": type(e).__name__, "message": str(e)[:300]}
    finally:
        signal.alarm(0)


def main() -> None:
    loader, variants_json, data, out = sys.argv[1:5]
    variants = json.loads(Path(variants_json).read_text())
    sys.path.insert(0, str(Path(variants_json).parent))  # where the sentinel module lies: importable if named
    signal.signal(signal.SIGALRM, _alarm)
    import time

    results = {}
    for v in variants:
        start = time.perf_counter()
        results[v["name"]] = {**run_one(loader, v["path"], data), "seconds": round(time.perf_counter() - start, 3)}
    from make_hostile import SENTINEL_MODULES

    report = {
        "loader": loader,
        "results": results,
        "imported": sorted(m for m in SENTINEL_MODULES if m in sys.modules),
        "threads": sorted(t.name for t in threading.enumerate() if t is not threading.main_thread()),
    }
    Path(out).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
