"""GOLD's customer views follow the as-of date while GOLD rebuilds only the customers that changed.

A publication writes the RFM and feature rows of the customers the change set touched, or whose
90-day windows, payments dated after the as-of date or valid SCD2 version the moved as-of date
changes (gold/customer_changes.sql); recency, tenure and the RFM scores are derived when the views
are read. Here the daily run's SQL runs in-process while the as-of date moves by a day, then by
100 days at once, and the views are compared with a derivation of every customer.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from include.config import WAREHOUSE
from tests.unit.test_customer_activity import SCALE, SEED, M, _exact, _from_facts_sql, _rows

G = f"{WAREHOUSE.database}.{WAREHOUSE.gold}"
STAGE = f"{WAREHOUSE.database}.{WAREHOUSE.gold_stage}"


def _customer_views_equal_a_whole_derivation(hook: Any) -> None:
    """GOLD's customer views, kept up to date customer by customer, equal what deriving every
    customer again gives: the features the facts-based definition, the RFM inputs the aggregates."""
    features = set(_rows(hook, f"select * from {G}.CUSTOMER_FEATURES"))
    assert len(features) > 100 and features == _exact(_rows(hook, _from_facts_sql()))
    rfm = _rows(hook, f"select customer_id, recency_days, frequency, monetary from {G}.CUSTOMER_RFM")
    whole = _rows(
        hook,
        f"select customer_id, datediff(day, last_purchase_date, (select as_of_date from {G}.CUSTOMER_AS_OF)), "
        f"purchases, spend::number(14, 2) from {M}.CUSTOMER_ACTIVITY where purchases > 0",
    )
    assert len(rfm) > 100 and set(rfm) == set(whole)


def test_customer_rows_follow_an_as_of_date_that_moves_past_the_90_and_180_day_windows() -> None:
    """The as-of date moves by a day twice, then by 100 days at once (a platform that published
    nothing for months): every customer's row still equals a derivation of every customer."""
    from local.history import build_model, in_process_warehouse, load_bronze

    first = date(2025, 9, 1)
    with in_process_warehouse() as hook:
        load_bronze(hook, first, first + timedelta(days=99), scale=SCALE, seed=SEED)
        build_model(hook, first, first + timedelta(days=99), gold=True)  # the first publication: whole
        for day in (first + timedelta(days=100), first + timedelta(days=101)):
            load_bronze(hook, day, day, scale=SCALE, seed=SEED)
            build_model(hook, day, day, gold=True)
            (changed,) = _rows(hook, f"select count(*) from {STAGE}.CUSTOMER_CHANGES")[0]
            (customers,) = _rows(hook, f"select count(*) from {G}.CUSTOMER_FEATURES_BASE")[0]
            assert 0 < changed < customers / 2, (changed, customers)  # a day rebuilds the day's customers
        _customer_views_equal_a_whole_derivation(hook)
        jump = first + timedelta(days=102)
        load_bronze(hook, jump, jump + timedelta(days=99), scale=SCALE, seed=SEED)
        build_model(hook, jump, jump + timedelta(days=99), gold=True)
        _customer_views_equal_a_whole_derivation(hook)
        assert not _rows(hook, f"select * from {M}.PENDING_CUSTOMERS"), "published customers stop being pending"
