"""Records scikit-learn reference values for the tree-model tests into test/fixtures/trees/.

Run from the repository root with the pinned versions of bench/python/requirements-speed.txt:

    python3 -m venv /tmp/venv-trees
    /tmp/venv-trees/bin/pip install -r bench/python/requirements-speed.txt
    /tmp/venv-trees/bin/python scripts/reference/trees/make_fixtures.py

Inputs are rounded to 6 decimals so that Python and JavaScript parse the very same doubles.
"""

import json
import pathlib

import numpy as np
import sklearn
from sklearn.datasets import make_friedman1
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.tree import DecisionTreeRegressor

OUT = pathlib.Path("test/fixtures/trees")


def dump(name, payload):
    payload = {"generator": "scripts/reference/trees/make_fixtures.py", "sklearn": sklearn.__version__, "numpy": np.__version__, **payload}
    (OUT / name).write_text(json.dumps(payload, indent=None, separators=(",", ":")) + "\n")


def decision_tree_fixture():
    rng = np.random.default_rng(42)
    X = np.round(rng.uniform(0, 10, size=(60, 3)), 6)
    y = np.round(np.sin(X[:, 0]) * 3 + 0.5 * X[:, 1] + rng.normal(0, 0.3, 60), 6)
    X_test = np.round(rng.uniform(0, 10, size=(40, 3)), 6)
    cases = []
    for params in ({}, {"max_depth": 1}, {"max_depth": 3}, {"min_samples_leaf": 5}, {"min_samples_split": 10, "max_depth": 4}):
        m = DecisionTreeRegressor(random_state=0, **params).fit(X, y)
        cases.append({
            "params": params,
            # A fully grown tree has many nodes of 2-3 rows where several features give the very
            # same split; scikit-learn breaks such ties by its random feature order, so only the
            # training predictions (and the node count) are comparable there.
            "tieFree": bool(params),
            "trainPredictions": m.predict(X).tolist(),
            "predictions": m.predict(X_test).tolist(),
            "featureImportances": m.feature_importances_.tolist(),
            "nodeCount": int(m.tree_.node_count),
        })
    dump("decision-tree.json", {"X": X.tolist(), "y": y.tolist(), "XTest": X_test.tolist(), "cases": cases})


def ensemble_fixture():
    X, y = make_friedman1(n_samples=2500, n_features=10, noise=1.0, random_state=7)
    X = np.round(X, 6)
    y = np.round(y, 6)
    Xtr, ytr, Xte, yte = X[:2000], y[:2000], X[2000:], y[2000:]
    mae = lambda m: float(np.mean(np.abs(m.fit(Xtr, ytr).predict(Xte) - yte)))
    dump("friedman1.json", {
        "X": Xtr.tolist(), "y": ytr.tolist(), "XTest": Xte.tolist(), "yTest": yte.tolist(),
        "mae": {
            "DecisionTreeRegressor(random_state=0)": mae(DecisionTreeRegressor(random_state=0)),
            "RandomForestRegressor(random_state=0)": mae(RandomForestRegressor(random_state=0)),
            "HistGradientBoostingRegressor(random_state=0)": mae(HistGradientBoostingRegressor(random_state=0)),
            "HistGradientBoostingRegressor(early_stopping=False,random_state=0)": mae(HistGradientBoostingRegressor(early_stopping=False, random_state=0)),
        },
    })


def hgb_fixture():
    # 200 rows: every column has fewer than 255 distinct values, so binning is exact and the
    # boosted trees can be compared prediction by prediction (up to scikit-learn's float32 sums).
    X, y = make_friedman1(n_samples=300, n_features=5, noise=0.5, random_state=11)
    X = np.round(X, 6)
    y = np.round(y, 6)
    Xtr, ytr, Xte = X[:200], y[:200], X[200:]
    cases = []
    for params in (
        {"max_iter": 30, "min_samples_leaf": 5, "max_leaf_nodes": 8},
        {"max_iter": 20, "learning_rate": 0.3, "min_samples_leaf": 10, "max_depth": 2, "l2_regularization": 1.0},
    ):
        m = HistGradientBoostingRegressor(early_stopping=False, random_state=0, **params).fit(Xtr, ytr)
        cases.append({"params": params, "predictions": m.predict(Xte).tolist()})
    dump("hgb-small.json", {"X": Xtr.tolist(), "y": ytr.tolist(), "XTest": Xte.tolist(), "cases": cases})


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    decision_tree_fixture()
    ensemble_fixture()
    hgb_fixture()
