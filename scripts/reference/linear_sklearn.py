"""Reference values for src/ml/linear.test.ts.

Fits scikit-learn Pipeline(StandardScaler, Ridge/Lasso/ElasticNet) on a fixed random problem and
records intercepts and coefficients on the ORIGINAL feature scale plus test predictions.
Run: python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install scikit-learn==1.5.2 numpy==2.1.3
     /tmp/refvenv/bin/python scripts/reference/linear_sklearn.py > test/fixtures/ml/linear-sklearn.json
"""
import json

import numpy as np
import sklearn
from sklearn.linear_model import ElasticNet, Lasso, Ridge
from sklearn.preprocessing import StandardScaler

rng = np.random.default_rng(42)
n, p = 40, 5
X = rng.normal(size=(n, p)) * np.array([1.0, 10.0, 0.1, 3.0, 1.0]) + np.array([0.0, 50.0, 1.0, -5.0, 2.0])
X[:, 4] = X[:, 0] * 0.8 + rng.normal(size=n) * 0.3  # correlated column
y = 3.0 + 2.0 * X[:, 0] - 0.3 * X[:, 1] + 15.0 * X[:, 2] + rng.normal(size=n)
Xtest = rng.normal(size=(6, p)) * np.array([1.0, 10.0, 0.1, 3.0, 1.0]) + np.array([0.0, 50.0, 1.0, -5.0, 2.0])

scaler = StandardScaler().fit(X)  # population std (ddof=0)
Z = scaler.transform(X)
cases = []
for family, params, est in [
    ("ridge", {"alpha": 0.5}, Ridge(alpha=0.5)),
    ("ridge", {"alpha": 10.0}, Ridge(alpha=10.0)),
    ("lasso", {"alpha": 0.1}, Lasso(alpha=0.1, tol=1e-12, max_iter=1_000_000)),
    ("lasso", {"alpha": 0.8}, Lasso(alpha=0.8, tol=1e-12, max_iter=1_000_000)),
    ("elasticnet", {"alpha": 0.2, "l1Ratio": 0.3}, ElasticNet(alpha=0.2, l1_ratio=0.3, tol=1e-12, max_iter=1_000_000)),
]:
    est.fit(Z, y)
    coef = est.coef_ / scaler.scale_
    intercept = float(est.intercept_ - np.dot(coef, scaler.mean_))
    pred = est.predict(scaler.transform(Xtest))
    cases.append({"family": family, "params": params, "intercept": intercept, "coef": coef.tolist(), "predictions": pred.tolist()})

print(json.dumps({"generator": f"scripts/reference/linear_sklearn.py (scikit-learn {sklearn.__version__}, numpy {np.__version__})",
                  "X": X.tolist(), "y": y.tolist(), "Xtest": Xtest.tolist(), "cases": cases}, indent=1))
