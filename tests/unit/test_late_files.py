"""Files that arrive after their date ran: the sweep's decision for every case (the stack test in
tests/integration/test_ingestion.py runs the duplicate and late cases through the real DAG)."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date
from typing import Any

import pytest

from include.config import LANDING
from include.ingest import pipeline
from include.ingest.validation import FileRejected

DAY = date(2026, 3, 10)  # the sweeping run's business date
EARLIER = date(2026, 3, 8)


class MemoryS3:
    """The S3Hook calls the sweep makes, on a dict of keys."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = dict(objects)

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))

    def check_for_key(self, key: str, bucket: str) -> bool:
        return key in self.objects

    def head_object(self, key: str, bucket: str) -> dict[str, str]:
        return {"ETag": f'"{hashlib.md5(self.objects[key]).hexdigest()}"'}  # noqa: S324 - S3's single-part ETag

    def get_conn(self) -> MemoryS3:  # the boto3 client's calls, on the same dict
        return self

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        return {"Body": io.BytesIO(self.objects[Key])}

    def copy_object(self, source_bucket_key: str, dest_bucket_key: str, **_: Any) -> None:
        self.objects[dest_bucket_key] = self.objects[source_bucket_key]

    def load_string(self, text: str, key: str, bucket: str, replace: bool) -> None:
        self.objects[key] = text.encode()

    def delete_objects(self, bucket: str, keys: list[str]) -> None:
        for key in keys:
            self.objects.pop(key, None)  # S3 deletes a missing key without an error


class Ledger:
    """AUDIT.FILE_LOADS for the sweep: rows by (feed, date), and the rows it records."""

    def __init__(self, rows: dict[tuple[str, str], list[tuple[str, str]]], under_way: set[str] = frozenset()) -> None:
        self.rows, self.under_way, self.recorded = rows, under_way, []

    def get_records(self, sql: str, parameters: dict[str, Any]) -> list[tuple]:
        assert "FILE_LOADS" in sql and "DAG_RUN_LOG" in sql
        running = int(parameters["day"] in self.under_way)
        return [(md5, status, running) for md5, status in self.rows.get((parameters["feed"], parameters["day"]), [])]

    def get_first(self, sql: str, parameters: dict[str, Any]) -> tuple | None:
        assert "FILE_LOADS" in sql and "replaced_since" in sql  # audit/file_already_loaded.sql
        rows = self.rows.get((parameters["feed"], parameters["day"]), [])  # in first-seen order
        loaded = [md5 for md5, status in rows if status == "LOADED"]
        if parameters["md5"] not in loaded:
            return None
        return 1, 0, 1, len(loaded) - 1 - loaded.index(parameters["md5"])

    def run(self, sql: str, parameters: dict[str, Any]) -> None:
        assert "merge into" in sql.lower() and "FILE_LOADS" in sql
        row = {k: parameters[k] for k in ("feed", "batch_date", "file_md5", "status", "new_delivery")}
        self.recorded.append(row)
        rows = dict(self.rows.get((row["feed"], row["batch_date"]), []))
        self.rows[(row["feed"], row["batch_date"])] = list({**rows, row["file_md5"]: row["status"]}.items())


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324


def _name(feed: str, day: date = EARLIER) -> str:
    return f"{feed}_{day:%Y%m%d}.csv"


V1, V2, BAD = b"id\n1\n", b"id\n1\n2\n", b"no header\n"


def _setup() -> tuple[MemoryS3, Ledger]:
    s3 = MemoryS3(
        {
            # archived current versions
            LANDING.history_key("stores", EARLIER, _name("stores")): V1,
            LANDING.history_key("orders", EARLIER, _name("orders")): V2,
            # in the inbox after EARLIER ran
            LANDING.inbox_key(_name("stores")): V1,  # the archived file again
            LANDING.inbox_key(_name("orders")): V1,  # the older delivery again (V2 replaced it)
            LANDING.inbox_key(_name("payments")): V2,  # new content
            LANDING.inbox_key(_name("customers")): V1,  # new content too (no archived copy to match)
            LANDING.inbox_key(_name("products")): V1,  # its date never ran
            LANDING.inbox_key(_name("inventory_snapshots", DAY)): V1,  # the sweeping run's own date
            LANDING.inbox_key(_name("order_items")): BAD,  # the quarantined file sent again
            LANDING.inbox_key(_name("store_sales")): V2,  # reported by an earlier sweep
        }
    )
    e = EARLIER.isoformat()
    ledger = Ledger(
        {
            ("stores", e): [(_md5(V1), "LOADED")],
            ("orders", e): [(_md5(V1), "LOADED"), (_md5(V2), "LOADED")],
            ("payments", e): [(_md5(V1), "LOADED")],
            ("customers", e): [(_md5(V2), "LOADED")],
            ("order_items", e): [(_md5(BAD), "QUARANTINED")],
            ("store_sales", e): [(_md5(V1), "LOADED"), (_md5(V2), "LATE")],
            ("inventory_snapshots", DAY.isoformat()): [(_md5(V2), "LOADED")],
        }
    )
    return s3, ledger


def test_each_late_file_is_classified_by_what_its_date_already_holds() -> None:
    s3, ledger = _setup()
    found = {f["file"]: f["kind"] for f in pipeline.find_late(s3, ledger, DAY, "retail_daily")}
    assert found == {
        _name("stores"): "duplicate",
        _name("orders"): "stale",
        _name("payments"): "late",
        _name("customers"): "late",
        _name("order_items"): "stale",
    }


def test_a_date_being_processed_keeps_its_files() -> None:
    s3, ledger = _setup()
    ledger.under_way = {EARLIER.isoformat()}
    assert pipeline.find_late(s3, ledger, DAY, "retail_daily") == []


def test_settling_counts_the_duplicate_records_the_late_file_and_quarantines_stale_ones() -> None:
    s3, ledger = _setup()
    found = pipeline.find_late(s3, ledger, DAY, "retail_daily")
    pipeline.settle_late(s3, ledger, found, "run-1")
    inbox = {k.rsplit("/", 1)[1] for k in s3.list_keys("", f"{LANDING.inbox}/")}
    # the late files wait for a re-run; the duplicate and the stale ones left; others untouched
    waiting = {_name(f) for f in ("payments", "customers", "products", "store_sales")}
    assert inbox == waiting | {_name("inventory_snapshots", DAY)}
    assert sorted((r["feed"], r["status"], r["new_delivery"]) for r in ledger.recorded) == [
        ("customers", "LATE", 1),
        ("payments", "LATE", 1),
        ("stores", "LOADED", 1),
    ]
    stale = {f["file"]: f["quarantined_as"] for f in found if f["kind"] == "stale"}
    for name, target in stale.items():
        assert target.startswith(LANDING.quarantine_key(name.split("_2")[0], EARLIER, name) + ".stale-")
        assert s3.objects[target] in (V1, BAD)
        assert "not its current version" in json.loads(s3.objects[f"{target}.reason.json"])["reason"]
    # the earlier quarantined copy of the same name is not overwritten
    assert LANDING.quarantine_key("order_items", EARLIER, _name("order_items")) not in s3.objects
    # the next sweep (or a retry of this one) finds nothing more to say or do
    assert pipeline.find_late(s3, ledger, DAY, "retail_daily") == []


def test_a_rerun_quarantines_an_older_version_in_the_inbox_and_keeps_the_current_one() -> None:
    """Re-running the date itself (not the sweep) with the older orders delivery in the inbox."""
    s3, ledger = _setup()
    inbox, history = pipeline.candidate_keys("orders", EARLIER)
    with pytest.raises(FileRejected, match="older version") as rejected:
        pipeline.validate_feed_file(s3, ledger, "orders", EARLIER, "run-2")
    # history keeps the current version; the older one is aside with its reason, nothing recorded
    assert inbox not in s3.objects and s3.objects[history] == V2
    (target,) = [k for k in s3.objects if ".stale-" in k and not k.endswith(".reason.json")]
    assert target.startswith(LANDING.quarantine_key("orders", EARLIER, _name("orders")) + ".stale-")
    assert s3.objects[target] == V1 and target in rejected.value.reason
    assert json.loads(s3.objects[f"{target}.reason.json"])["reason"] == rejected.value.reason
    assert ledger.recorded == []
    # the current version sent again is still a counted delivery that loads nothing
    outcome = pipeline.validate_feed_file(s3, ledger, "stores", EARLIER, "run-2")
    assert outcome.action == "already_loaded"
    assert [(r["feed"], r["status"], r["new_delivery"]) for r in ledger.recorded] == [("stores", "LOADED", True)]


def test_a_rerun_after_the_latest_load_lost_its_archive_step_archives_it() -> None:
    """The newest delivery was loaded but not archived (history still holds the one before it)."""
    s3, ledger = _setup()
    inbox, history = pipeline.candidate_keys("orders", EARLIER)
    s3.objects[inbox] = V2
    s3.objects[history] = V1
    outcome = pipeline.validate_feed_file(s3, ledger, "orders", EARLIER, "run-2")
    assert outcome.action == "already_loaded" and outcome.source_key == inbox
    assert not [k for k in s3.objects if ".stale-" in k]
    assert ledger.recorded == []  # not archived yet: a retry, not a new delivery


class KilledBeforeDelete(MemoryS3):
    """The archive step's process dies after copying the file to history, before the inbox delete."""

    killed = False

    def delete_objects(self, bucket: str, keys: list[str]) -> None:
        if not self.killed and any(k.startswith(f"{LANDING.inbox}/") for k in keys):
            self.killed = True
            raise SystemExit("SIGKILL")
        super().delete_objects(bucket, keys)


@pytest.mark.parametrize("archived_before", [None, V1])
def test_an_archive_step_killed_between_copy_and_delete_archives_once_on_retry(archived_before) -> None:
    inbox, history = pipeline.candidate_keys("payments", DAY)
    staged = f"{LANDING.staging}/payments/{DAY}/run-1.csv"
    s3 = KilledBeforeDelete({inbox: V2, staged: V2, **({history: archived_before} if archived_before else {})})
    outcome = pipeline.FileOutcome(
        feed="payments", business_date=DAY.isoformat(), file_name=_name("payments", DAY), source_key=inbox,
        from_inbox=True, md5=_md5(V2), action="load", staged_path=f"payments/{DAY}/run-1.csv",
    )  # fmt: skip
    with pytest.raises(SystemExit):
        pipeline.archive(s3, outcome)
    assert s3.objects[history] == V2 and inbox in s3.objects  # copied, not yet deleted
    assert pipeline.archive(s3, outcome) == history  # the retry
    assert inbox not in s3.objects and staged not in s3.objects
    assert s3.objects[history] == V2
    kept = [k for k in s3.objects if ".superseded-" in k]
    assert [s3.objects[k] for k in kept] == ([archived_before] if archived_before else [])
