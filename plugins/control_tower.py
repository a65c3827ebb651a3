"""The Control Tower page in Airflow's UI: one row per business date of retail_daily (run, input,
files, rejects, checks, alerts, revenue), GOLD freshness, the churn model, and which dates need a
backfill. Airflow 3 plugin interfaces: a FastAPI app mounted by the API server at
``/control-tower`` and an external view that puts it in the UI's navigation (shown in an iframe).

Read only, behind Airflow's own login: every route needs the caller's Airflow token (the UI's
cookie, or a Bearer token) and read access to retail_daily's runs. The warehouse is read through
``RETAIL_CONTROL_TOWER_CONN_ID`` as the control tower role (docs/production.md). The logic lives in
``include/control_tower``; this file only wires it to Airflow.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/control-tower"


class _AppOnFirstUse:
    """``fastapi_apps``, built when the API server asks for it. Every Airflow process loads the
    plugins folder (a task process, for the audit listener); importing the app there (FastAPI,
    Airflow's API security module) cost about 0.7 s per process, measured with -X importtime."""

    def __get__(self, obj: Any, owner: Any) -> list[dict[str, Any]]:
        from include.control_tower.app import app

        return [{"app": app, "url_prefix": URL_PREFIX, "name": "Retail Control Tower"}]


class ControlTowerPlugin(AirflowPlugin):
    name = "retail_control_tower"
    fastapi_apps = _AppOnFirstUse()
    external_views = [
        {
            "name": "Control Tower",
            "href": URL_PREFIX.lstrip("/") + "/",  # relative: works behind a path prefix
            "destination": "nav",
            "url_route": "control-tower",
            "nav_top_level": True,
        }
    ]
