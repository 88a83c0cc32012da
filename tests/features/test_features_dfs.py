"""Deep feature synthesis: spec validation, cutoff times (no leakage), selection, transformer, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from modelworks.cli import main
from modelworks.exceptions import FeatureError
from modelworks.features import DFSTransformer, dfs, load_spec


def shop(n_customers=6, per_customer=8, seed=0):
    """Customers and their transactions; amounts after 2024-06-01 are huge, so any leak is visible."""
    rng = np.random.default_rng(seed)
    customers = pd.DataFrame({"customer_id": np.arange(1, n_customers + 1),
                              "region": rng.choice(["north", "south"], n_customers),
                              "joined": pd.Timestamp("2024-01-01")})
    rows = []
    for c in customers["customer_id"]:
        for _ in range(per_customer):
            day = pd.Timestamp("2024-03-01") + pd.Timedelta(days=int(rng.integers(0, 200)))
            amount = 1_000_000.0 if day >= pd.Timestamp("2024-06-01") else float(rng.integers(1, 100))
            rows.append({"transaction_id": len(rows) + 1, "customer_id": c, "time": day, "amount": amount})
    transactions = pd.DataFrame(rows)
    spec = {"tables": {"customers": {"data": customers, "index": "customer_id", "time_index": "joined"},
                       "transactions": {"data": transactions, "index": "transaction_id", "time_index": "time"}},
            "relationships": [{"parent": "customers.customer_id", "child": "transactions.customer_id"}]}
    return spec, customers, transactions


def test_features_after_the_cutoff_never_leak():
    spec, customers, transactions = shop()
    cutoff = pd.DataFrame({"customer_id": customers["customer_id"], "time": pd.Timestamp("2024-06-01")})
    result = dfs(spec, "customers", cutoff_times=cutoff, agg_primitives=["sum", "max", "count"],
                 trans_primitives=[], select=False)
    before = transactions[transactions["time"] < pd.Timestamp("2024-06-01")]
    expected = before.groupby("customer_id")["amount"].sum().reindex(customers["customer_id"], fill_value=0)
    got = result.matrix["SUM(transactions.amount)"].reindex(customers["customer_id"])
    assert np.allclose(got.to_numpy(), expected.to_numpy())
    assert result.matrix["MAX(transactions.amount)"].max() < 1_000_000  # nothing from after the cutoff
    # without cutoff times the future is used: the test can tell the difference
    leaky = dfs(spec, "customers", agg_primitives=["max"], trans_primitives=[], select=False)
    assert leaky.matrix["MAX(transactions.amount)"].max() == 1_000_000


def test_selection_drops_constant_and_correlated_features():
    spec, *_ = shop()
    result = dfs(spec, "customers", agg_primitives=["sum", "mean", "count", "max"], trans_primitives=[])
    assert result.made > len(result.features)
    assert "highly correlated" in result.dropped.values() or "constant" in result.dropped.values()
    assert set(result.names) == set(result.matrix.columns)


def test_mock_customer_with_todays_featuretools_api():
    import featuretools as ft

    data = ft.demo.load_mock_customer()
    spec = {"tables": {
        "customers": {"data": data["customers"], "index": "customer_id", "time_index": "join_date"},
        "sessions": {"data": data["sessions"], "index": "session_id", "time_index": "session_start"},
        "transactions": {"data": data["transactions"], "index": "transaction_id", "time_index": "transaction_time"}},
        "relationships": [["customers.customer_id", "sessions.customer_id"],
                          ["sessions.session_id", "transactions.session_id"]]}
    result = dfs(spec, "customers", max_depth=2)
    assert len(result.matrix) == 5
    assert any("MEAN(sessions.SUM(transactions.amount))" == n for n in result.names + list(result.dropped))


@pytest.mark.parametrize("mutate, message", [
    (lambda s: s["relationships"].append({"parent": "stores.store_id", "child": "transactions.customer_id"}),
     "relationship parent table 'stores' is not in the spec"),
    (lambda s: s["relationships"].__setitem__(0, {"parent": "customers.customer_id", "child": "transactions.cust"}),
     "relationship child column 'cust' not found in table 'transactions'"),
    (lambda s: s["tables"]["customers"].__setitem__(
        "data", pd.concat([s["tables"]["customers"]["data"]] * 2)), "index 'customer_id' of table 'customers' is not unique"),
    (lambda s: s["tables"]["transactions"]["data"].loc.__setitem__((0, "customer_id"), 99),
     "key\\(s\\) of 'transactions.customer_id' have no parent in 'customers.customer_id' \\(e.g. 99\\)"),
    (lambda s: s["tables"]["transactions"].__setitem__(
        "data", s["tables"]["transactions"]["data"].astype({"time": object}).assign(
            time=lambda f: f["time"].where(f.index != 2, "not a date"))),
     "time index 'time' of table 'transactions' does not parse as dates in rows \\[2\\]"),
])
def test_bad_specs_say_what_is_wrong(mutate, message):
    spec, *_ = shop()
    mutate(spec)
    with pytest.raises(FeatureError, match=message):
        load_spec(spec)


def test_cutoff_times_for_unknown_ids():
    spec, *_ = shop()
    cutoff = pd.DataFrame({"customer_id": [1, 77], "time": pd.Timestamp("2024-06-01")})
    with pytest.raises(FeatureError, match="cutoff times for 1 id\\(s\\) not in table 'customers' \\(e.g. 77\\)"):
        dfs(spec, "customers", cutoff_times=cutoff)


def test_transformer_learns_definitions_and_recalculates_them():
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import Pipeline

    spec, customers, transactions = shop(n_customers=12)
    X = customers[["customer_id"]]
    t = DFSTransformer(spec=spec, target_table="customers", max_depth=1, agg_primitives=["sum", "count"],
                       trans_primitives=[], select=False).fit(X.iloc[:8])
    out = t.transform(X.iloc[8:])
    assert list(out.columns) == list(t.get_feature_names_out())
    expected = transactions.groupby("customer_id")["amount"].sum().loc[X["customer_id"].iloc[8:]]
    assert np.allclose(out["SUM(transactions.amount)"].to_numpy(), expected.to_numpy())
    # inside a pipeline: DFS, then modelworks' preprocessing (one-hot for 'region'), then the model
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.preprocessing import OneHotEncoder

    y = transactions.groupby("customer_id")["amount"].count().loc[X["customer_id"]].to_numpy()
    prep = ColumnTransformer([("num", "passthrough", make_column_selector(dtype_include="number")),
                              ("cat", OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number"))])
    pipe = Pipeline([("dfs", DFSTransformer(spec=spec, target_table="customers", max_depth=1, agg_primitives=["count"],
                                            trans_primitives=[], select=False)),
                     ("prep", prep), ("model", LinearRegression())])
    assert pipe.fit(X, y).score(X, y) > 0.99


def test_cli_dfs_from_a_toml_spec(tmp_path, capsys):
    spec, customers, transactions = shop()
    customers.to_csv(tmp_path / "customers.csv", index=False)
    transactions.to_csv(tmp_path / "transactions.csv", index=False)
    (tmp_path / "spec.toml").write_text(
        '[tables.customers]\npath = "customers.csv"\nindex = "customer_id"\ntime_index = "joined"\n\n'
        '[tables.transactions]\npath = "transactions.csv"\nindex = "transaction_id"\ntime_index = "time"\n\n'
        '[[relationships]]\nparent = "customers.customer_id"\nchild = "transactions.customer_id"\n')
    pd.DataFrame({"customer_id": [1, 2, 3], "time": "2024-06-01"}).to_csv(tmp_path / "cut.csv", index=False)
    out = tmp_path / "features.csv"
    code = main(["features", "dfs", str(tmp_path / "spec.toml"), "--target-table", "customers",
                 "--cutoff-times", str(tmp_path / "cut.csv"), "--agg-primitives", "sum,max",
                 "--trans-primitives", "month", "--out", str(out), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 3 and summary["made"] >= 2
    assert pd.read_csv(out)["MAX(transactions.amount)"].max() < 1_000_000
    assert main(["features", "dfs", str(tmp_path / "spec.toml"), "--target-table", "orders",
                 "--out", str(out)]) == 2
    assert "target table 'orders' is not in the spec; tables are: customers, transactions" in capsys.readouterr().err
