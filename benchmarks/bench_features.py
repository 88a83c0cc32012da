"""DFS on a 5k-parent / 200k-child relational set: modelworks.features.dfs vs plain featuretools.dfs.

Same generated data (seed printed), same primitives, same depth; alternating, median of 3 repeats.
Checks the feature values are identical. Run: python benchmarks/bench_features.py [--quick]
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.simplefilter("ignore")

QUICK = "--quick" in sys.argv
N_PARENTS, N_CHILDREN, SEED, REPEATS = (500, 20_000, 0, 3) if QUICK else (5_000, 200_000, 0, 3)
AGG, TRANS = ["sum", "mean", "max", "min", "count", "std"], ["month", "weekday"]


def make_data():
    rng = np.random.default_rng(SEED)
    customers = pd.DataFrame({"customer_id": np.arange(N_PARENTS), "region": rng.choice(["n", "s", "e", "w"], N_PARENTS),
                              "joined": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, N_PARENTS), unit="D")})
    orders = pd.DataFrame({"order_id": np.arange(N_CHILDREN), "customer_id": rng.integers(0, N_PARENTS, N_CHILDREN),
                           "amount": rng.gamma(2.0, 30.0, N_CHILDREN), "items": rng.integers(1, 10, N_CHILDREN),
                           "time": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 720, N_CHILDREN), unit="D")})
    return customers, orders


def run_featuretools(customers, orders):
    import featuretools as ft

    es = ft.EntitySet("bench")
    es.add_dataframe(dataframe_name="customers", dataframe=customers.copy(), index="customer_id", time_index="joined")
    es.add_dataframe(dataframe_name="orders", dataframe=orders.copy(), index="order_id", time_index="time")
    es.add_relationship("customers", "customer_id", "orders", "customer_id")
    matrix, _ = ft.dfs(entityset=es, target_dataframe_name="customers", agg_primitives=AGG, trans_primitives=TRANS,
                       max_depth=2)
    return matrix


def run_modelworks(customers, orders):
    from modelworks.features import dfs

    spec = {"tables": {"customers": {"data": customers, "index": "customer_id", "time_index": "joined"},
                       "orders": {"data": orders, "index": "order_id", "time_index": "time"}},
            "relationships": [{"parent": "customers.customer_id", "child": "orders.customer_id"}]}
    return dfs(spec, "customers", agg_primitives=AGG, trans_primitives=TRANS, max_depth=2, select=False).matrix


def main():
    customers, orders = make_data()
    print(f"data: generated, {N_PARENTS} customers x {N_CHILDREN} orders, seed {SEED}; "
          f"primitives agg={AGG} trans={TRANS}, max_depth=2; {REPEATS} repeats, alternating")
    run_modelworks(customers.head(50), orders[orders.customer_id < 50])  # warm-up imports
    times = {"featuretools": [], "modelworks": []}
    outs = {}
    for _ in range(REPEATS):
        for name, fn in (("featuretools", run_featuretools), ("modelworks", run_modelworks)):
            t0 = time.perf_counter()
            outs[name] = fn(customers, orders)
            times[name].append(time.perf_counter() - t0)
    a, b = outs["featuretools"], outs["modelworks"]
    same_cols = list(a.columns) == list(b.columns)
    num = a.select_dtypes("number").columns
    max_diff = float(np.nanmax(np.abs(a[num].to_numpy(float) - b.loc[a.index, num].to_numpy(float)))) if same_cols else float("nan")
    med = {k: float(np.median(v)) for k, v in times.items()}
    ratio = med["modelworks"] / med["featuretools"]
    print(f"{'engine':<14}{'median s':>10}{'features':>10}")
    for k in times:
        print(f"{k:<14}{med[k]:>10.2f}{outs[k].shape[1]:>10}")
    print(f"ratio modelworks / featuretools: {ratio:.3f}   same columns: {same_cols}   max |diff|: {max_diff:.3g}")
    out = Path(__file__).parent / "results" / "features.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"parents": N_PARENTS, "children": N_CHILDREN, "seed": SEED, "median_s": med,
                               "ratio": ratio, "same_columns": same_cols, "max_abs_diff": max_diff,
                               "times": times}, indent=2))


if __name__ == "__main__":
    main()
