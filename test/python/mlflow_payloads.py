"""Prints, as one JSON list, /invocations bodies serialised by MLflow's own code (the pinned
mlflow in .tools/): what MLflow's scoring clients send for a pandas DataFrame, in the `split`
and `records` orientations, with string dates and with datetime64 dates, plus `instances` and
`inputs`. Usage: python mlflow_payloads.py DATE1 TEMP1 DATE2 TEMP2 ..."""
import json
import warnings
import sys

import pandas as pd
from mlflow.models import convert_input_example_to_serving_input
from mlflow.utils.proto_json_utils import dump_input_data

warnings.simplefilter("ignore")
args = sys.argv[1:]
dates = args[0::2]
temps = [float(t) for t in args[1::2]]
df = pd.DataFrame({"date": dates, "temperature": temps})
df_dt = pd.DataFrame({"date": pd.to_datetime(dates), "temperature": temps})

payloads = {
    # ScoringServerClient.invoke / `mlflow models predict` serialisation of a DataFrame
    "dump_input_data split": dump_input_data(df),
    "dump_input_data split, datetime64 dates": dump_input_data(df_dt),
    # the serving input MLflow logs with a model's input example
    "serving input example": convert_input_example_to_serving_input(df),
    "serving input example, datetime64 dates": convert_input_example_to_serving_input(df_dt),
    # pandas' own orientations, as users post them
    "pandas records": json.dumps({"dataframe_records": json.loads(df.to_json(orient="records"))}),
    "pandas split, epoch ms dates": json.dumps(
        {"dataframe_split": json.loads(df_dt.to_json(orient="split", date_format="epoch"))}
    ),
    "pandas records, iso dates": json.dumps(
        {"dataframe_records": json.loads(df_dt.to_json(orient="records", date_format="iso"))}
    ),
    "instances": dump_input_data(df.to_dict(orient="records"), inputs_key="instances"),
    "inputs, columns": json.dumps({"inputs": {"date": dates, "temperature": temps}}),
}
print(json.dumps([{"name": k, "body": v} for k, v in payloads.items()]))
