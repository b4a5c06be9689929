# MLflow tracking server for the compose stack: the pinned version plus the PostgreSQL and S3 drivers.
FROM ghcr.io/mlflow/mlflow:v3.17.2
RUN pip install --no-cache-dir psycopg2-binary==2.9.11 boto3==1.40.74
