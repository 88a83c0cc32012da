"""The chapter's deep feature synthesis on today's featuretools API, with cutoff times.

Uses featuretools' locally generated mock customers (no download).
Run: python examples/features_dfs.py
"""

import featuretools as ft
import pandas as pd

from modelworks.features import dfs

data = ft.demo.load_mock_customer()
spec = {
    "tables": {
        "customers": {"data": data["customers"], "index": "customer_id", "time_index": "join_date"},
        "sessions": {"data": data["sessions"], "index": "session_id", "time_index": "session_start"},
        "transactions": {"data": data["transactions"], "index": "transaction_id", "time_index": "transaction_time"},
    },
    "relationships": [
        {"parent": "customers.customer_id", "child": "sessions.customer_id"},
        {"parent": "sessions.session_id", "child": "transactions.session_id"},
    ],
}

result = dfs(spec, "customers", max_depth=2)
print(result.summary())
print(result.matrix[["COUNT(sessions)", "MEAN(transactions.amount)"]].head())

# features as of a prediction time: only transactions before each customer's cutoff are used
cutoff = pd.DataFrame({"customer_id": [1, 2, 3], "time": pd.to_datetime(["2014-01-01 01:00"] * 3)})
as_of = dfs(spec, "customers", max_depth=2, cutoff_times=cutoff, agg_primitives=["count", "sum"],
            trans_primitives=[], select=False)
print(as_of.matrix[["COUNT(transactions)", "SUM(transactions.amount)"]])
