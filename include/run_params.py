"""The run's parameters, checked again where a task reads them.

Airflow validates a run's conf against the DAG's ``Param`` schema when the run is created (trigger
form, REST API, backfill). A task still reads each value through these functions, so a value
that reached the run another way (an old run's conf, a schema edited later) fails the task with a
clear message instead of becoming a truthy string, a partial number or an unknown mode.
"""

from __future__ import annotations

from typing import Any

TRAIN_MODES = ("auto", "always", "never")
MAX_LOOKBACK_DAYS = 3660


class InvalidRunParameter(ValueError):
    """A run parameter outside its schema."""


def _value(params: Any, name: str) -> Any:
    try:
        return params[name]
    except (KeyError, TypeError):
        raise InvalidRunParameter(f"the run has no {name!r} parameter") from None


def force_reload(params: Any) -> bool:
    value = _value(params, "force_reload")
    if not isinstance(value, bool):
        raise InvalidRunParameter(f"force_reload must be true or false, got {str(value)[:40]!r}")
    return value


def train_mode(params: Any) -> str:
    value = _value(params, "train_churn_model")
    if value not in TRAIN_MODES:
        raise InvalidRunParameter(f"train_churn_model must be one of {', '.join(TRAIN_MODES)}, got {str(value)[:40]!r}")
    return value


def lookback_days(params: Any) -> int:
    value = _value(params, "lookback_days")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LOOKBACK_DAYS:
        raise InvalidRunParameter(
            f"lookback_days must be a whole number from 0 to {MAX_LOOKBACK_DAYS}, got {str(value)[:40]!r}"
        )
    return value
