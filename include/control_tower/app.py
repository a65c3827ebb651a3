"""The Control Tower's FastAPI app (mounted by the API server; registered by
plugins/control_tower.py). Every route: a logged-in Airflow user who may read retail_daily's runs."""

from __future__ import annotations

from datetime import UTC, date, datetime

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse

from include.control_tower import data

app = FastAPI(
    title="Retail Control Tower",
    # every route: a logged-in Airflow user who may read the daily DAG's runs (401 / 403 otherwise)
    dependencies=[Depends(requires_access_dag("GET", DagAccessEntity.RUN, param_dag_id=data.DAG_ID))],
    docs_url=None,
    redoc_url=None,
)


def _hook():
    from include.config import CONTROL_TOWER_CONN_ID
    from include.warehouse import snowflake_hook

    return snowflake_hook("control_tower", CONTROL_TOWER_CONN_ID)


def _overview(end: date | None, days: int) -> data.Overview:
    try:
        return data.overview(_hook, end=end, days=days)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


# plain `def` routes: FastAPI runs them in its thread pool (the warehouse and database calls block)
@app.get("/", response_class=HTMLResponse)
def page(end: date | None = None, days: int = Query(data.DEFAULT_DAYS, ge=1, le=data.MAX_DAYS)) -> str:
    from include.control_tower.page import render

    return render(_overview(end, days), days=days, now=datetime.now(UTC))


@app.get("/api/overview")
def overview(end: date | None = None, days: int = Query(data.DEFAULT_DAYS, ge=1, le=data.MAX_DAYS)) -> dict:
    return _overview(end, days).as_json()


@app.get("/docs/{relative:path}", response_class=HTMLResponse)
def doc(relative: str) -> str:
    from include.control_tower.page import render_doc

    html = render_doc(relative)
    if html is None:
        raise HTTPException(status_code=404, detail=f"no document docs/{relative}")
    return html
