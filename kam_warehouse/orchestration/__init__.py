"""Airflow helpers the DAG files in `dags/` wire together: assets, defaults, notifiers, the per-model dbt
task group, deadlines, the landing sensor and the task bodies.

Everything here imports only light modules at import time (airflow.sdk, yaml); duckdb, dbt, GX and the
pipeline steps are imported inside the functions that run in a task, so DAG parsing stays fast.
"""
