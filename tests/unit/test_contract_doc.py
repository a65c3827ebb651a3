"""docs/feeds.md is the rendered contract; the two never drift apart."""

from pathlib import Path

from include.contracts import FEED_NAMES, load_contract, render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "feeds.md"


def test_feeds_doc_is_rendered_from_the_contract() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), "run `make docs` and commit docs/feeds.md"


def test_contract_names_the_eight_feeds_with_keys() -> None:
    assert FEED_NAMES == (
        "customers",
        "products",
        "stores",
        "orders",
        "order_items",
        "payments",
        "store_sales",
        "inventory_snapshots",
    )
    for feed in load_contract().feeds.values():
        assert set(feed.key) <= set(feed.column_names), feed.name
        assert feed.event_time is None or feed.event_time in feed.column_names
