"""The retail world behind the partner feeds.

Customers sign up in daily cohorts. Each customer has a hidden segment, a base purchase rate and
a lifetime; the daily chance of ordering decays as ``rate * decay ** (age / lifetime)``, so churn
shows up in behaviour (falling frequency, growing recency) and is learnable but not trivial.
Every quantity is a pure function of (seed, entity, day) through ``randomness``, which makes a
day's files independent of the range asked for.

``FeedSimulator.day_tables(day)`` returns one Arrow table per feed exactly as the partner would
deliver that business day: on-time rows of the day, late rows of the previous day, status
updates of earlier orders, and a few exact duplicates.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from include.contracts import load_contract
from include.simulator.randomness import Stream, choice, hash64, normal, uniform
from include.simulator.reference import Reference

DAY = 86_400
STATUSES = ("placed", "shipped", "delivered", "cancelled", "returned")
PLACED, SHIPPED, DELIVERED, CANCELLED, RETURNED = range(5)

FIRST_NAMES = (
    "Ava Ben Chloe Daniel Emma Felix Grace Henry Isla Jack Kara Liam Maya Noah Olivia Peter "
    "Quinn Ruby Sam Tara Umar Vera Will Xena Yusuf Zoe Aaron Bella Caleb Diana Ethan Fiona "
    "Gabriel Hana Ivan Julia Kevin Lena Marco Nina Oscar Paula Rafael Sofia Tomas Uma Victor"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill"
).split()
BRANDS = ("Northwind", "Acme", "Contoso", "Fabrikam", "Tailspin", "Litware", "Proseware", "Adatum")

K = TypeVar("K")
V = TypeVar("V")


class _LRU(OrderedDict[K, V]):
    """A tiny bounded cache: memory stays flat however many days a run generates."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_or(self, key: K, make: Callable[[], V]) -> V:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        if len(self) > self.size:
            self.popitem(last=False)
        return value


@dataclass(frozen=True)
class Cohort:
    """Customers who signed up on one day."""

    day: int
    first_gid: int  # global customer numbers are first_gid .. first_gid + size - 1
    segment: NDArray[np.int8]
    base_rate: NDArray[np.float32]  # daily order probability at age 0
    log_decay: NDArray[np.float32]  # per-day log decay of the order probability
    order_key: NDArray[np.uint64]  # pre-hashed (seed, ORDER, gid) for fast per-day draws
    change1: NDArray[np.int32]  # day of first attribute change
    change2: NDArray[np.int32]  # day of second attribute change

    @property
    def gid(self) -> NDArray[np.int64]:
        return np.arange(self.first_gid, self.first_gid + self.segment.size, dtype=np.int64)


@dataclass(frozen=True)
class Placements:
    """Orders placed on one day, with their whole future status timeline."""

    day: int
    gid: NDArray[np.int64]
    segment: NDArray[np.int8]
    order_id: NDArray[np.str_]
    order_ts: NDArray[np.int64]
    channel: NDArray[np.intp]
    late: NDArray[np.bool_]
    # status events after placement, one row per event
    ev_order: NDArray[np.intp]
    ev_status: NDArray[np.int64]
    ev_day: NDArray[np.int64]
    ev_ts: NDArray[np.int64]
    ev_late: NDArray[np.bool_]


class FeedSimulator:
    def __init__(self, reference: Reference, seed: int, scale: float) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        self.ref = reference
        self.seed = int(seed)
        self.scale = float(scale)
        self.contract = load_contract()
        self.epoch = reference.epoch
        self.epoch_ts = int((np.datetime64(self.epoch, "s") - np.datetime64(0, "s")).astype(np.int64))
        segs = reference["customer_segments"]
        self.segment_names = list(segs)
        self.seg_share = np.array([s["share"] for s in segs.values()])
        self.seg_freq = np.array([s["frequency"] for s in segs.values()])
        self.seg_life = np.array([s["lifetime_days"] for s in segs.values()])
        self.seg_value = np.array([s["order_value"] for s in segs.values()])
        behaviour = reference["customer_behaviour"]
        self.max_age = int(behaviour["max_age_days"])
        self.log_decay_unit = float(np.log(behaviour["intensity_decay"]))
        self.weekday = np.array(reference["weekday_factors"], dtype=np.float64)
        self.repeat_p = float(reference["repeat_customer_probability"])
        self.lifecycle = reference["order_lifecycle"]
        self.delivery = reference["delivery"]
        self.max_delay = int(self.lifecycle["max_update_delay_days"])
        self._cohorts: _LRU[int, Cohort] = _LRU(self.max_age + 16)
        self._placements: _LRU[int, Placements] = _LRU(self.max_delay + 4)
        self._orderers: _LRU[int, tuple[NDArray[np.int64], NDArray[np.int8]]] = _LRU(self.max_delay + 4)
        self._sizes = np.zeros(0, dtype=np.int64)
        self._offsets = np.zeros(1, dtype=np.int64)

    # ------------------------------------------------------------------ calendar
    def day_index(self, d: date) -> int:
        return (d - self.epoch).days

    def day_date(self, day: int) -> date:
        return self.epoch + timedelta(days=day)

    def weekday_factor(self, day: int | NDArray[np.int64]) -> Any:
        return self.weekday[(np.asarray(day) + self.epoch.weekday()) % 7]

    def day_start_ts(self, day: int | NDArray[np.int64]) -> Any:
        return self.epoch_ts + np.asarray(day, dtype=np.int64) * DAY

    # ------------------------------------------------------------------ customers
    def _ensure_sizes(self, upto: int) -> None:
        if upto < len(self._sizes):
            return
        days = np.arange(upto + 1 + 64, dtype=np.int64)
        target = self.ref["volumes"]["orders_per_day"] * self.scale * (1 - self.repeat_p)
        noise = 0.9 + 0.2 * uniform(self.seed, Stream.COHORT_SIZE, days)
        self._sizes = np.maximum(1, np.rint(target * self.weekday_factor(days) * noise)).astype(np.int64)
        self._offsets = np.concatenate([[0], np.cumsum(self._sizes)])

    def cohort_range(self, day: int) -> tuple[int, int]:
        """Global customer numbers [first, last) of the cohort that signed up on ``day``."""
        self._ensure_sizes(day)
        return int(self._offsets[day]), int(self._offsets[day + 1])

    def cohort_of(self, gid: NDArray[np.int64]) -> NDArray[np.int64]:
        self._ensure_sizes(0)
        while gid.size and gid.max() >= self._offsets[-1]:
            self._ensure_sizes(len(self._sizes) * 2)
        return np.searchsorted(self._offsets, gid, side="right").astype(np.int64) - 1

    def segment_of(self, gid: NDArray[np.int64]) -> NDArray[np.int8]:
        return choice(uniform(self.seed, Stream.SEGMENT, gid), self.seg_share).astype(np.int8)

    def change_days(self, gid: NDArray[np.int64], signup: NDArray[np.int64]) -> tuple[Any, Any]:
        """Days of a customer's first two attribute changes (address and maybe segment)."""
        per_day = self.ref["customer_behaviour"]["attribute_change_share"] / 30.0
        mean_gap = 1.0 / per_day if per_day > 0 else 1e12
        g1 = np.ceil(-np.log1p(-uniform(self.seed, Stream.CHANGE_GAP, gid, 1)) * mean_gap)
        g2 = np.ceil(-np.log1p(-uniform(self.seed, Stream.CHANGE_GAP, gid, 2)) * mean_gap)
        g1 = np.minimum(g1, 1e9).astype(np.int64)
        g2 = np.minimum(g2, 1e9).astype(np.int64)
        return signup + g1, signup + g1 + g2

    def _rates(self, gid: NDArray[np.int64], segment: NDArray[np.int8]) -> tuple[Any, Any]:
        freq = self.seg_freq[segment] * np.exp(0.5 * normal(self.seed, Stream.FREQUENCY_A, Stream.FREQUENCY_B, gid))
        life = self.seg_life[segment] * np.exp(0.5 * normal(self.seed, Stream.LIFETIME_A, Stream.LIFETIME_B, gid))
        return self.rate_scale * freq, self.log_decay_unit / life

    @cached_property
    def rate_scale(self) -> float:
        """Scale daily order probabilities so repeat orders make up ``repeat_customer_probability``.

        In steady state every cohort places ``repeat / (1 - repeat)`` repeat orders per customer
        over its life; solved on a fixed sample so it depends on the reference only, not the seed.
        """
        sample = np.arange(200_000, dtype=np.int64)
        seg = choice(uniform(0, Stream.CALIBRATION, sample, 1), self.seg_share)
        freq = self.seg_freq[seg] * np.exp(0.5 * normal(0, Stream.CALIBRATION, Stream.SEGMENT, sample))
        life = self.seg_life[seg] * np.exp(0.5 * normal(0, Stream.CALIBRATION, Stream.NAME, sample))
        r = np.exp(self.log_decay_unit / life)
        lifetime_sum = r * (1 - r**self.max_age) / (1 - r)
        weekday_mean = float(self.weekday.mean())
        return float(self.repeat_p / (1 - self.repeat_p) / (np.mean(freq * lifetime_sum) * weekday_mean))

    def cohort(self, day: int) -> Cohort:
        def make() -> Cohort:
            first, last = self.cohort_range(day)
            gid = np.arange(first, last, dtype=np.int64)
            segment = self.segment_of(gid)
            base, log_decay = self._rates(gid, segment)
            c1, c2 = self.change_days(gid, np.full(gid.shape, day, dtype=np.int64))
            return Cohort(
                day=day,
                first_gid=first,
                segment=segment,
                base_rate=base.astype(np.float32),
                log_decay=log_decay.astype(np.float32),
                order_key=hash64(self.seed, Stream.ORDER, gid),
                change1=np.minimum(c1, 2**31 - 1).astype(np.int32),
                change2=np.minimum(c2, 2**31 - 1).astype(np.int32),
            )

        return self._cohorts.get_or(day, make)

    def _day_uniform(self, key: NDArray[np.uint64], day: int) -> NDArray[np.float64]:
        with np.errstate(over="ignore"):
            h = hash64(0, Stream.ORDER, 0)[0] ^ key ^ (np.uint64(day + 1) * np.uint64(0x9E3779B97F4A7C15))
            h = h ^ (h >> np.uint64(30))
            h = h * np.uint64(0xBF58476D1CE4E5B9)
            h = h ^ (h >> np.uint64(27))
            h = h * np.uint64(0x94D049BB133111EB)
            h = h ^ (h >> np.uint64(31))
        return (h >> np.uint64(11)).astype(np.float64) * (1.0 / float(1 << 53))

    def order_probability(self, cohort: Cohort, day: int) -> NDArray[np.float64]:
        """Probability that each customer of ``cohort`` places an order on ``day``."""
        age = day - cohort.day
        if age <= 0 or age > self.max_age:
            return np.zeros(cohort.segment.shape)
        p = cohort.base_rate * np.exp(age * cohort.log_decay) * self.weekday_factor(day)
        return np.minimum(p, 0.9)

    def orders_placed_by_existing(self, day: int, cohort: Cohort) -> NDArray[np.bool_]:
        return self._day_uniform(cohort.order_key, day) < self.order_probability(cohort, day)

    def existing_orderers(self, day: int) -> tuple[NDArray[np.int64], NDArray[np.int8]]:
        """Customers who signed up before ``day`` and order on it."""

        def make() -> tuple[NDArray[np.int64], NDArray[np.int8]]:
            gids, segs = [], []
            for s in range(max(0, day - self.max_age), day):
                c = self.cohort(s)
                hit = np.flatnonzero(self.orders_placed_by_existing(day, c))
                gids.append(c.first_gid + hit.astype(np.int64))
                segs.append(c.segment[hit])
            if not gids:
                return np.zeros(0, np.int64), np.zeros(0, np.int8)
            return np.concatenate(gids), np.concatenate(segs)

        return self._orderers.get_or(day, make)

    def customers_changed_on(self, day: int) -> NDArray[np.int64]:
        out = [np.zeros(0, np.int64)]
        for s in range(max(0, day - self.max_age), day):
            c = self.cohort(s)
            out.append(c.first_gid + np.flatnonzero((c.change1 == day) | (c.change2 == day)).astype(np.int64))
        return np.concatenate(out)

    def customer_rows(self, gid: NDArray[np.int64], day: int) -> dict[str, Any]:
        """Customer attributes valid at the end of ``day``."""
        signup = self.cohort_of(gid)
        c1, c2 = self.change_days(gid, signup)
        version = (c1 <= day).astype(np.int64) + (c2 <= day)
        changed_on = np.where(version == 2, c2, np.where(version == 1, c1, signup))
        base_seg = self.segment_of(gid)
        seg_change = (
            uniform(self.seed, Stream.SEGMENT_CHANGE, gid, version)
            < (self.ref["customer_behaviour"]["segment_change_share"])
        )
        new_seg = choice(uniform(self.seed, Stream.SEGMENT, gid, version), self.seg_share)
        segment = np.where((version > 0) & seg_change, new_seg, base_seg)
        first = np.array(FIRST_NAMES)[hash64(self.seed, Stream.NAME, gid, 1) % np.uint64(len(FIRST_NAMES))]
        last = np.array(LAST_NAMES)[hash64(self.seed, Stream.NAME, gid, 2) % np.uint64(len(LAST_NAMES))]
        state, city = self.address(gid, version)
        zip_code = 10000 + (hash64(self.seed, Stream.ADDRESS, gid, version, 3) % np.uint64(89999)).astype(np.int64)
        tod = (uniform(self.seed, Stream.SIGNUP_TIME, gid, version) * (DAY - 1)).astype(np.int64)
        return {
            "customer_id": customer_ids(gid),
            "first_name": first,
            "last_name": last,
            "email": np.char.add(
                np.char.add(np.char.lower(np.char.add(np.char.add(first, "."), last)), "."),
                np.char.add(gid.astype(str), "@example.com"),
            ),
            "segment": np.array(self.segment_names)[segment],
            "city": city,
            "state": state,
            "zip_code": zip_code.astype(str),
            "signup_date": self.day_start_ts(signup),
            "updated_at": self.day_start_ts(changed_on) + tod,
        }

    @cached_property
    def _places(self) -> tuple[NDArray[np.str_], NDArray[np.str_], NDArray[np.str_]]:
        rows = [(region, st, city) for region, pairs in self.ref["regions"].items() for st, city in pairs]
        return tuple(np.array(col) for col in zip(*rows, strict=True))  # type: ignore[return-value]

    def address(self, gid: NDArray[np.int64], version: NDArray[np.int64]) -> tuple[Any, Any]:
        _, states, cities = self._places
        idx = hash64(self.seed, Stream.ADDRESS, gid, version) % np.uint64(len(states))
        return states[idx], cities[idx]

    # ------------------------------------------------------------------ catalog and stores
    @cached_property
    def catalog(self) -> dict[str, Any]:
        vol = self.ref["volumes"]
        n = int(vol["products"] + vol["products_per_scale"] * self.scale)
        pid = np.arange(n, dtype=np.int64)
        cats = self.ref["product_categories"]
        names = list(cats)
        cat = choice(uniform(self.seed, Stream.CATALOG, pid, 1), [c["weight"] for c in cats.values()])
        price = np.array([c["price"] for c in cats.values()])[cat] * np.exp(
            0.4 * normal(self.seed, Stream.CATALOG, Stream.PRICE, pid)
        )
        margin = np.array([c["margin"] for c in cats.values()])[cat] * (
            0.8 + 0.4 * uniform(self.seed, Stream.CATALOG, pid, 2)
        )
        popularity = 1.0 / (1 + hash64(self.seed, Stream.CATALOG, pid, 3) % np.uint64(n)).astype(np.float64) ** 0.8
        active = uniform(self.seed, Stream.CATALOG, pid, 4) >= 0.03
        peak = np.zeros((12, n), dtype=bool)
        for c_idx, spec in enumerate(cats.values()):
            for month in spec["peak_months"]:
                peak[month - 1, cat == c_idx] = True
        brand = np.array(BRANDS)[hash64(self.seed, Stream.CATALOG, pid, 5) % np.uint64(len(BRANDS))]
        return {
            "pid": pid,
            "category": np.array(names)[cat],
            "brand": brand,
            "base_price": np.round(np.maximum(price, 0.5), 2),
            "margin": margin,
            "popularity": popularity * active,
            "active": active,
            "peak": peak,
            "phase": (hash64(self.seed, Stream.PRICE, pid) % np.uint64(120)).astype(np.int64),
        }

    def prices_on(self, day: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Unit price of every product on ``day`` and the day that price took effect."""
        cat = self.catalog
        version = (day + cat["phase"]) // 120
        factor = 1 + 0.06 * normal(self.seed, Stream.PRICE, Stream.CATALOG, cat["pid"], version)
        since = version * 120 - cat["phase"]
        return np.round(cat["base_price"] * np.clip(factor, 0.8, 1.2), 2), since

    def _product_cdf(self, month: int) -> NDArray[np.float64]:
        cat = self.catalog
        w = cat["popularity"] * np.where(cat["peak"][month - 1], self.ref["peak_factor"], 1.0)
        return np.cumsum(w) / w.sum()

    def sample_products(self, u: NDArray[np.float64], day: int) -> NDArray[np.intp]:
        cdf = self._product_cdf(self.day_date(day).month)
        return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)

    @cached_property
    def stores(self) -> dict[str, Any]:
        vol = self.ref["volumes"]
        n = int(vol["stores"] + vol["stores_per_scale"] * self.scale)
        sid = np.arange(n, dtype=np.int64)
        types = self.ref["store_types"]
        stype = choice(uniform(self.seed, Stream.STORE, sid, 1), list(types.values()))
        regions, states, cities = self._places
        place = (hash64(self.seed, Stream.STORE, sid, 2) % np.uint64(len(states))).astype(np.int64)
        size = np.array([3.0, 2.0, 1.5, 1.0])[stype]
        opened = -(hash64(self.seed, Stream.STORE, sid, 3) % np.uint64(3000)).astype(np.int64) - 1
        return {
            "sid": sid,
            "store_id": np.array([f"S{i + 1:04d}" for i in sid]),
            "store_type": np.array(list(types))[stype],
            "city": cities[place],
            "state": states[place],
            "region": regions[place],
            "size": size,
            "opened": opened,
        }

    # ------------------------------------------------------------------ orders
    def placements(self, day: int) -> Placements:
        return self._placements.get_or(day, lambda: self._make_placements(day))

    def _make_placements(self, day: int) -> Placements:
        first, last = self.cohort_range(day) if day >= 0 else (0, 0)
        new_gid = np.arange(first, last, dtype=np.int64)
        old_gid, old_seg = self.existing_orderers(day) if day > 0 else (np.zeros(0, np.int64), np.zeros(0, np.int8))
        gid = np.concatenate([new_gid, old_gid])
        segment = np.concatenate([self.segment_of(new_gid), old_seg])
        tod = (DAY * (0.2 + 0.8 * uniform(self.seed, Stream.ORDER_TIME, gid, day) ** 0.8)).astype(np.int64)
        tod = np.minimum(tod, DAY - 3600)
        order_ts = self.day_start_ts(day) + tod
        order = np.lexsort((gid, order_ts))
        gid, segment, order_ts = gid[order], segment[order], order_ts[order]
        stamp = self.day_date(day).strftime("%Y%m%d")
        order_id = np.char.add(f"O{stamp}", _zfill(np.arange(1, gid.size + 1), 6))
        channel = choice(uniform(self.seed, Stream.CHANNEL, gid, day), list(self.ref["channels"].values()))
        late = uniform(self.seed, Stream.LATE, gid, day) < self.delivery["late_share"]

        # status timeline after the placement day
        lc = self.lifecycle
        updated = uniform(self.seed, Stream.STATUS_UPDATE, gid, day) < lc["status_update_share"]
        cancelled = uniform(self.seed, Stream.STATUS_KIND, gid, day) < lc["cancel_share"]
        d1 = 1 + (hash64(self.seed, Stream.STATUS_DELAY, gid, day, 1) % np.uint64(2)).astype(np.int64)
        d2 = 1 + (hash64(self.seed, Stream.STATUS_DELAY, gid, day, 2) % np.uint64(3)).astype(np.int64)
        room = np.maximum(self.max_delay - d1 - d2, 1)
        d3 = 1 + (hash64(self.seed, Stream.STATUS_DELAY, gid, day, 3) % room.astype(np.uint64)).astype(np.int64)
        returned = uniform(self.seed, Stream.RETURN, gid, day) < lc["return_share"]
        idx = np.arange(gid.size)
        events = [
            (idx[updated & cancelled], CANCELLED, d1[updated & cancelled]),
            (idx[updated & ~cancelled], SHIPPED, d1[updated & ~cancelled]),
            (idx[updated & ~cancelled], DELIVERED, (d1 + d2)[updated & ~cancelled]),
            (idx[updated & ~cancelled & returned], RETURNED, (d1 + d2 + d3)[updated & ~cancelled & returned]),
        ]
        ev_order = np.concatenate([e[0] for e in events])
        ev_status = np.concatenate([np.full(e[0].size, e[1], np.int64) for e in events])
        ev_day = day + np.concatenate([e[2] for e in events])
        ev_tod = (DAY * (0.3 + 0.6 * uniform(self.seed, Stream.STATUS_DELAY, gid[ev_order], day, ev_status))).astype(
            np.int64
        )
        ev_ts = self.day_start_ts(ev_day) + ev_tod
        ev_late = uniform(self.seed, Stream.LATE, gid[ev_order], day, ev_status + 10) < self.delivery["late_share"]
        return Placements(
            day=day,
            gid=gid,
            segment=segment,
            order_id=order_id,
            order_ts=order_ts,
            channel=channel,
            late=late,
            ev_order=ev_order,
            ev_status=ev_status,
            ev_day=ev_day,
            ev_ts=ev_ts,
            ev_late=ev_late,
        )

    def order_lines(self, p: Placements, rows: NDArray[np.intp]) -> dict[str, Any]:
        """Line items of the placements ``rows`` (indices into ``p``)."""
        gid = p.gid[rows]
        mean_lines = 1.0 + self.seg_value[p.segment[rows]] / 60.0
        q = 1.0 / mean_lines
        extra = np.floor(np.log1p(-uniform(self.seed, Stream.LINES, gid, p.day)) / np.log1p(-q))
        n_lines = 1 + np.minimum(extra, 9).astype(np.int64)
        owner = np.repeat(rows, n_lines)
        line = np.arange(n_lines.sum()) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
        ogid = p.gid[owner]
        product = self.sample_products(uniform(self.seed, Stream.PRODUCT, ogid, p.day, line), p.day)
        qty = 1 + np.minimum(np.floor(-np.log1p(-uniform(self.seed, Stream.QUANTITY, ogid, p.day, line)) * 0.5), 4)
        prices, _ = self.prices_on(p.day)
        unit_price = prices[product]
        discounted = uniform(self.seed, Stream.DISCOUNT, ogid, p.day, line) < 0.12
        pct = 0.05 + 0.2 * uniform(self.seed, Stream.DISCOUNT, ogid, p.day, line + 100)
        discount = np.where(discounted, np.round(unit_price * qty * pct, 2), 0.0)
        return {
            "owner": owner,
            "order_id": p.order_id[owner],
            "line_number": line,
            "product_id": product_ids(product),
            "quantity": qty.astype(np.int64),
            "unit_price": unit_price,
            "discount_amount": discount,
        }

    def payments(self, p: Placements, rows: NDArray[np.intp], lines: dict[str, Any]) -> dict[str, Any]:
        """Payments for placements ``rows``; ``lines`` are those orders' line items."""
        line_total = lines["quantity"] * lines["unit_price"] - lines["discount_amount"]
        pos = np.searchsorted(rows, lines["owner"])
        total = np.round(np.bincount(pos, weights=line_total, minlength=rows.size), 2)
        gid = p.gid[rows]
        split = uniform(self.seed, Stream.SPLIT_PAYMENT, gid, p.day) < self.ref["split_payment_share"]
        methods = list(self.ref["payment_methods"])
        method = choice(
            uniform(self.seed, Stream.PAYMENT_METHOD, gid, p.day), list(self.ref["payment_methods"].values())
        )
        first_share = np.where(split, 0.2 + 0.3 * uniform(self.seed, Stream.SPLIT_PAYMENT, gid, p.day, 2), 1.0)
        first_amount = np.round(total * first_share, 2)
        paid_at = (
            p.order_ts[rows]
            + 30
            + (hash64(self.seed, Stream.PAYMENT_METHOD, gid, p.day) % np.uint64(600)).astype(np.int64)
        )
        paid_at = np.minimum(paid_at, self.day_start_ts(p.day) + DAY - 1)
        gift = methods.index("gift_card") if "gift_card" in methods else 0
        stamp = self.day_date(p.day).strftime("%Y%m%d")
        seq = np.concatenate([rows * 2, rows[split] * 2 + 1]) + 1
        return {
            "payment_id": np.char.add(f"Y{stamp}", _zfill(seq, 7)),
            "owner": np.concatenate([rows, rows[split]]),
            "order_id": np.concatenate([p.order_id[rows], p.order_id[rows][split]]),
            "payment_method": np.array(methods)[np.concatenate([np.where(split, gift, method), method[split]])],
            "amount": np.concatenate([first_amount, np.round(total - first_amount, 2)[split]]),
            "paid_at": np.concatenate([paid_at, paid_at[split] + 5]),  # second payment 5 s after the first
        }

    # ------------------------------------------------------------------ store sales and stock
    def store_sales(self, day: int) -> dict[str, Any]:
        vol = self.ref["volumes"]
        noise = 0.9 + 0.2 * float(uniform(self.seed, Stream.STORE_TX, day, 0)[0])
        n_tx = int(round(vol["store_transactions_per_day"] * self.scale * float(self.weekday_factor(day)) * noise))
        tx = np.arange(n_tx, dtype=np.int64)
        stores = self.stores
        store = choice(uniform(self.seed, Stream.STORE_TX, tx, day, 1), stores["size"])
        n_lines = 1 + np.minimum(np.floor(-np.log1p(-uniform(self.seed, Stream.STORE_TX, tx, day, 2)) * 0.8), 7).astype(
            np.int64
        )
        sold_at = self.day_start_ts(day) + (
            9 * 3600 + uniform(self.seed, Stream.STORE_TX, tx, day, 3) * 12 * 3600
        ).astype(np.int64)
        order = np.argsort(sold_at, kind="stable")
        tx, store, n_lines, sold_at = tx[order], store[order], n_lines[order], sold_at[order]
        orderers, _ = self.existing_orderers(day) if day > 0 else (np.zeros(0, np.int64), None)
        loyal = (uniform(self.seed, Stream.LOYALTY, tx, day) < self.ref["customer_behaviour"]["loyalty_card_share"]) & (
            orderers.size > 0
        )
        pick = (uniform(self.seed, Stream.LOYALTY, tx, day, 1) * max(orderers.size, 1)).astype(np.int64)
        customer = np.where(loyal, orderers[np.minimum(pick, max(orderers.size - 1, 0))] if orderers.size else -1, -1)
        late = uniform(self.seed, Stream.LATE, tx, day, 7) < self.delivery["late_share"]
        stamp = self.day_date(day).strftime("%Y%m%d")
        tx_id = np.char.add(f"T{stamp}", _zfill(np.arange(1, n_tx + 1), 6))
        owner = np.repeat(np.arange(n_tx), n_lines)
        line = np.arange(n_lines.sum()) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
        product = self.sample_products(uniform(self.seed, Stream.PRODUCT, tx[owner], day, line + 1000), day)
        qty = 1 + np.minimum(
            np.floor(-np.log1p(-uniform(self.seed, Stream.QUANTITY, tx[owner], day, line + 1000)) * 0.6), 5
        )
        prices, _ = self.prices_on(day)
        unit_price = prices[product]
        discounted = uniform(self.seed, Stream.DISCOUNT, tx[owner], day, line + 1000) < 0.1
        discount = np.where(discounted, np.round(unit_price * qty * 0.1, 2), 0.0)
        return {
            "late": late[owner],
            "customer_gid": customer[owner],
            "transaction_id": tx_id[owner],
            "line_number": line,
            "store_id": stores["store_id"][store[owner]],
            "product_id": product_ids(product),
            "customer_id": np.where(customer[owner] >= 0, customer_ids(np.maximum(customer[owner], 0)), ""),
            "quantity": qty.astype(np.int64),
            "unit_price": unit_price,
            "discount_amount": discount,
            "sold_at": sold_at[owner],
        }

    def inventory(self, day: int) -> dict[str, Any]:
        cat, stores = self.catalog, self.stores
        s_idx, p_idx = np.meshgrid(stores["sid"], cat["pid"], indexing="ij")
        s_idx, p_idx = s_idx.ravel(), p_idx.ravel()
        carried = (
            uniform(self.seed, Stream.INVENTORY, s_idx, p_idx) < self.ref["volumes"]["store_assortment_share"]
        ) & (cat["active"][p_idx])
        s_idx, p_idx = s_idx[carried], p_idx[carried]
        reorder = 5 + (hash64(self.seed, Stream.INVENTORY, s_idx, p_idx, 1) % np.uint64(10)).astype(np.int64)
        on_hand = np.floor(-np.log1p(-uniform(self.seed, Stream.INVENTORY, s_idx, p_idx, day)) * 3 * reorder).astype(
            np.int64
        )
        return {
            "snapshot_date": np.full(s_idx.size, self.day_start_ts(day)),
            "store_id": stores["store_id"][s_idx],
            "product_id": product_ids(p_idx),
            "on_hand_qty": on_hand,
            "on_order_qty": np.where(on_hand < reorder, 2 * reorder, 0),
            "reorder_point": reorder,
        }

    # ------------------------------------------------------------------ one business day
    def day_tables(self, d: date) -> dict[str, pa.Table]:
        """Every feed's file content for business date ``d``, before any injected fault."""
        day = self.day_index(d)
        if day < 1:
            raise ValueError(f"{d} is before the simulated history starts ({self.epoch + timedelta(days=1)})")
        today, yesterday = self.placements(day), self.placements(day - 1)
        on_time = np.flatnonzero(~today.late)
        late_prev = np.flatnonzero(yesterday.late)

        # orders: placements, then status changes happening today or late from yesterday
        parts: list[dict[str, Any]] = []
        for p, rows in ((today, on_time), (yesterday, late_prev)):
            parts.append(
                {
                    "gid": p.gid[rows],
                    "order_id": p.order_id[rows],
                    "channel": p.channel[rows],
                    "status": np.full(rows.size, PLACED),
                    "order_ts": p.order_ts[rows],
                    "status_ts": p.order_ts[rows],
                    "placed_day": np.full(rows.size, p.day),
                }
            )
        for placed in range(day - 1 - self.max_delay, day):
            p = self.placements(placed)
            ev = ((p.ev_day == day) & ~p.ev_late) | ((p.ev_day == day - 1) & p.ev_late)
            o = p.ev_order[ev]
            parts.append(
                {
                    "gid": p.gid[o],
                    "order_id": p.order_id[o],
                    "channel": p.channel[o],
                    "status": p.ev_status[ev],
                    "order_ts": p.order_ts[o],
                    "status_ts": p.ev_ts[ev],
                    "placed_day": np.full(o.size, placed),
                }
            )
        orders = {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}
        ship_state, _ = self.address(orders["gid"], self._version_on(orders["gid"], orders["placed_day"]))

        lines_today = self.order_lines(today, on_time)
        lines_prev = self.order_lines(yesterday, late_prev)
        pay_today = self.payments(today, on_time, lines_today)
        pay_prev = self.payments(yesterday, late_prev, lines_prev)
        sales_today, sales_prev = self.store_sales(day), self.store_sales(day - 1)
        sales = {
            k: np.concatenate([sales_today[k][~sales_today["late"]], sales_prev[k][sales_prev["late"]]])
            for k in sales_today
        }

        customer_gid = np.unique(
            np.concatenate(
                [
                    np.arange(*self.cohort_range(day), dtype=np.int64),
                    orders["gid"],
                    sales["customer_gid"][sales["customer_gid"] >= 0],
                    self.customers_changed_on(day),
                ]
            )
        )
        prices, since = self.prices_on(day)
        cat, st = self.catalog, self.stores
        margin_cost = np.round(prices * (1 - cat["margin"]), 2)
        tables = {
            "customers": self.customer_rows(customer_gid, day),
            "products": {
                "product_id": product_ids(cat["pid"]),
                "product_name": np.char.add(
                    np.char.add(np.char.add(cat["brand"], " "), np.char.capitalize(cat["category"])),
                    np.char.add(" #", (cat["pid"] + 1).astype(str)),
                ),
                "category": cat["category"],
                "brand": cat["brand"],
                "unit_price": prices,
                "unit_cost": margin_cost,
                "is_active": cat["active"],
                "updated_at": self.day_start_ts(np.maximum(since, 0)),
            },
            "stores": {
                "store_id": st["store_id"],
                "store_name": np.char.add(np.char.add(st["city"], " "), np.char.capitalize(st["store_type"])),
                "store_type": st["store_type"],
                "city": st["city"],
                "state": st["state"],
                "region": st["region"],
                "opened_date": self.day_start_ts(st["opened"]),
                "updated_at": self.day_start_ts(st["opened"]),
            },
            "orders": {
                "order_id": orders["order_id"],
                "customer_id": customer_ids(orders["gid"]),
                "channel": np.array(list(self.ref["channels"]))[orders["channel"]],
                "order_status": np.array(STATUSES)[orders["status"]],
                "order_ts": orders["order_ts"],
                "status_updated_at": orders["status_ts"],
                "shipping_state": ship_state,
            },
            "order_items": {
                k: np.concatenate([lines_today[k], lines_prev[k]])
                for k in ("order_id", "line_number", "product_id", "quantity", "unit_price", "discount_amount")
            },
            "payments": {
                k: np.concatenate([pay_today[k], pay_prev[k]])
                for k in ("payment_id", "order_id", "payment_method", "amount", "paid_at")
            },
            "store_sales": {k: sales[k] for k in self.contract.feed("store_sales").column_names},
            "inventory_snapshots": self.inventory(day),
        }
        return {feed: self._with_duplicates(feed, day, self._to_arrow(feed, cols)) for feed, cols in tables.items()}

    def _version_on(self, gid: NDArray[np.int64], day: NDArray[np.int64]) -> NDArray[np.int64]:
        c1, c2 = self.change_days(gid, self.cohort_of(gid))
        return (c1 <= day).astype(np.int64) + (c2 <= day)

    def _to_arrow(self, feed: str, cols: dict[str, Any]) -> pa.Table:
        arrays = []
        spec = self.contract.feed(feed)
        for col in spec.columns:
            values = cols[col.name]
            if col.type == "timestamp":
                arr = pa.array(np.asarray(values, dtype="datetime64[s]"))
            elif col.type == "date":
                arr = pa.array(np.asarray(values, dtype="datetime64[s]").astype("datetime64[D]"))
            elif col.type == "decimal":
                arr = pa.array(np.round(np.asarray(values, dtype=np.float64), 2)).cast(pa.decimal128(14, 2))
            elif col.type == "integer":
                arr = pa.array(np.asarray(values, dtype=np.int64))
            elif col.type == "boolean":
                arr = pa.array(np.asarray(values, dtype=bool))
            else:
                arr = pa.array(np.asarray(values, dtype=str))
                if col.nullable:
                    arr = pa.compute.if_else(pa.compute.equal(arr, ""), pa.scalar(None, pa.string()), arr)
            arrays.append(arr)
        return pa.Table.from_arrays(arrays, names=spec.column_names)

    def _with_duplicates(self, feed: str, day: int, table: pa.Table) -> pa.Table:
        share = self.delivery["duplicate_share"]
        n = table.num_rows
        if share <= 0 or n == 0:
            return table
        k = max(1, int(round(n * share)))
        feed_no = list(self.contract.feeds).index(feed)
        picks = (hash64(self.seed, Stream.DUPLICATE, day, feed_no, np.arange(k)) % np.uint64(n)).astype(np.int64)
        # each copy goes right after a random later row, so duplicates are not adjacent
        after = picks + (
            hash64(self.seed, Stream.DUPLICATE, day, feed_no, np.arange(k), 1) % np.uint64(n - picks)
        ).astype(np.int64)
        order = np.concatenate([np.arange(n), picks])
        position = np.concatenate([np.arange(n, dtype=np.float64), after + 0.5])
        return table.take(order[np.argsort(position, kind="stable")])


def customer_ids(gid: NDArray[np.int64]) -> NDArray[np.str_]:
    return np.char.add("C", _zfill(np.asarray(gid) + 1, 9))


def product_ids(pid: NDArray[np.int64]) -> NDArray[np.str_]:
    return np.char.add("P", _zfill(np.asarray(pid) + 1, 6))


def _zfill(numbers: NDArray[np.int64], width: int) -> NDArray[np.str_]:
    """Zero-padded decimal strings; also for an empty array (a day without orders at tiny scales)."""
    if numbers.size == 0:
        return np.zeros(0, dtype=f"<U{width}")
    return np.char.zfill(numbers.astype(str), width)
