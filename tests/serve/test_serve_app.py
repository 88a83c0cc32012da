"""The prediction server in-process (Starlette app through httpx's ASGI transport)."""

from __future__ import annotations

import asyncio
import json
import time
import warnings

import httpx
import numpy as np
import pandas as pd
import pytest

import modelworks.package as mp
from modelworks.data import make_pipeline
from modelworks.exceptions import ConfigError
from modelworks.models import get_model
from modelworks.serve import create_app


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 150
    X = pd.DataFrame({"age": rng.normal(40, 10, n), "plan": rng.choice(["a", "b", "c"], n),
                      "visits": rng.poisson(3, n).astype(float)})
    y = np.where(X["age"] + 5 * (X["plan"] == "b") + rng.normal(0, 3, n) > 42, "yes", "no")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_pipeline(X, get_model("logreg", "binary")).fit(X, y)
    path = mp.save(model, tmp_path_factory.mktemp("srv") / "pkg", X_sample=X, y_sample=y, task="binary",
                   target="churn")
    return mp.load(path), X


def call(app, method, url, **kwargs):
    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, url, **kwargs)
    return asyncio.run(go())


def test_predict_records_and_columns_match_in_process_predict(package):
    pkg, X = package
    app = create_app(pkg)
    rows = X.head(5).to_dict(orient="records")
    r = call(app, "POST", "/predict", json={"records": rows})
    assert r.status_code == 200
    body = r.json()
    assert body["predictions"] == list(pkg.predict(X.head(5)))
    assert body["classes"] == ["no", "yes"] and body["rows"] == 5
    np.testing.assert_allclose(body["probabilities"], pkg.predict_proba(X.head(5)), atol=1e-6)
    cols = call(app, "POST", "/predict", json={"columns": X.head(5).to_dict(orient="list")}).json()
    assert cols["predictions"] == body["predictions"]
    one = call(app, "POST", "/predict", json={"records": rows[0]}).json()
    assert one["predictions"] == body["predictions"][:1]
    bare = call(app, "POST", "/predict", json=rows[:2]).json()
    assert bare["predictions"] == body["predictions"][:2]


def test_predicting_1000_rows_equals_predict_on_the_frame(package):
    pkg, X = package
    big = pd.concat([X] * 7, ignore_index=True).head(1000)
    r = call(create_app(pkg), "POST", "/predict", json={"records": big.to_dict(orient="records")})
    assert r.status_code == 200 and r.json()["predictions"] == list(pkg.predict(big))


@pytest.mark.parametrize("body, status, message, fields", [
    ({"records": [{"age": 30, "visits": 1}]}, 422, "missing column: plan", ["plan"]),
    ({"records": [{"age": 30, "plan": "a", "visits": 1, "zip": "x"}]}, 422, "unexpected column: zip", ["zip"]),
    ({"records": [{"age": "old", "plan": "a", "visits": 1}]}, 422, "column 'age' expects numbers", ["age"]),
    ({"records": [{"age": True, "plan": "a", "visits": 1}]}, 422, "column 'age' expects numbers", ["age"]),
    ({"records": [{"age": [1], "plan": "a", "visits": 1}]}, 422, "column 'age': expected a number", ["age"]),
    ({"records": [{"age": 1, "plan": "a", "visits": 1}, {"age": 1, "plan": "a"}]}, 422,
     "row 1 does not have the same columns", ["visits"]),
    ({"records": []}, 422, "no rows to predict", []),
    ({"rows": []}, 422, "the body must be", []),
    ({"columns": {"age": [1, 2], "plan": ["a"], "visits": [1, 2]}}, 422, "different lengths", []),
    (5, 422, "the body must be", []),
])
def test_bad_bodies_get_422_naming_the_field(package, body, status, message, fields):
    r = call(create_app(package[0]), "POST", "/predict", json=body)
    assert r.status_code == status
    assert message in r.json()["error"] and r.json()["fields"] == fields


@pytest.mark.parametrize("content, headers, status, message", [
    (b"{not json", {}, 400, "not valid JSON"),
    (b"", {}, 400, "empty body"),
    (b'{"records": [{"age": NaN, "plan": "a", "visits": 1}]}', {}, 400, "NaN is not valid JSON"),
    (b'{"records": [{"age": 1e999, "plan": "a", "visits": 1}]}', {}, 422, "not a finite number"),
    (b'{"records": [{"age": 1' + b"0" * 400 + b', "plan": "a", "visits": 1}]}', {}, 422, "too large"),
    (b"[" * 100_000 + b"]" * 100_000, {}, 400, "nested too deeply"),
    (b"\xff\xfe", {}, 400, "not valid JSON"),
    (b"a,b\n1,2", {"content-type": "text/csv"}, 415, "send JSON"),
])
def test_unreadable_bodies_get_4xx_with_a_message(package, content, headers, status, message):
    r = call(create_app(package[0]), "POST", "/predict", content=content, headers=headers)
    assert r.status_code == status, r.text
    assert message in r.json()["error"] and "Traceback" not in r.text


@pytest.mark.parametrize("numeric_only", [False, True])
def test_rows_with_keys_in_any_order_are_matched_by_name(package, numeric_only, tmp_path):
    pkg, X = package
    if numeric_only:  # every cell a float: the request takes the array fast path
        X = X[["age", "visits"]]
        y = np.where(X["age"] > 40, "yes", "no")
        pkg = mp.load(mp.save(make_pipeline(X, get_model("logreg", "binary")).fit(X, y), tmp_path / "num",
                              X_sample=X, y_sample=y, task="binary"))
    app = create_app(pkg)
    rows = X.head(4).to_dict(orient="records")
    shuffled = [dict(reversed(list(r.items()))) if i % 2 else r for i, r in enumerate(rows)]
    expected = pkg.predict_proba(X.head(4))
    for body in (rows, shuffled):
        answer = call(app, "POST", "/predict", json={"records": body}).json()
        assert answer["predictions"] == list(pkg.predict(X.head(4)))
        # full float64 values, not rounded: equal up to the last bit BLAS may vary with memory alignment
        np.testing.assert_allclose(answer["probabilities"], expected, rtol=0, atol=1e-15)


def test_curl_default_content_type_is_read_as_json(package):
    """`curl -d '[...]'` sends application/x-www-form-urlencoded; the body is still strict JSON."""
    pkg, X = package
    app = create_app(pkg)
    form = {"content-type": "application/x-www-form-urlencoded"}
    body = json.dumps(X.head(2).to_dict(orient="records")).encode()
    r = call(app, "POST", "/predict", content=body, headers=form)
    assert r.status_code == 200 and r.json()["rows"] == 2
    assert call(app, "POST", "/predict", content=b"age=3&plan=a", headers=form).status_code == 400


def test_extra_columns_can_be_ignored_by_option_or_query(package):
    pkg, X = package
    rows = X.head(2).assign(zip="x").to_dict(orient="records")
    assert call(create_app(pkg, ignore_extra=True), "POST", "/predict", json={"records": rows}).status_code == 200
    assert call(create_app(pkg), "POST", "/predict?ignore_extra=true", json={"records": rows}).status_code == 200


def test_body_over_the_limit_gets_413(package):
    pkg, X = package
    app = create_app(pkg, max_body_bytes=1000)
    rows = pd.concat([X] * 3).to_dict(orient="records")
    r = call(app, "POST", "/predict", json={"records": rows})
    assert r.status_code == 413 and "over the limit of 1,000" in r.json()["error"]

    async def chunked():  # no Content-Length: the streamed size is counted
        yield b'{"records": ['
        for _ in range(100):
            yield b'{"age": 1, "plan": "a", "visits": 1},'
        yield b"]}"
    r = call(app, "POST", "/predict", content=chunked())
    assert r.status_code == 413
    r = call(create_app(pkg, max_rows=3), "POST", "/predict", json={"records": rows[:4]})
    assert r.status_code == 413 and "4 rows is over the limit of 3" in r.json()["error"]


class _Slow:
    """Wraps a model so each prediction takes a while (to fill the server)."""

    def __init__(self, model, seconds):
        self.model, self.seconds, self.classes_ = model, seconds, model.classes_

    def predict(self, X):
        time.sleep(self.seconds)
        return self.model.predict(X)

    def predict_proba(self, X):
        time.sleep(self.seconds)
        return self.model.predict_proba(X)


def test_at_capacity_the_server_answers_503_with_retry_after(package):
    from dataclasses import replace

    pkg, X = package
    slow = replace(pkg, model=_Slow(pkg.model, 0.5))
    app = create_app(slow, max_in_flight=2)
    rows = {"records": X.head(1).to_dict(orient="records")}

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as client:
            return await asyncio.gather(*[client.post("/predict", json=rows) for _ in range(6)])
    responses = asyncio.run(go())
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 200, 503, 503, 503, 503]
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.headers["retry-after"] == "1" and "at capacity" in busy.json()["error"]
    metrics = call(app, "GET", "/metrics?format=json").json()
    assert metrics["rejected"]["capacity"] == 4 and metrics["in_flight"] == 0


def test_a_model_crash_is_a_500_without_a_traceback(package, capsys):
    from dataclasses import replace

    class Broken:
        classes_ = np.array(["no", "yes"])

        def predict_proba(self, X):
            raise RuntimeError("secret internal detail")

        predict = predict_proba

    pkg, X = package
    r = call(create_app(replace(pkg, model=Broken())), "POST", "/predict",
             json={"records": X.head(1).to_dict(orient="records")})
    assert r.status_code == 500
    assert "request id" in r.json()["error"]
    assert "secret" not in r.text and "Traceback" not in r.text


def test_health_schema_metrics_and_openapi(package):
    pkg, X = package
    app = create_app(pkg, model_ref="models:/churn@champion")
    health = call(app, "GET", "/health").json()
    assert health["status"] == "ok" and health["model"]["ref"] == "models:/churn@champion"
    schema = call(app, "GET", "/schema").json()
    assert schema["features"] == ["age", "plan", "visits"] and schema["classes"] == ["no", "yes"]
    assert [c["kind"] for c in schema["schema"]["columns"]] == ["numeric", "categorical", "numeric"]
    call(app, "POST", "/predict", json={"records": X.head(3).to_dict(orient="records")})
    call(app, "POST", "/predict", json={"records": []})
    text = call(app, "GET", "/metrics").text
    assert 'modelworks_requests_total{path="/predict",status="200"} 1' in text
    assert 'modelworks_requests_total{path="/predict",status="422"} 1' in text
    assert "modelworks_rows_predicted_total 3" in text and "modelworks_predict_seconds_count 2" in text
    doc = call(app, "GET", "/openapi.json").json()
    assert doc["openapi"].startswith("3.") and "/predict" in doc["paths"]
    row = doc["components"]["schemas"]["Row"]
    assert row["required"] == ["age", "plan", "visits"] and row["properties"]["age"]["type"] == "number"
    assert row["additionalProperties"] is False
    missing = call(app, "GET", "/nope")
    assert missing.status_code == 404 and "POST /predict" in missing.json()["error"]
    assert call(app, "GET", "/predict").status_code == 405


def test_request_rows_are_logged_when_asked(package, tmp_path):
    pkg, X = package
    log = tmp_path / "requests.jsonl"
    app = create_app(pkg, log_requests=log)
    call(app, "POST", "/predict", json={"records": X.head(3).to_dict(orient="records")})
    call(app, "POST", "/predict", json={"records": [{"age": 1}]})  # refused rows are not logged
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == 3 and set(lines[0]) == {"age", "plan", "visits", "_prediction", "_ts"}
    logged = pd.DataFrame(lines)[["age", "plan", "visits"]]
    pd.testing.assert_frame_equal(logged, X.head(3).reset_index(drop=True), check_dtype=False)


def test_create_app_refuses_bad_options(package):
    with pytest.raises(ConfigError, match="max_in_flight must be a whole number >= 1"):
        create_app(package[0], max_in_flight=0)


def test_openapi_document_and_server_agree_on_empty_batches(package):
    """The document says at least one row (and at most --max-rows); the server refuses exactly that."""
    pkg, X = package
    app = create_app(pkg, max_rows=50)
    doc = call(app, "GET", "/openapi.json").json()
    shapes = doc["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    records, columns, bare = shapes
    batch = records["properties"]["records"]["oneOf"][1]
    for rows in (batch, bare):
        assert rows["type"] == "array" and rows["minItems"] == 1 and rows["maxItems"] == 50
    cols = columns["properties"]["columns"]
    assert cols["minProperties"] == 1 and cols["additionalProperties"]["minItems"] == 1
    for body in ([], {"records": []}, {"columns": {}}, {"columns": {"age": [], "plan": [], "visits": []}}):
        r = call(app, "POST", "/predict", json=body)
        assert r.status_code == 422 and "no rows to predict" in r.json()["error"], (body, r.text)
    one = X.head(1).to_dict(orient="records")
    assert call(app, "POST", "/predict", json=one).status_code == 200  # minItems 1 is allowed
    r = call(app, "POST", "/predict", json=one * 51)
    assert r.status_code == 413  # maxItems is the row limit


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity", "1e999", "nan", "NaN", " inf "])
@pytest.mark.parametrize("numeric_only", [False, True])
def test_non_finite_numbers_are_refused_by_one_rule(package, value, numeric_only, tmp_path):
    """Text or JSON, infinite or not-a-number: a numeric cell must be a finite number (or null)."""
    pkg, X = package
    if numeric_only:
        X = X[["age", "visits"]]
        y = np.where(X["age"] > 40, "yes", "no")
        pkg = mp.load(mp.save(make_pipeline(X, get_model("logreg", "binary")).fit(X, y), tmp_path / "num",
                              X_sample=X, y_sample=y, task="binary"))
    app = create_app(pkg)
    rows = X.head(3).to_dict(orient="records")
    rows[2]["age"] = value
    r = call(app, "POST", "/predict", json={"records": rows})
    assert r.status_code == 422, r.text
    assert "column 'age'" in r.json()["error"] and "row 2" in r.json()["error"] and r.json()["fields"] == ["age"]
    nan = "nan" in value.lower()
    raw = json.dumps({"records": rows}).replace(json.dumps(value), "NaN" if nan else "1e999")
    r = call(app, "POST", "/predict", content=raw.encode())  # the same values as JSON numbers
    if nan:  # not JSON at all
        assert r.status_code == 400 and "NaN is not valid JSON; send null" in r.json()["error"], r.text
    else:
        assert r.status_code == 422 and "row 2, column 'age': inf is not a finite number" in r.json()["error"]
    rows[2]["age"] = None  # null is the missing value, and it is scored
    assert call(app, "POST", "/predict", json={"records": rows}).status_code == 200


@pytest.fixture(scope="module")
def numeric_package(tmp_path_factory):
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"size": rng.normal(10, 2, 120), "rate": rng.normal(size=120), "count": rng.poisson(4, 120)})
    y = np.where(X["size"] + X["rate"] > 10, "big", "small")
    path = mp.save(make_pipeline(X, get_model("logreg", "binary")).fit(X, y), tmp_path_factory.mktemp("n") / "p",
                   X_sample=X, y_sample=y, task="binary")
    return mp.load(path), X


@pytest.mark.parametrize("shape", ["records", "bare", "one", "columns"])
def test_numbers_only_proves_what_it_says(numeric_package, shape):
    """The byte-count proof says yes only when no value is text or a boolean; the server agrees either way."""
    from modelworks.serve._requests import _parse_body, numbers_only, parse_rows

    pkg, X = numeric_package
    rows = X.head(3).to_dict(orient="records")
    rows[1]["count"] = None

    def body_of(rs):
        return {"records": rs, "bare": rs, "one": {"records": rs[0]},
                "columns": {"columns": {c: [r[c] for r in rs] for c in rs[0]}}}[shape]

    app = create_app(pkg)
    expected = call(app, "POST", "/predict", json=body_of(rows)).json()
    assert expected["predictions"] == list(pkg.predict(pd.DataFrame(rows[:1] if shape == "one" else rows)))
    raw = json.dumps(body_of(rows)).encode()
    assert numbers_only(raw, _parse_body(raw))
    for cell, status in ((True, 422), ("1.5", 200), ("x", 422), ([1], 422), ({"a": 1}, 422)):
        bad = [dict(r) for r in rows]
        bad[0]["rate"] = cell
        raw = json.dumps(body_of(bad)).encode()
        if isinstance(cell, bool | str):  # nested values pass the count, and the float array refuses them
            assert not numbers_only(raw, _parse_body(raw)), cell
        r = call(app, "POST", "/predict", content=raw)
        assert r.status_code == status, (cell, r.text)
        if status == 200:  # a number written as text is read as that number, as everywhere
            same = [dict(r) for r in rows]
            same[0]["rate"] = 1.5
            np.testing.assert_allclose(r.json()["probabilities"], call(app, "POST", "/predict", json=body_of(same))
                                       .json()["probabilities"], rtol=0, atol=1e-15)
        else:
            assert "'rate'" in r.json()["error"]
    # escapes make the counts unreliable: the cells are looked at instead
    escaped = json.dumps(body_of(rows)).replace('"size"', '"\\u0073ize"').encode()
    assert not numbers_only(escaped, _parse_body(escaped))
    assert call(app, "POST", "/predict", content=escaped).json()["predictions"] == expected["predictions"]
    assert parse_rows(_parse_body(escaped), 10)[0].keys() == rows[0].keys()


def test_a_key_that_hides_a_boolean_is_still_refused(numeric_package):
    """A key spelled so its letters balance a `true` elsewhere: the counts disagree or the cells are read."""
    from modelworks.serve._requests import _parse_body, numbers_only

    pkg, X = numeric_package
    rows = X.head(2).to_dict(orient="records")
    rows[0]["rate"] = True
    for r in rows:
        r["count"] = r.pop("count")
    raw = json.dumps(rows).encode()
    assert not numbers_only(raw, _parse_body(raw))
    r = call(create_app(pkg), "POST", "/predict", content=raw)
    assert r.status_code == 422 and "column 'rate' expects numbers" in r.json()["error"]
