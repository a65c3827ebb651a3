"""GOLD recomputed from the raw partner files with pandas, independently of the warehouse SQL.

Only the written definitions are shared (docs/metrics.md, the feed contract's keys and "latest
record wins" ordering); every join, count and sum is done here again. Money is Decimal, so the
comparison is exact to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd

from include.contracts import FEED_NAMES, load_contract

CENT, BASIS = Decimal("0.01"), Decimal("0.0001")
END_OF_TIME = datetime(9999, 12, 31)
TRACKED = ["email", "segment", "city", "state", "zip_code"]


def read_feed(files: Path, feed: str, days: list[date]) -> pd.DataFrame:
    """A feed's raw files as strings, with the batch date and source line of every row."""
    frames = []
    for day in days:
        path = files / f"{feed}_{day:%Y%m%d}.csv"
        if path.exists():
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            frame["_batch"], frame["_line"] = day, range(2, len(frame) + 2)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def latest(frame: pd.DataFrame, feed: str, key: list[str] | None = None) -> pd.DataFrame:
    """The contract's rule: per key, the row highest on (latest_by, batch date, source line)."""
    spec = load_contract().feed(feed)
    ordered = frame.sort_values([*spec.latest_by, "_batch", "_line"])
    return ordered.drop_duplicates(key or list(spec.key), keep="last")


def _text(value: str) -> str | None:
    value = value.strip()
    return value or None


def _money(values) -> list[Decimal]:
    return [Decimal(v) for v in values]


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("T", " "))


def _round(value: Decimal, unit: Decimal) -> Decimal:
    return value.quantize(unit, rounding=ROUND_HALF_UP)


@dataclass
class Facts:
    lines: pd.DataFrame  # every sold line: revenue_date, channel, category, state, basket, customer, money
    orders: pd.DataFrame  # every order in its latest state, with its line totals
    purchases: pd.DataFrame  # customer, purchase_date, channel, amount
    payments: pd.DataFrame
    customers: pd.DataFrame  # SCD2 versions


def build_facts(files: Path, days: list[date]) -> Facts:
    products = latest(read_feed(files, "products", days), "products")
    category = {p: _text(c) for p, c in zip(products["product_id"], products["category"], strict=True)}
    stores = latest(read_feed(files, "stores", days), "stores")
    store_state = {s: _text(st) for s, st in zip(stores["store_id"], stores["state"], strict=True)}

    orders = latest(read_feed(files, "orders", days), "orders").set_index("order_id")
    items = latest(read_feed(files, "order_items", days), "order_items")
    items = items[items["order_id"].isin(orders.index)]  # lines without their order stay out
    online = pd.DataFrame(
        {
            "revenue_date": [_ts(orders.at[o, "order_ts"]).date() for o in items["order_id"]],
            "channel": [orders.at[o, "channel"].strip() for o in items["order_id"]],
            "category": [category.get(p) or "unknown" for p in items["product_id"]],
            "state": [_text(orders.at[o, "shipping_state"]) or "unknown" for o in items["order_id"]],
            "basket": ["order:" + o for o in items["order_id"]],
            "order_id": list(items["order_id"]),
            "customer_id": [orders.at[o, "customer_id"].strip() for o in items["order_id"]],
            "quantity": [int(q) for q in items["quantity"]],
            "unit_price": _money(items["unit_price"]),
            "discount": _money(items["discount_amount"]),
        }
    )
    sales = latest(read_feed(files, "store_sales", days), "store_sales")
    store = pd.DataFrame(
        {
            "revenue_date": [_ts(t).date() for t in sales["sold_at"]],
            "channel": "store",
            "category": [category.get(p) or "unknown" for p in sales["product_id"]],
            "state": [store_state.get(s) or "unknown" for s in sales["store_id"]],
            "basket": ["store:" + t for t in sales["transaction_id"]],
            "order_id": None,
            "customer_id": [_text(c) for c in sales["customer_id"]],
            "quantity": [int(q) for q in sales["quantity"]],
            "unit_price": _money(sales["unit_price"]),
            "discount": _money(sales["discount_amount"]),
        }
    )
    lines = pd.concat([online, store], ignore_index=True)
    lines["gross"] = [q * p for q, p in zip(lines["quantity"], lines["unit_price"], strict=True)]
    lines["net"] = [g - d for g, d in zip(lines["gross"], lines["discount"], strict=True)]

    per_order = online.assign(
        net=[q * p - d for q, p, d in zip(online["quantity"], online["unit_price"], online["discount"], strict=True)]
    )
    order_net = per_order.groupby("order_id")["net"].agg(lambda s: sum(s, Decimal(0)))
    order_frame = pd.DataFrame(
        {
            "order_id": orders.index,
            "customer_id": [c.strip() for c in orders["customer_id"]],
            "order_date": [_ts(t).date() for t in orders["order_ts"]],
            "status": [s.strip() for s in orders["order_status"]],
            "status_updated_at": [_ts(t) for t in orders["status_updated_at"]],
            "net": [order_net.get(o, Decimal(0)) for o in orders.index],
        }
    )
    carded = store[store["customer_id"].notna()]
    store_baskets = carded.assign(
        net=[q * p - d for q, p, d in zip(carded["quantity"], carded["unit_price"], carded["discount"], strict=True)]
    )
    store_purchases = (
        store_baskets.groupby(["customer_id", "basket"])
        .agg(purchase_date=("revenue_date", "min"), amount=("net", lambda s: sum(s, Decimal(0))))
        .reset_index()
    )
    purchases = pd.concat(
        [
            pd.DataFrame(
                {
                    "customer_id": order_frame["customer_id"],
                    "purchase_date": order_frame["order_date"],
                    "channel": "online",
                    "amount": order_frame["net"],
                }
            ),
            pd.DataFrame(
                {
                    "customer_id": store_purchases["customer_id"],
                    "purchase_date": store_purchases["purchase_date"],
                    "channel": "store",
                    "amount": store_purchases["amount"],
                }
            ),
        ],
        ignore_index=True,
    )
    raw_payments = latest(read_feed(files, "payments", days), "payments")
    payments = pd.DataFrame(
        {
            "order_id": raw_payments["order_id"],
            "method": [m.strip() for m in raw_payments["payment_method"]],
            "amount": _money(raw_payments["amount"]),
            "paid_date": [_ts(t).date() for t in raw_payments["paid_at"]],
        }
    )
    return Facts(lines, order_frame, purchases, payments, scd2_versions(files, days))


def scd2_versions(files: Path, days: list[date]) -> pd.DataFrame:
    """Customer versions: a new one whenever a tracked attribute changes, ordered by updated_at."""
    raw = read_feed(files, "customers", days)
    for col in raw.columns:
        if col not in ("_batch", "_line"):
            raw[col] = raw[col].str.strip()
    raw["email"], raw["state"] = raw["email"].str.lower(), raw["state"].str.upper()
    records = latest(raw, "customers", ["customer_id", "updated_at"]).sort_values(["customer_id", "updated_at"])
    tracked = records[TRACKED].agg("|".join, axis=1)
    starts = records[tracked != tracked.groupby(records["customer_id"]).shift()].copy()
    starts["valid_from"] = [_ts(t) for t in starts["updated_at"]]
    starts["valid_to"] = starts.groupby("customer_id")["valid_from"].shift(-1).fillna(END_OF_TIME)
    starts["signup_date"] = [date.fromisoformat(d) for d in starts["signup_date"]]
    for col in TRACKED:  # SILVER keeps an empty text as null
        starts[col] = [v or None for v in starts[col]]
    return starts


# ---------------------------------------------------------------------------------- GOLD objects
def daily_revenue(f: Facts, first: date, last: date) -> set[tuple]:
    lines = f.lines[(f.lines["revenue_date"] >= first) & (f.lines["revenue_date"] <= last)]
    out = set()
    for (day, channel, category, state), g in lines.groupby(["revenue_date", "channel", "category", "state"]):
        out.add(
            (
                day,
                channel,
                category,
                state,
                g["basket"].nunique(),
                int(g["quantity"].sum()),
                sum(g["gross"], Decimal(0)),
                sum(g["discount"], Decimal(0)),
                sum(g["net"], Decimal(0)),
            )
        )
    return out


def _kpis(lines: pd.DataFrame, period: str, monthly: bool) -> set[tuple]:
    out = set()
    for channel in [*sorted(lines["channel"].unique()), "all"]:
        chosen = lines if channel == "all" else lines[lines["channel"] == channel]
        for key, g in chosen.groupby(period):
            net, orders = sum(g["net"], Decimal(0)), g["basket"].nunique()
            row = [key, channel, orders, g["customer_id"].dropna().nunique()]
            if monthly:
                row.append(g["revenue_date"].nunique())
            row += [
                int(g["quantity"].sum()),
                sum(g["gross"], Decimal(0)),
                sum(g["discount"], Decimal(0)),
                net,
                _round(net / orders, CENT),
            ]
            out.add(tuple(row))
    return out


def daily_kpi(f: Facts, first: date, last: date) -> set[tuple]:
    return _kpis(f.lines[(f.lines["revenue_date"] >= first) & (f.lines["revenue_date"] <= last)], "revenue_date", False)


def _with_month(lines: pd.DataFrame) -> pd.DataFrame:
    return lines.assign(month=[d.replace(day=1) for d in lines["revenue_date"]])


def monthly_kpi(f: Facts, months: set[date]) -> set[tuple]:
    lines = _with_month(f.lines)
    return _kpis(lines[lines["month"].isin(months)], "month", True)


def monthly_revenue(f: Facts, months: set[date]) -> set[tuple]:
    lines = _with_month(f.lines)
    out = set()
    for (month, channel, category), g in lines[lines["month"].isin(months)].groupby(["month", "channel", "category"]):
        out.add(
            (
                month,
                channel,
                category,
                g["revenue_date"].nunique(),
                int(g["quantity"].sum()),
                sum(g["gross"], Decimal(0)),
                sum(g["discount"], Decimal(0)),
                sum(g["net"], Decimal(0)),
            )
        )
    return out


def date_completeness(delivered: dict[date, set[str]], first: date, last: date) -> set[tuple]:
    n, out = len(FEED_NAMES), set()
    day = first
    while day <= last:
        have, following = delivered.get(day, set()), delivered.get(day + timedelta(days=1), set())
        status = (
            "no_input"
            if not have
            else "partial"
            if len(have) < n
            else "provisional"
            if len(following) < n
            else "complete"
        )
        missing = " ".join(f for f in FEED_NAMES if f not in have) or None
        out.add((day, status, len(have), n, missing, len(following)))
        day += timedelta(days=1)
    return out


def as_of(f: Facts) -> date:
    """'Now' for RFM and features: the latest order or sale date."""
    return max(max(f.orders["order_date"]), max(f.lines.loc[f.lines["channel"] == "store", "revenue_date"]))


def customer_rfm(f: Facts) -> set[tuple]:
    today = as_of(f)
    p = f.purchases[f.purchases["purchase_date"] <= today]
    totals = p.groupby("customer_id").agg(
        last=("purchase_date", "max"),
        frequency=("purchase_date", "size"),
        monetary=("amount", lambda s: sum(s, Decimal(0))),
    )
    totals["recency"] = [(today - d).days for d in totals["last"]]
    n = len(totals)

    def score(worse: pd.Series) -> list[int]:  # 1 + floor(5 x share of customers strictly worse)
        return [1 + (5 * int(w)) // n for w in worse]

    recency = totals["recency"]
    totals["r"] = score(recency.map(lambda r: (recency > r).sum()))
    monetary = totals["monetary"]
    totals["m"] = score(monetary.map(lambda m: (monetary < m).sum()))
    totals["f"] = [5 if q >= 6 else 4 if q >= 4 else q for q in totals["frequency"]]

    def segment(r: int, fr: int) -> str:
        if r >= 4 and fr >= 4:
            return "champions"
        if fr >= 4:
            return "loyal"
        if r >= 4 and fr <= 2:
            return "new_or_promising"
        if r <= 2 and fr >= 3:
            return "at_risk"
        if r <= 2:
            return "hibernating"
        return "needs_attention"

    return {
        (c, today, int(t.recency), int(t.frequency), t.monetary, t.r, t.f, t.m, segment(t.r, t.f))
        for c, t in totals.iterrows()
    }


def _share(part, whole, unit: Decimal = BASIS) -> Decimal:
    return _round(Decimal(part) / Decimal(whole), unit) if whole else Decimal(0)


def customer_features(f: Facts) -> set[tuple]:
    today = as_of(f)
    moment = datetime.combine(today + timedelta(days=1), datetime.min.time())
    v = f.customers
    current = v[(v["valid_from"] < moment) & (v["valid_to"] >= moment) & (v["signup_date"] <= today)]
    purchases = f.purchases[f.purchases["purchase_date"] <= today]
    orders = f.orders[f.orders["order_date"] <= today]
    # payments by their date, of any of the customer's orders
    payments = f.payments[f.payments["paid_date"] <= today].merge(f.orders[["order_id", "customer_id"]], on="order_id")
    out = set()
    for _, c in current.iterrows():
        mine = purchases[purchases["customer_id"] == c["customer_id"]]
        days_ago = [(today - d).days for d in mine["purchase_date"]]
        total = len(mine)
        recent = sum(1 for d in days_ago if d < 90)
        previous = sum(1 for d in days_ago if 90 <= d < 180)
        spend = sum(mine["amount"], Decimal(0))
        spend_90 = sum((a for a, d in zip(mine["amount"], days_ago, strict=True) if d < 90), Decimal(0))
        online = int((mine["channel"] == "online").sum())
        last = max(mine["purchase_date"]) if total else c["signup_date"]
        my_orders = orders[orders["customer_id"] == c["customer_id"]]
        cancelled = sum(
            1
            for s, t in zip(my_orders["status"], my_orders["status_updated_at"], strict=True)
            if s in ("cancelled", "returned") and t < moment
        )
        paid = payments[payments["customer_id"] == c["customer_id"]]
        paid_total = sum(paid["amount"], Decimal(0))

        by_method = {
            m: _share(sum(paid.loc[paid["method"] == m, "amount"], Decimal(0)), paid_total)
            for m in ("card", "paypal", "gift_card", "bank_transfer")
        }

        out.add((
            c["customer_id"], today, c["segment"], c["state"], (today - c["signup_date"]).days,
            total, online, total - online, recent, previous, recent - previous, spend, spend_90,
            _share(spend, total, CENT), (today - last).days, _share(online, total),
            _share(cancelled, len(my_orders)), by_method["card"], by_method["paypal"], by_method["gift_card"],
            by_method["bank_transfer"],
        ))  # fmt: skip
    return out
