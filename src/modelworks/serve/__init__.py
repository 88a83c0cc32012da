"""The HTTP prediction server (Starlette on uvicorn).

``POST /predict`` takes JSON records (``{"records": [{...}, ...]}`` or a list) or columns
(``{"columns": {"a": [...]}}``), validates them with the package's schema (the same
:meth:`modelworks.data.Schema.validate` as everywhere else) and returns predictions and, for
classifiers, class probabilities. ``GET /health``, ``/schema``, ``/metrics`` (Prometheus text, or
JSON with ``?format=json``) and ``/openapi.json`` describe the service. Missing / extra /
mistyped columns answer 422 naming the field, oversized bodies 413, a full server 503 with
``Retry-After``; no answer ever carries a stack trace. SIGTERM finishes in-flight requests.
"""

from modelworks.serve._app import ServeOptions, create_app, openapi, parse_rows, to_frame
from modelworks.serve._server import ServeResult, serve

__all__ = ["ServeOptions", "ServeResult", "create_app", "openapi", "parse_rows", "serve", "to_frame"]
