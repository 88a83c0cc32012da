"""The prediction server as a Starlette application.

Every answer is JSON. Bad input gets a 4xx naming what is wrong (400 unreadable JSON, 413 body
too large, 415 not JSON, 422 wrong columns or values), a full server a 503 with ``Retry-After``,
and an unexpected failure a 500 with a request id — never a stack trace.

:class:`_Server` holds what every request shares (the predictor, the metrics, the in-flight
count) and has one method per route; the parts are beside it: reading requests
(:mod:`~modelworks.serve._requests`), scoring (:mod:`~modelworks.serve._predictor`), metrics
(:mod:`~modelworks.serve._metrics`) and the OpenAPI document (:mod:`~modelworks.serve._openapi`).
"""

from __future__ import annotations

import functools
import time
import uuid
from pathlib import Path

from modelworks.serve._metrics import CLIENT_CLOSED, _Metrics
from modelworks.serve._openapi import openapi
from modelworks.serve._options import ServeOptions
from modelworks.serve._predictor import _Predictor
from modelworks.serve._requests import RequestError, _parse_body, numbers_only, parse_rows, to_frame

__all__ = ["ServeOptions", "create_app", "openapi", "parse_rows", "to_frame"]

# requests this small, for models this fast (seconds for one row), are scored on the event
# loop: a thread hop costs about as much as scoring a few rows of a fast model, and scoring holds
# the GIL for most of its time anyway (a 100-tree forest takes ~5 ms for a row)
INLINE_MAX_ROWS = 16
INLINE_MAX_SECONDS = 0.02
_SCORING_CONTENT_TYPES = ("application/json", "text/json", "", "application/x-www-form-urlencoded")


def create_app(package, *, ignore_extra: bool = False, max_body_bytes: int = 16 * 1024**2,
               max_rows: int = 100_000, max_in_flight: int = 32, log_requests: str | Path | None = None,
               model_ref: str | None = None):
    """Build the Starlette application serving ``package``.

    Parameters
    ----------
    package : Package or path or str
        A loaded :class:`modelworks.package.Package`, a package path or ``models:/NAME@ALIAS``.
    ignore_extra : bool, default=False
        Drop columns the model was not trained on instead of answering 422.
    max_body_bytes : int
        Larger bodies get 413.
    max_rows : int
        More rows in one request get 413.
    max_in_flight : int
        Concurrent ``/predict`` requests; beyond this the server answers 503 with ``Retry-After``.
    log_requests : path, optional
        Append every validated input row and its prediction to this JSON-lines file (for drift checks).

    Returns
    -------
    starlette.applications.Starlette
    """
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.routing import Route

    if isinstance(package, str | Path):
        from modelworks.package import load_ref

        model_ref = model_ref or str(package)
        package = load_ref(str(package))
    options = ServeOptions(ignore_extra=bool(ignore_extra), max_body_bytes=max_body_bytes, max_rows=max_rows,
                           max_in_flight=max_in_flight,
                           log_requests=str(log_requests) if log_requests else None,
                           model_ref=model_ref or str(package.path)).check()
    server = _Server(package, options)
    routes = [Route("/predict", server.predict, methods=["POST"]), Route("/health", server.health, methods=["GET"]),
              Route("/schema", server.schema, methods=["GET"]), Route("/metrics", server.metrics_view, methods=["GET"]),
              Route("/openapi.json", server.openapi_view, methods=["GET"])]
    app = Starlette(routes=routes, exception_handlers={HTTPException: server.http_error, Exception: server.server_error})
    app.router.redirect_slashes = False  # /predict/ is a 404 with a message, not a redirect
    app.state.package = package
    app.state.options = options
    app.state.server = server
    return app


def _error(status: int, message: str, fields=None, headers=None):
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message, "status": status, "fields": fields or []}, status_code=status,
                        headers=headers)


class _Server:
    """What the requests of one app share, and one handler per route."""

    def __init__(self, package, options: ServeOptions) -> None:
        import anyio

        self.package, self.options = package, options
        self.predictor = _Predictor(package, options)
        self.metrics = _Metrics()
        self.in_flight = 0
        self.limiter = anyio.CapacityLimiter(max(4, min(options.max_in_flight, 40)))
        self.identity = {"ref": options.model_ref, "estimator": package.manifest["model"].get("estimator"),
                         "task": package.task, "target": package.target,
                         "format_version": package.manifest.get("format_version"),
                         "created": package.manifest.get("created")}
        self.doc = openapi(package, options)

    async def read_body(self, request) -> bytes:
        """The body, refused (413) as soon as it is over the limit, whatever Content-Length says."""
        limit = self.options.max_body_bytes
        length = request.headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise RequestError(400, "invalid Content-Length header")
            if int(length) > limit:
                raise RequestError(413, f"request body of {int(length):,} bytes is over the limit of "
                                        f"{limit:,} (the server's max_body_bytes); split the batch")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestError(413, f"request body is over the limit of {limit:,} bytes "
                                        "(the server's max_body_bytes); split the batch")
            chunks.append(chunk)
        return b"".join(chunks)

    async def parse(self, request):
        """The request's rows, whether to drop extra columns, and whether its values are all numbers."""
        ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        # curl -d sends form-urlencoded by default: the body is still parsed strictly as JSON
        if ctype not in _SCORING_CONTENT_TYPES:
            raise RequestError(415, f"send JSON (Content-Type: application/json), got {ctype!r}")
        raw = await self.read_body(request)
        if not raw.strip():
            raise RequestError(400, 'empty body; send JSON like {"records": [{column: value, ...}]}')
        try:
            body = _parse_body(raw)
        except RecursionError:
            raise RequestError(400, "the JSON body is nested too deeply") from None
        except (ValueError, UnicodeDecodeError) as e:
            raise RequestError(400, f"the body is not valid JSON: {e}") from None
        ignore = self.options.ignore_extra or request.query_params.get("ignore_extra", "").lower() in ("1", "true")
        rows = parse_rows(body, self.options.max_rows, same_columns=False)  # the predictor checks the columns
        return rows, ignore, self.predictor.numeric and numbers_only(raw, body)

    async def score(self, rows, ignore: bool, numbers: bool) -> dict:
        """Score on the event loop when the request is small and the model fast, else in a thread."""
        import anyio

        score = functools.partial(self.predictor, rows, ignore, numbers=numbers)
        if len(rows) <= INLINE_MAX_ROWS and self.predictor.small_request_s < INLINE_MAX_SECONDS:
            return score()  # a thread hop costs about as much as scoring a few rows of a fast model
        return await anyio.to_thread.run_sync(score, limiter=self.limiter)

    async def predict(self, request):
        import orjson
        from starlette.requests import ClientDisconnect
        from starlette.responses import Response

        started = time.perf_counter()
        options = self.options
        if self.in_flight >= options.max_in_flight:
            self.metrics.reject("capacity")
            self.metrics.observe("/predict", 503, 0.0)
            return _error(503, f"the server is at capacity ({options.max_in_flight} requests in flight); retry "
                               f"after {options.retry_after_s} s", headers={"Retry-After": str(options.retry_after_s)})
        self.in_flight += 1
        rows = 0
        try:
            parsed, ignore, numbers = await self.parse(request)
            rows = len(parsed)
            result = await self.score(parsed, ignore, numbers)
            result["model"] = self.identity["ref"]
            response = Response(orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")
            status = 200
        except RequestError as e:
            self.metrics.reject(str(e.status))
            response, status, rows = _error(e.status, e.message, e.fields, e.headers), e.status, 0
        except ClientDisconnect:  # the client hung up before its body was in: nothing failed here
            self.metrics.reject("client_disconnect")
            response, status, rows = _error(CLIENT_CLOSED, "the client closed the connection"), CLIENT_CLOSED, 0
        except Exception:  # a bug or a model failure: no details leak to the client
            response, status, rows = _internal_error(), 500, 0
        finally:
            self.in_flight -= 1
        self.metrics.observe("/predict", status, time.perf_counter() - started, rows)
        return response

    async def health(self, request):
        from starlette.responses import JSONResponse

        self.metrics.observe("/health", 200, 0.0)
        return JSONResponse({"status": "ok", "model": self.identity, "in_flight": self.in_flight,
                             "max_in_flight": self.options.max_in_flight})

    async def schema(self, request):
        from starlette.responses import JSONResponse

        from modelworks._io import to_jsonable

        package = self.package
        self.metrics.observe("/schema", 200, 0.0)
        return JSONResponse({"features": package.features, "schema": package.schema.to_dict(),
                             "task": package.task, "target": package.target,
                             "classes": to_jsonable(self.predictor.classes), "ignore_extra": self.options.ignore_extra})

    async def metrics_view(self, request):
        from starlette.responses import JSONResponse, PlainTextResponse

        self.metrics.observe("/metrics", 200, 0.0)
        if request.query_params.get("format") == "json" or "application/json" in request.headers.get("accept", ""):
            return JSONResponse(self.metrics.as_dict(self.in_flight))
        return PlainTextResponse(self.metrics.prometheus(self.in_flight), media_type="text/plain; version=0.0.4")

    async def openapi_view(self, request):
        from starlette.responses import JSONResponse

        return JSONResponse(self.doc)

    async def http_error(self, request, exc):
        messages = {404: f"no such endpoint {request.url.path}; try POST /predict, GET /health, /schema, "
                         "/metrics, /openapi.json", 405: f"{request.method} is not allowed on {request.url.path}"}
        self.metrics.observe(request.url.path if exc.status_code != 404 else "other", exc.status_code, 0.0)
        return _error(exc.status_code, messages.get(exc.status_code, str(exc.detail)), headers=exc.headers)

    async def server_error(self, request, exc: Exception):
        return _error(500, "internal server error; see the server log")


def _internal_error():
    """Log the failure under a request id; the client gets only the id."""
    import logging
    import sys

    rid = uuid.uuid4().hex[:12]
    logging.getLogger("modelworks.serve").exception("request %s failed", rid)
    print(f"modelworks serve: request {rid} failed", file=sys.stderr)
    return _error(500, f"internal error while predicting (request id {rid}); see the server log")
