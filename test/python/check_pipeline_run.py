"""Checks a pipeline run with MLflow's own Python client (the pinned package in .tools/venv).

Usage: python check_pipeline_run.py TRACKING_URI EXPERIMENT_NAME RUN_ID MODEL_NAME DATA_MD5
Prints one JSON object with what it found; exits non-zero (AssertionError) when a check fails.
"""
import hashlib
import json
import os
import sys
import tempfile

import mlflow
from mlflow import MlflowClient

uri, experiment_name, run_id, model_name, data_md5 = sys.argv[1:6]
mlflow.set_tracking_uri(uri)
client = MlflowClient(uri)

# the run is found by search_runs, with its params and metrics
runs = mlflow.search_runs(experiment_names=[experiment_name], filter_string=f"attributes.run_id = '{run_id}'", output_format="list")
assert len(runs) == 1, f"search_runs found {len(runs)} runs"
run = runs[0]
assert "family" in run.data.params, run.data.params
assert run.data.metrics["holdout_mae"] > 0, run.data.metrics
assert run.data.tags["data.md5"] == data_md5

# the dataset inputs and their digest
inputs = {i.tags[0].value if i.tags else "": i.dataset for i in run.inputs.dataset_inputs}
assert set(inputs) == {"training", "holdout"}, inputs.keys()
assert all(d.digest == data_md5 for d in inputs.values())

# the artifact list
top = sorted(f.path for f in client.list_artifacts(run_id))
model_files = sorted(f.path for f in client.list_artifacts(run_id, "model"))
assert "model" in top and "evaluation" in top, top
assert model_files == ["model/MLmodel", "model/checksums.sha256", "model/feature_spec.json", "model/forecaster.json", "model/history.json", "model/reference.json"], model_files

# the production alias
mv = client.get_model_version_by_alias(model_name, "production")
assert mv.run_id == run_id, (mv.run_id, run_id)

# the bundle downloaded by MLflow matches its checksums
with tempfile.TemporaryDirectory() as tmp:
    local = mlflow.artifacts.download_artifacts(artifact_uri=mv.source, dst_path=tmp)
    with open(os.path.join(local, "checksums.sha256")) as f:
        for line in f.read().splitlines():
            digest, name = line.split("  ", 1)
            with open(os.path.join(local, name), "rb") as g:
                assert hashlib.sha256(g.read()).hexdigest() == digest, name

print(json.dumps({"run_id": run.info.run_id, "version": mv.version, "inputs": sorted(inputs), "model_files": model_files, "params": len(run.data.params), "metrics": len(run.data.metrics)}))
