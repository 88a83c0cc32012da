"""Run the prediction server on uvicorn: one process, or several workers sharing one socket.

SIGTERM / SIGINT stop accepting connections and let in-flight requests finish (uvicorn's
graceful shutdown, bounded by ``graceful_timeout``) before the process exits.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

from modelworks._result import Result
from modelworks.exceptions import ServeError

_ENV = "MODELWORKS_SERVE_CONFIG"


def _server_class():
    import contextlib
    import signal
    import threading

    import uvicorn

    class _Server(uvicorn.Server):
        """uvicorn's server, ending with exit code 0 after a graceful SIGTERM (uvicorn re-raises it)."""

        @contextlib.contextmanager
        def capture_signals(self):
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            original = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

    return _Server


def _app_factory():
    """Build the app inside a uvicorn worker process from the settings the parent left in the environment."""
    from modelworks.serve._app import create_app

    cfg = json.loads(os.environ[_ENV])
    ref, trust = cfg.pop("ref"), cfg.pop("trust", ())
    if trust:
        from modelworks._resolve import load_ref

        ref = load_ref(ref, trust=trust)
    return create_app(ref, **cfg)


class ServeResult(Result):
    """A server :func:`serve` runs: the model it serves and where it listens.

    :func:`serve` hands it to ``on_start`` once the socket listens and the model is loaded (by
    default its :meth:`summary`, the startup line with the address, goes to stderr) and returns
    it when the server has stopped.
    """

    title = "Model server"
    json_name = "serve.json"

    def __init__(self, ref: str, model: str, host: str, port: int, workers: int, *,
                 log_requests: str | None = None) -> None:
        self.ref, self.model, self.host, self.port, self.workers = ref, model, host, port, workers
        self.log_requests = log_requests

    @property
    def url(self) -> str:
        """The address the server answers on (the port the system picked when asked for 0)."""
        return f"http://{self.host}:{self.port}"

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "host": self.host, "port": self.port, "workers": self.workers,
                "model": self.model, "url": self.url, "log_requests": self.log_requests}

    def summary(self) -> str:
        workers = f"{self.workers} worker{'s' if self.workers > 1 else ''}"
        return (f"modelworks serve: {self.model} on {self.url} ({workers}; "
                "POST /predict, GET /health /schema /metrics /openapi.json)")


def _print_start(started: ServeResult) -> None:
    print(started.summary(), file=sys.stderr, flush=True)


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, created as TCP *by protocol number*.

    asyncio sets ``TCP_NODELAY`` on a connection only when its socket says ``IPPROTO_TCP``, and
    an accepted socket inherits the listener's protocol number: with the default 0, every
    response would wait out Nagle's algorithm against the client's delayed ACK (about 40 ms).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {e.strerror or e}", param="port",
                         fix="choose another {}") from e
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(ref, host: str = "127.0.0.1", port: int = 8080, workers: int = 1, *, ignore_extra: bool = False,
          max_body_bytes: int = 16 * 1024**2, max_rows: int = 100_000, max_in_flight: int = 32,
          log_requests: str | None = None, tracking_uri: str | None = None, graceful_timeout: float = 30.0,
          log_level: str = "warning", trust=(),
          on_start: Callable[[ServeResult], Any] | None = None) -> ServeResult:
    """Serve a package or registry reference over HTTP until SIGTERM / SIGINT.

    Parameters
    ----------
    ref : str or path
        Package path, ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``.
    host, port : str, int
        Where to listen (port 0 picks a free port; the address is printed on stderr).
    workers : int
        Processes; each loads the model and shares the listening socket.
    graceful_timeout : float
        Seconds in-flight requests get to finish after SIGTERM.
    on_start : callable, optional
        Called with the :class:`ServeResult` once the socket listens and the model is loaded
        (default: print its summary, the address included, on stderr).

    Other parameters are those of :func:`modelworks.serve.create_app`.

    Returns
    -------
    ServeResult
        What was served and where, once the server has stopped.
    """
    from modelworks._imports import require

    for module in ("starlette", "uvicorn"):
        require(module, purpose="serving models over HTTP")
    import uvicorn

    from modelworks._resolve import load_ref, locate
    from modelworks._validation import check_scalar
    from modelworks.serve._app import create_app

    workers = check_scalar(workers, "workers", kind=int, low=1, error=ServeError)
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ServeError(f"port must be between 0 and 65535, got {port!r}")
    # resolve a registry alias once so every worker serves the same version
    path, label = locate(str(ref), tracking_uri=tracking_uri)
    path = str(path)
    package = load_ref(path, trust=trust)  # fail here, once, with a clear error, before any worker starts
    settings = dict(ignore_extra=ignore_extra, max_body_bytes=max_body_bytes, max_rows=max_rows,
                    max_in_flight=max_in_flight, log_requests=log_requests, model_ref=label)
    sock = _bind(host, port)
    started = ServeResult(str(ref), label, host, sock.getsockname()[1], workers,
                          log_requests=str(log_requests) if log_requests else None)
    common = dict(log_level=log_level, timeout_graceful_shutdown=graceful_timeout, access_log=False,
                  lifespan="off", server_header=False)
    try:
        (on_start or _print_start)(started)
        if workers == 1:
            app = create_app(package, **settings)
            server = _server_class()(uvicorn.Config(app, **common))
            server.run(sockets=[sock])
        else:
            from uvicorn.supervisors import Multiprocess

            os.environ[_ENV] = json.dumps({"ref": path, "trust": list(trust), **settings})
            config = uvicorn.Config("modelworks.serve._server:_app_factory", factory=True, workers=workers, **common)
            Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
    return started
