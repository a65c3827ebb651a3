"""Partner feed simulator: deterministic daily retail CSV feeds with fault injection.

Usable without Airflow; see ``python -m include.simulator --help``.
"""
