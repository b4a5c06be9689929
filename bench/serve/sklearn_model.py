"""Fits scikit-learn's ElasticNet on the design matrix our engine builds for the default model
(same features, same rows) and saves it as an MLflow model for `mlflow models serve`.
Usage: python sklearn_model.py FEATURES_CSV OUT_DIR"""
import sys
import warnings

import pandas as pd
import mlflow.sklearn
from mlflow.models import infer_signature
from sklearn.linear_model import ElasticNet

warnings.simplefilter("ignore")
features_csv, out_dir = sys.argv[1], sys.argv[2]
data = pd.read_csv(features_csv)
X, y = data.drop(columns=["y"]), data["y"]
model = ElasticNet(alpha=0.003103, l1_ratio=0.7, max_iter=10000).fit(X, y)
mlflow.sklearn.save_model(model, out_dir, signature=infer_signature(X, model.predict(X)))
