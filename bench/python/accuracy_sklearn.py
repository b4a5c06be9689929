"""scikit-learn peer of bench/accuracy.ts: the best of ridge / random forest / hist gradient boosting
with lag + season features, scored exactly like ours (TimeSeriesSplit(5) expanding folds over all rows,
one-step-ahead predictions from actual lags, MAE pooled over every test row; the best candidate of a
small grid per family; the chosen model = the family with the lowest MAE).

Runs in .bench/venv (numpy + scikit-learn pinned in bench/python/requirements-speed.txt):
  .bench/venv/bin/python bench/python/accuracy_sklearn.py --data FILE --date-col C --target-col C --temp-col C \
      [--temp-scale K] [--covariates a,b] --frequency monthly|daily
Prints one JSON line.
"""
import argparse
import csv
import datetime as dt
import itertools
import json
import time

import numpy as np
import sklearn
import sklearn.base
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True)
ap.add_argument("--date-col", required=True)
ap.add_argument("--target-col", required=True)
ap.add_argument("--temp-col", required=True)
ap.add_argument("--temp-scale", type=float, default=1.0)
ap.add_argument("--covariates", default="")
ap.add_argument("--frequency", choices=["monthly", "daily"], required=True)
ap.add_argument("--folds", type=int, default=5)
ap.add_argument("--holdout", type=int, default=0, help="rows at the end kept out of the selection; the chosen model is refit on the rest and scored on them")
args = ap.parse_args()

with open(args.data, newline="") as fh:
    rows = list(csv.DictReader(fh))
rows.sort(key=lambda r: r[args.date_col])
dates = [dt.date.fromisoformat(r[args.date_col][:10]) for r in rows]
y = np.array([float(r[args.target_col]) for r in rows])
temp = np.array([float(r[args.temp_col]) for r in rows]) * args.temp_scale
covs = [c for c in args.covariates.split(",") if c]
cov = np.array([[float(r[c]) for c in covs] for r in rows]).reshape(len(rows), len(covs))
n = len(y)

season = 12 if args.frequency == "monthly" else 7
lags = [1, 2, season, season + 1] if args.frequency == "monthly" else [1, 2, 7, 14]


def lag(a, k):
    out = np.full(n, np.nan)
    out[k:] = a[:-k]
    return out


cols = [lag(y, k) for k in lags] + [temp, temp**2, lag(temp, 1), lag(temp, season)]
month = np.array([d.month for d in dates])
cols += [(month == m).astype(float) for m in range(2, 13)]
if args.frequency == "daily":
    wd = np.array([d.weekday() for d in dates])
    cols += [(wd == k).astype(float) for k in range(1, 7)]
doy = np.array([d.timetuple().tm_yday for d in dates]) / 365.25 if args.frequency == "daily" else (month - 1) / 12
cols += [np.sin(2 * np.pi * doy), np.cos(2 * np.pi * doy)]
cols += [np.arange(n, dtype=float)]  # trend
X = np.column_stack(cols + [cov[:, j] for j in range(cov.shape[1])])

grids = {
    "ridge": [make_pipeline(StandardScaler(), Ridge(alpha=a)) for a in [0.01, 0.1, 1, 3, 10, 30, 100, 300]],
    "random_forest": [
        RandomForestRegressor(n_estimators=100, max_depth=d, min_samples_leaf=l, max_features=f, random_state=0, n_jobs=1)
        for d, l, f in itertools.product([6, None], [1, 4], [0.5, 1.0])
    ],
    "hist_gradient_boosting": [
        HistGradientBoostingRegressor(max_iter=it, learning_rate=lr, max_leaf_nodes=ln, min_samples_leaf=msl, random_state=0)
        for it, lr, ln, msl in itertools.product([200], [0.03, 0.1], [7, 15], [5, 20])
    ],
}

dev = n - args.holdout
splits = list(TimeSeriesSplit(n_splits=args.folds).split(X[:dev]))
t0 = time.time()
results = {}
best_estimators = {}
for family, candidates in grids.items():
    best = None
    for est in candidates:
        errs = []
        for tr, te in splits:
            ok = ~np.isnan(X[tr]).any(axis=1)
            est.fit(X[tr][ok], y[tr][ok])
            pred = np.maximum(est.predict(X[te]), 0)
            errs.append(np.abs(y[te] - pred))
        mae = float(np.concatenate(errs).mean())
        if best is None or mae < best[0]:
            best = (mae, sklearn.base.clone(est))
    params = best[1].get_params()
    shown = {k: v for k, v in params.items() if k in ("ridge__alpha", "max_depth", "min_samples_leaf", "max_features", "n_estimators", "max_iter", "learning_rate", "max_leaf_nodes")}
    results[family] = {"mae": best[0], "params": shown, "candidates": len(candidates)}
    best_estimators[family] = best[1]

test_rows = np.concatenate([te for _, te in splits])
seasonal = float(np.abs(y[test_rows] - y[test_rows - season]).mean())
last = float(np.abs(y[test_rows] - y[test_rows - 1]).mean())
chosen = min(results, key=lambda k: results[k]["mae"])
holdout = None
if args.holdout > 0:
    est = best_estimators[chosen]
    ok = ~np.isnan(X[:dev]).any(axis=1)
    est.fit(X[:dev][ok], y[:dev][ok])
    pred = np.maximum(est.predict(X[dev:]), 0)
    holdout = {"rows": args.holdout, "mae": float(np.abs(y[dev:] - pred).mean()),
               "seasonalNaive": float(np.abs(y[dev:] - y[dev - season:n - season]).mean()), "lastValue": float(np.abs(y[dev:] - y[dev - 1:n - 1]).mean())}
print(json.dumps({
    "sklearn": sklearn.__version__, "numpy": np.__version__, "rows": n, "folds": args.folds, "testRows": int(len(test_rows)),
    "seasonalNaive": seasonal, "lastValue": last, "families": results, "chosen": chosen, "mae": results[chosen]["mae"], "holdout": holdout,
    "seconds": time.time() - t0,
}))
