"""The OpenAPI 3 document of a served package: its columns are the request schema."""

from __future__ import annotations

from modelworks.serve._options import ServeOptions


def openapi(package, options: ServeOptions) -> dict:
    """An OpenAPI 3 document with the package's columns as the request schema."""
    kinds = {"numeric": {"type": "number"}, "integer": {"type": "number"}, "boolean": {"type": "boolean"},
             "categorical": {"type": "string"}, "datetime": {"type": "string", "format": "date-time"}}
    props = {}
    for c in package.schema.columns:
        prop = dict(kinds.get(c.kind, {}))
        if c.categories:
            prop["examples"] = c.categories[:5]
        if c.min is not None:
            prop["description"] = f"seen in training: {c.min:g} .. {c.max:g}"
        prop["nullable"] = True
        props[c.name] = prop
    row = {"type": "object", "properties": props, "required": package.schema.names,
           "additionalProperties": options.ignore_extra}
    # at least one row (an empty batch is refused with 422), at most --max-rows (more is a 413)
    rows = {"type": "array", "items": {"$ref": "#/components/schemas/Row"}, "minItems": 1,
            "maxItems": options.max_rows}
    columns = {"type": "object", "minProperties": 1, "additionalProperties": {
        "type": "array", "minItems": 1, "maxItems": options.max_rows}}
    error = {"type": "object", "properties": {"error": {"type": "string"}, "status": {"type": "integer"},
                                              "fields": {"type": "array", "items": {"type": "string"}}}}
    err = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": f"modelworks: {package.manifest['model'].get('estimator')}", "version":
                 str(package.manifest.get("modelworks_version")),
                 "description": f"task {package.task}, target {package.target}"},
        "paths": {
            "/predict": {"post": {
                "summary": "Predict for one row or a batch",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
                    {"type": "object", "properties": {"records": {"oneOf": [{"$ref": "#/components/schemas/Row"}, rows]}},
                     "required": ["records"], "additionalProperties": False},
                    {"type": "object", "properties": {"columns": columns}, "required": ["columns"],
                     "additionalProperties": False},
                    rows,
                ]}}}},
                "responses": {"200": {"description": "predictions (and class probabilities for classifiers)"},
                              "400": err, "413": err, "415": err, "422": err, "503": err},
            }},
            "/health": {"get": {"summary": "Liveness and model identity", "responses": {"200": {"description": "ok"}}}},
            "/schema": {"get": {"summary": "The input schema", "responses": {"200": {"description": "schema"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text"}}}},
        },
        "components": {"schemas": {"Row": row, "Error": error}},
    }
