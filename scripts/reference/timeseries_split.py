"""Reference folds for src/ml/cv.test.ts: scikit-learn TimeSeriesSplit boundaries.

Run: /tmp/refvenv/bin/python scripts/reference/timeseries_split.py > test/fixtures/ml/timeseries-split.json
"""
import json

import numpy as np
import sklearn
from sklearn.model_selection import TimeSeriesSplit

cases = []
for n, kwargs in [(231, {"n_splits": 5}), (731, {"n_splits": 5}), (100, {"n_splits": 3, "test_size": 10, "gap": 2}), (50, {"n_splits": 4, "gap": 1})]:
    folds = []
    for train, test in TimeSeriesSplit(**kwargs).split(np.zeros(n)):
        folds.append({"trainEnd": int(train[-1]) + 1, "testStart": int(test[0]), "testEnd": int(test[-1]) + 1})
    cases.append({"n": n, "folds": kwargs["n_splits"], "horizon": kwargs.get("test_size"), "gap": kwargs.get("gap", 0), "expected": folds})
print(json.dumps({"generator": f"scripts/reference/timeseries_split.py (scikit-learn {sklearn.__version__})", "cases": cases}, indent=1))
