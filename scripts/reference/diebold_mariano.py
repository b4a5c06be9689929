"""Reference values for src/ml/significance.ts, computed independently with numpy and scipy.

Run with the project's tools virtualenv (it has numpy and scipy as MLflow dependencies):
    .tools/venv/bin/python scripts/reference/diebold_mariano.py > test/fixtures/ml/diebold-mariano.json
Diebold & Mariano (1995), HLN correction (Harvey, Leybourne & Newbold 1997), t with n-1 df.
"""
import json

import numpy as np
from scipy import stats


def dm(e1, e2, h=1, loss="absolute"):
    e1, e2 = np.asarray(e1, float), np.asarray(e2, float)
    d = np.abs(e1) - np.abs(e2) if loss == "absolute" else e1**2 - e2**2
    n = len(d)
    mean = d.mean()
    gamma = [np.sum((d[k:] - mean) * (d[: n - k] - mean)) / n for k in range(h)]
    var = gamma[0] + 2 * sum(gamma[1:])
    stat = mean / np.sqrt(var / n)
    stat *= np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    return {"statistic": float(stat), "pValue": float(stats.t.cdf(stat, df=n - 1))}


rng = np.random.default_rng(20261127)
cases = []
for n, h, loss, shift in [(24, 1, "absolute", 0.0), (24, 1, "absolute", -3.0), (36, 2, "squared", -1.0), (12, 1, "absolute", -6.0), (30, 3, "absolute", 1.0)]:
    b = rng.normal(0, 10, n)
    a = b * 0.8 + rng.normal(shift, 4, n)
    cases.append({"errorsA": a.round(6).tolist(), "errorsB": b.round(6).tolist(), "horizon": h, "loss": loss, **dm(a.round(6), b.round(6), h, loss)})
print(json.dumps({"source": "scripts/reference/diebold_mariano.py (numpy %s, scipy %s)" % (np.__version__, stats.__name__ and __import__("scipy").__version__), "cases": cases}, indent=1))
