"""SILVER, MODEL and GOLD builds and their data-quality gates (no Airflow imports)."""
