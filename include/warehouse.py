"""One way to run several statements as one Snowflake transaction through a provider hook."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def transaction(hook: Any) -> Iterator[Any]:
    """A cursor inside ``begin`` ... ``commit`` on a connection of its own.

    If the block raises, the connection is closed without a commit, which rolls the transaction
    back (Snowflake and the local stand-in alike), and the error propagates.
    """
    conn = hook.get_conn()
    try:
        cur = conn.cursor()
        cur.execute("begin")
        yield cur
        cur.execute("commit")
    finally:
        conn.close()
