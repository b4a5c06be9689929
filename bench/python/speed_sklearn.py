"""scikit-learn side of bench/speed.ts: fits one model on the binary dataset written by the
TypeScript runner, single-threaded, and prints one JSON line {"times": [...], "mae": ...}.

    .bench/venv/bin/python bench/python/speed_sklearn.py --data .bench/friedman20-100000.bin \
        --rows 100000 --test 10000 --cols 20 --model rf --runs 3 --params '{"n_estimators": 100}'

The file holds float64 little-endian: X_train (rows x cols), y_train, X_test (test x cols), y_test.
"""

import os

# One thread everywhere, before numpy / scikit-learn load their thread pools.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--test", type=int, required=True)
    ap.add_argument("--cols", type=int, required=True)
    ap.add_argument("--model", choices=("rf", "hgb"), required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--params", default="{}")
    a = ap.parse_args()
    raw = np.fromfile(a.data, dtype="<f8")
    n, t, c = a.rows, a.test, a.cols
    X = raw[: n * c].reshape(n, c)
    y = raw[n * c : n * c + n]
    Xt = raw[n * c + n : n * c + n + t * c].reshape(t, c)
    yt = raw[n * c + n + t * c : n * c + n + t * c + t]
    params = json.loads(a.params)
    times, cpu, maes = [], [], []
    for run in range(a.runs):
        # Run r uses random_state r (ours uses seed r): the MAE reported is the mean over seeds.
        if a.model == "rf":
            model = RandomForestRegressor(n_jobs=1, random_state=run, **params)
        else:
            model = HistGradientBoostingRegressor(random_state=run, **params)
        t0, c0 = time.perf_counter(), time.process_time()
        model.fit(X, y)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        maes.append(float(np.mean(np.abs(model.predict(Xt) - yt))))
    mae = float(np.mean(maes))
    extra = {"n_iter": int(model.n_iter_)} if a.model == "hgb" else {}
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"times": times, "cpu": cpu, "mae": mae, "maxRssMB": rss_mb, **extra}))


if __name__ == "__main__":
    main()
