"""Ingestion steps for one feed and business date: validate, load BRONZE, archive.

Each step is its own task in the daily DAG (``ingest_<feed>.validate_file`` -> ``load_bronze``
-> ``archive_file``), handing a small :class:`FileOutcome` to the next through XCom. Each takes
the S3 and Snowflake provider hooks it needs, so the DAG stays thin and the tests can drive the
same code against the local stack. Values that end up in SQL (feed, date,
file name) come from the contract and a strict file-name pattern, never from file contents.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from include import warehouse
from include.config import LANDING, MAX_REJECT_SHARE, WAREHOUSE
from include.contracts import load_contract
from include.ingest.validation import FileRejected, expected_file_name, parse_file_name, validate_file
from include.sql_render import render_sql, statements
from include.warehouse import transaction

log = logging.getLogger(__name__)


@dataclass
class FileOutcome:
    """What validation decided for one feed file; small enough for XCom."""

    feed: str
    business_date: str
    file_name: str
    source_key: str
    from_inbox: bool
    md5: str
    action: str  # "load" | "already_loaded"
    rows_in_file: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    staged_path: str | None = None  # relative to the stage root / staging prefix
    rejects_path: str | None = None
    warnings: list[str] | None = None
    force_reload: bool = False  # the run asked to load even content already loaded

    def to_xcom(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_xcom(cls, value: dict[str, Any]) -> FileOutcome:
        return cls(**value)

    def record(self, sf: Any, status: str, run_id: str, *, new_delivery: bool, **extra: Any) -> None:
        """Write this file's row in the AUDIT.FILE_LOADS ledger."""
        record_file(
            sf,
            new_delivery=new_delivery,
            feed=self.feed,
            batch_date=self.business_date,
            file_name=self.file_name,
            file_md5=self.md5,
            status=status,
            source_key=self.source_key,
            run_id=run_id,
            **extra,
        )


def candidate_keys(feed: str, day: date) -> list[str]:
    """Where a date's file can be: the inbox (new delivery) or history (re-run of the date)."""
    name = expected_file_name(feed, day)
    return [LANDING.inbox_key(name), LANDING.history_key(feed, day, name)]


def _read(s3: Any, key: str) -> bytes:
    # through the hook's client: S3Hook.get_key builds a boto3 resource, a second session that
    # loads the S3 service model again (a third of an ingestion task's CPU on the local stack)
    return s3.get_conn().get_object(Bucket=LANDING.bucket, Key=key)["Body"].read()


def _exists(s3: Any, key: str) -> bool:
    return bool(s3.check_for_key(key, LANDING.bucket))


def record_file(sf: Any, *, new_delivery: bool, **row: Any) -> None:
    fields = {
        "reason": None,
        "source_key": None,
        "rows_in_file": None,
        "rows_loaded": None,
        "rows_rejected": None,
        "run_id": None,
        **row,
        "new_delivery": int(new_delivery),
    }
    sf.run(render_sql("audit/record_file.sql"), parameters=fields)


def _move_aside(s3: Any, key: str, target: str, note: dict[str, Any], *, delete_source: bool) -> None:
    """Copy ``key`` to ``target`` with a ``.reason.json`` note beside it, then delete the source.

    Copy and note first, delete last: a failure in between leaves the file where it was, so a
    retry finds it again (nothing is lost; at worst it is copied twice to the same target).
    """
    s3.copy_object(
        source_bucket_key=key,
        dest_bucket_key=target,
        source_bucket_name=LANDING.bucket,
        dest_bucket_name=LANDING.bucket,
    )
    note = {**note, "quarantined_at": datetime.now(UTC).isoformat(timespec="seconds")}
    s3.load_string(json.dumps(note, indent=2), f"{target}.reason.json", LANDING.bucket, replace=True)
    if delete_source:
        s3.delete_objects(LANDING.bucket, [key])


def quarantine(
    s3: Any, key: str, feed: str, day: date, file_name: str, reason: str, run_id: str, target: str | None = None
) -> str:
    """Move (or, for an archived file, copy) ``key`` to quarantine with a reason file beside it
    (at the date's quarantine key of ``file_name`` unless ``target`` names another)."""
    target = target or LANDING.quarantine_key(feed, day, file_name)
    note = {
        "file": file_name,
        "source_key": key,
        "feed": feed,
        "business_date": day.isoformat(),
        "reason": reason,
        "run_id": run_id,
    }
    _move_aside(s3, key, target, note, delete_source=key.startswith(f"{LANDING.inbox}/"))
    log.error("quarantined %s -> %s: %s", key, target, reason)
    return target


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324 - a content fingerprint, not security


def _stale_key(feed: str, day: date, file_name: str) -> str:
    """Beside the date's quarantine, never over an earlier quarantined file of that name."""
    return f"{LANDING.quarantine_key(feed, day, file_name)}.stale-{datetime.now(UTC):%Y%m%dT%H%M%S}"


def _quarantine_stale(s3: Any, key: str, feed: str, day: date, file_name: str, run_id: str) -> str:
    """Move an older version of the date's file, sent again, aside; return the reason."""
    target = _stale_key(feed, day, file_name)
    reason = (
        f"an older version of {file_name}, loaded for {day} before and since replaced by the file in history: "
        f"not loaded again, BRONZE keeps the current version; moved to {target}. To go back to this "
        "version, move it into the inbox and re-run the date with force_reload"
    )
    quarantine(s3, key, feed, day, file_name, reason, run_id, target=target)
    return reason


def validate_feed_file(s3: Any, sf: Any, feed: str, day: date, run_id: str, force_reload: bool = False) -> FileOutcome:
    """Validate the date's file; stage accepted rows and rejects for COPY, or quarantine it.

    Raises FileRejected (after quarantining) when the file fails as a whole.
    """
    inbox_key, history_key = candidate_keys(feed, day)
    from_inbox = _exists(s3, inbox_key)
    key = inbox_key if from_inbox else history_key
    if not from_inbox and not _exists(s3, history_key):
        raise FileNotFoundError(f"no {feed} file for {day}: neither {inbox_key} nor {history_key} exists")
    name = key.rsplit("/", 1)[1]
    data = _read(s3, key)
    md5 = _md5(data)
    outcome = FileOutcome(feed, day.isoformat(), name, key, from_inbox, md5, "load", force_reload=force_reload)

    if (loaded := _already_loaded(sf, outcome)) and not force_reload:
        # the archived copy's checksum, when this file came from the inbox (ETag first: no download
        # when it is the same file; a multipart ETag is no MD5, so then the copy is read)
        archived = None
        if from_inbox and _exists(s3, history_key):
            archived = md5 if _same_content(s3, history_key, md5) else _md5(_read(s3, history_key))
        if loaded[3] and archived not in (None, md5):
            # Loaded once, then replaced by a later delivery, now in history: the older one sent
            # again. (A retry of the latest load whose archive step failed is not replaced.)
            reason = _quarantine_stale(s3, key, feed, day, name, run_id)
            raise FileRejected(reason)
        outcome.action = "already_loaded"
        outcome.rows_accepted, outcome.rows_rejected, outcome.rows_in_file = loaded[:3]
        log.info("%s for %s (md5 %s) is already loaded: nothing to load", name, day, md5)
        # In the inbox although loaded and archived before: delivered again; count it, load nothing.
        # (Not archived yet: a retry after a failed archive step, not a new delivery.)
        if archived == md5:
            outcome.record(sf, "LOADED", run_id, new_delivery=True)
        return outcome

    try:
        result = validate_file(data, name, feed, day, MAX_REJECT_SHARE)
    except FileRejected as exc:
        quarantine(s3, key, feed, day, name, exc.reason, run_id)
        outcome.record(sf, "QUARANTINED", run_id, new_delivery=from_inbox, reason=exc.reason)
        raise

    outcome.staged_path = LANDING.staging_path(feed, day, name)
    s3.load_bytes(result.accepted_csv, f"{LANDING.staging}/{outcome.staged_path}", LANDING.bucket, replace=True)
    if result.rejects:
        outcome.rejects_path = LANDING.staging_path(feed, day, f"rejects_{name}")
        s3.load_bytes(result.rejects_csv(), f"{LANDING.staging}/{outcome.rejects_path}", LANDING.bucket, replace=True)
    outcome.rows_in_file = result.rows_in_file
    outcome.rows_accepted = result.rows_accepted
    outcome.rows_rejected = result.rows_rejected
    outcome.warnings = result.warnings
    for warning in result.warnings:
        log.warning("%s: %s", name, warning)
    log.info(
        "%s: %d rows, %d accepted, %d rejected", name, result.rows_in_file, result.rows_accepted, result.rows_rejected
    )
    return outcome


def _put_into_internal_stage(s3: Any, cursor: Any, staged_path: str) -> None:
    """Local stack only: copy a staged object into the internal stage with PUT."""
    folder, name = staged_path.rsplit("/", 1)
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / name
        local.write_bytes(_read(s3, f"{LANDING.staging}/{staged_path}"))
        warehouse.put_file(cursor, local, f"{WAREHOUSE.stage_ref}/{folder}")


def _already_loaded(sf: Any, outcome: FileOutcome) -> tuple[int, int, int, int] | None:
    """(rows accepted, rejected, in file, contents loaded after it) when this exact content is
    already loaded for its date."""
    row = sf.get_first(
        render_sql("audit/file_already_loaded.sql"),
        parameters={"feed": outcome.feed, "day": outcome.business_date, "md5": outcome.md5},
    )
    return tuple(int(v or 0) for v in row) if row else None  # type: ignore[return-value]


def _report_lineage(sf: Any, outcome: FileOutcome, table: str) -> None:
    """The staged file in, the BRONZE table out, to Airflow's hook lineage (what OpenLineage
    reports for this Python task, when a transport is configured), in the namespace the SQL tasks
    use for the same account. Lineage never fails a load."""
    from airflow.sdk.lineage import NoOpCollector, get_hook_lineage_collector

    collector = get_hook_lineage_collector()
    if isinstance(collector, NoOpCollector):  # no lineage reader: OpenLineage is off
        return
    try:
        key = f"{LANDING.staging}/{outcome.staged_path}"
        collector.add_input_asset(context=sf, scheme="s3", asset_kwargs={"bucket": LANDING.bucket, "key": key})
        authority = sf.get_openlineage_database_info(sf.get_connection(sf.get_conn_id())).authority
        collector.add_output_asset(
            context=sf, uri=f"snowflake://{authority}/{WAREHOUSE.database}/{WAREHOUSE.bronze}/{table}"
        )
    except Exception:  # noqa: BLE001
        log.warning("the lineage of %s was not reported", outcome.file_name, exc_info=True)


def load_bronze(s3: Any, sf: Any, outcome: FileOutcome, run_id: str) -> dict[str, Any]:
    """Replace the feed's BRONZE partition for the date with the validated file, atomically.

    Nothing to do when validation found the content already loaded, or when this step is
    re-run after it committed (cleared alone in the UI): the ledger already has the file.
    """
    with warehouse.one_connection(sf):  # the ledger look-up, the load and the ledger row: one login
        return _load_bronze(s3, sf, outcome, run_id)


def _load_bronze(s3: Any, sf: Any, outcome: FileOutcome, run_id: str) -> dict[str, Any]:
    if outcome.action != "load" or (not outcome.force_reload and _already_loaded(sf, outcome)):
        log.info("%s for %s is already loaded: BRONZE unchanged", outcome.file_name, outcome.business_date)
        return {"rows_loaded": 0, "skipped": True, "query_ids": []}
    feed = load_contract().feed(outcome.feed)
    sql = render_sql(
        "bronze/load_feed.sql",
        feed=feed,
        batch_date=outcome.business_date,
        staged_path=outcome.staged_path,
        rejects_path=outcome.rejects_path,
    )
    staged = [p for p in (outcome.staged_path, outcome.rejects_path) if p]
    if missing := [p for p in staged if not _exists(s3, f"{LANDING.staging}/{p}")]:
        raise FileNotFoundError(
            f"the validated rows of {outcome.file_name} are gone from staging ({', '.join(missing)}): "
            "clear validate_file (with downstream) to validate the file again"
        )
    query_ids: list[str] = []
    rows_loaded = 0
    with transaction(sf) as cur:
        if WAREHOUSE.stage_mode == "put":
            for path in staged:
                _put_into_internal_stage(s3, cur, path)
        for statement in statements(sql):
            cur.execute(statement, {"run_id": run_id} if "%(run_id)s" in statement else None)
            query_ids.append(cur.sfqid)
            if statement.lower().startswith(f"copy into {WAREHOUSE.database.lower()}.{WAREHOUSE.bronze.lower()}"):
                rows_loaded = warehouse.rows_loaded(cur)
        if rows_loaded != outcome.rows_accepted:
            raise RuntimeError(
                f"COPY loaded {rows_loaded} rows of {outcome.file_name}, validation accepted "
                f"{outcome.rows_accepted}; rolled back"
            )
    _report_lineage(sf, outcome, feed.table)
    outcome.record(
        sf,
        "LOADED",
        run_id,
        new_delivery=outcome.from_inbox,
        rows_in_file=outcome.rows_in_file,
        rows_loaded=rows_loaded,
        rows_rejected=outcome.rows_rejected,
        reason="; ".join(outcome.warnings or []) or None,  # loaded, with what to tell the partner
    )
    return {
        "rows_loaded": rows_loaded,
        "rows_rejected": outcome.rows_rejected,
        "skipped": False,
        "query_ids": query_ids,
    }


def _same_content(s3: Any, key: str, md5: str) -> bool:
    """Whether the object at ``key`` has this MD5, from its ETag (the MD5 of a single-part upload).

    A multipart ETag never equals an MD5, so such a file counts as different: its older copy is
    kept aside, which is the safe side.
    """
    etag = (s3.head_object(key, LANDING.bucket) or {}).get("ETag", "")
    return etag.strip('"') == md5


def archive(s3: Any, outcome: FileOutcome) -> str:
    """Move a loaded inbox file to history/<feed>/year=/month=/day=/, keeping any older version."""
    day = date.fromisoformat(outcome.business_date)
    target = LANDING.history_key(outcome.feed, day, outcome.file_name)
    if stale := [f"{LANDING.staging}/{p}" for p in (outcome.staged_path, outcome.rejects_path) if p]:
        s3.delete_objects(LANDING.bucket, stale)
    if not outcome.from_inbox:
        return target
    if not _exists(s3, outcome.source_key):
        if _exists(s3, target) and _same_content(s3, target, outcome.md5):
            return target  # moved by an earlier try of this step
        raise FileNotFoundError(f"{outcome.source_key} left the inbox but is not in {target}")
    if _exists(s3, target) and not _same_content(s3, target, outcome.md5):
        older = f"{target}.superseded-{datetime.now(UTC):%Y%m%dT%H%M%S}"
        s3.copy_object(
            source_bucket_key=target,
            dest_bucket_key=older,
            source_bucket_name=LANDING.bucket,
            dest_bucket_name=LANDING.bucket,
        )
        log.warning("%s replaced a different earlier delivery, kept as %s", outcome.file_name, older)
    s3.copy_object(
        source_bucket_key=outcome.source_key,
        dest_bucket_key=target,
        source_bucket_name=LANDING.bucket,
        dest_bucket_name=LANDING.bucket,
    )
    s3.delete_objects(LANDING.bucket, [outcome.source_key])
    return target


def _safe_name(name: str) -> str:
    digest = hashlib.sha1(name.encode("utf-8", "surrogateescape")).hexdigest()[:10]  # noqa: S324
    return f"{re.sub(r'[^A-Za-z0-9._-]', '_', name)[:80]}.{digest}"


def find_unrecognised(s3: Any, day: date) -> list[dict[str, str]]:
    """Inbox files whose names no feed can claim (unknown feed, bad or hostile name).

    Files with a valid name for another date are left for that date's run. Each entry says where
    the file will be quarantined, so on-call can be told before anything moves.
    """
    found = []
    for key in s3.list_keys(LANDING.bucket, prefix=f"{LANDING.inbox}/") or []:
        name = key[len(LANDING.inbox) + 1 :]
        try:
            if "/" in name:
                raise FileRejected(f"nested path {name!r} in the inbox")
            parse_file_name(name)
            continue
        except FileRejected as exc:
            reason = exc.reason
        target = f"{LANDING.quarantine}/_unrecognised/{day:%Y%m%d}/{_safe_name(name)}"
        found.append({"file": name, "key": key, "reason": reason, "quarantined_as": target})
    return found


def quarantine_unrecognised(s3: Any, sf: Any, found: list[dict[str, str]], day: date, run_id: str) -> None:
    """Move files found by ``find_unrecognised`` to quarantine with a reason note; record them."""
    for item in found:
        if not _exists(s3, item["key"]):
            continue  # already moved by an earlier try
        note = {"original_name": item["file"], "reason": item["reason"], "run_id": run_id}
        _move_aside(s3, item["key"], item["quarantined_as"], note, delete_source=True)
        record_file(
            sf,
            new_delivery=True,
            feed="_unrecognised",
            batch_date=day.isoformat(),
            file_name=item["file"][:500],
            # the name, not the content: an unrecognised file is never read
            file_md5=hashlib.md5(item["file"].encode("utf-8", "surrogateescape")).hexdigest(),  # noqa: S324
            status="QUARANTINED",
            reason=item["reason"],
            source_key=item["quarantined_as"],
            run_id=run_id,
        )
        log.error("quarantined unrecognised inbox file %r: %s", item["file"], item["reason"])


def find_late(s3: Any, sf: Any, day: date, dag_id: str) -> list[dict[str, str]]:
    """Inbox files named for a date before ``day`` whose feed that date has already processed.

    A date's run takes its file from the inbox; one that arrives after the run loaded or
    quarantined that feed would wait there unseen. Files of a date whose run is under way are
    left to that run. Each file found is one of:

    - ``duplicate``: the content archived for the date (the same file again): counted, removed;
    - ``late``: new content: recorded ``LATE`` in the ledger once and left in the inbox, where a
      re-run of the date loads it (the delivery it replaces is kept in history);
    - ``stale``: content the date processed before but not its current version (an older
      delivery, or a quarantined file, sent again): moved to quarantine with a reason.
    """
    found = []
    for key in s3.list_keys(LANDING.bucket, prefix=f"{LANDING.inbox}/") or []:
        name = key[len(LANDING.inbox) + 1 :]
        try:
            parsed = parse_file_name(name)
        except FileRejected:
            continue  # find_unrecognised's
        if parsed.business_date >= day:
            continue
        ledger = sf.get_records(
            render_sql("audit/feed_date_ledger.sql"),
            parameters={"feed": parsed.feed, "day": parsed.business_date.isoformat(), "dag_id": dag_id},
        )
        if not ledger or any(int(under_way) for _, _, under_way in ledger):
            continue  # not processed yet, or being processed: its run takes the file
        statuses = {md5: status for md5, status, _ in ledger}
        md5 = hashlib.md5(_read(s3, key)).hexdigest()  # noqa: S324 - a content fingerprint
        if statuses.get(md5) == "LATE":
            continue  # reported when it arrived; waits for a re-run of its date
        history = LANDING.history_key(parsed.feed, parsed.business_date, name)
        if _exists(s3, history) and _same_content(s3, history, md5):
            kind = "duplicate"
        else:
            kind = "stale" if md5 in statuses else "late"
        item = {
            "file": name,
            "key": key,
            "feed": parsed.feed,
            "business_date": parsed.business_date.isoformat(),
            "md5": md5,
            "kind": kind,
            "date_had": ", ".join(sorted(set(statuses.values()))),
            "archived_as": history,
        }
        if kind == "stale":
            item["quarantined_as"] = _stale_key(parsed.feed, parsed.business_date, name)
        found.append(item)
    return found


def settle_late(s3: Any, sf: Any, found: list[dict[str, str]], run_id: str) -> None:
    """Act on the files ``find_late`` classified (after on-call was told about them)."""
    for item in found:
        if not _exists(s3, item["key"]):
            continue  # settled by an earlier try
        row = {"feed": item["feed"], "batch_date": item["business_date"], "file_name": item["file"]}
        if item["kind"] == "duplicate":
            record_file(
                sf,
                new_delivery=True,
                **row,
                file_md5=item["md5"],
                status="LOADED",
                source_key=item["archived_as"],
                run_id=run_id,
            )
            s3.delete_objects(LANDING.bucket, [item["key"]])
            log.info("%s was delivered again after its date was loaded: counted, removed", item["file"])
        elif item["kind"] == "late":
            record_file(
                sf,
                new_delivery=True,
                **row,
                file_md5=item["md5"],
                status="LATE",
                reason=f"arrived after {item['business_date']} was processed; re-run the date to load it",
                source_key=item["key"],
                run_id=run_id,
            )
            log.warning("%s arrived after its date was processed: left in the inbox for a re-run", item["file"])
        else:
            reason = f"sent again after {item['business_date']} was processed; not its current version"
            day = date.fromisoformat(item["business_date"])
            quarantine(s3, item["key"], item["feed"], day, item["file"], reason, run_id, target=item["quarantined_as"])
