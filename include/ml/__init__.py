"""Churn model: features from GOLD's definitions, time-based CV, calibration, champion/challenger, scoring.

Plain functions without Airflow imports: the daily DAG calls them as task callables, the
Databricks job runs ``python -m include.ml.score``, and tests and the evaluation script call them
directly. Definitions (label, cut-offs, promotion rule) are in docs/ml.md.
"""
