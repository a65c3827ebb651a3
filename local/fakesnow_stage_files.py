"""Where the local Snowflake stand-in keeps the files PUT into its internal stages.

fakesnow 0.12 keeps them under a folder it makes with ``tempfile.mkdtemp`` when it is imported,
and never removes it. Every stand-in server and every test process left one in the system's
temporary folder: 46 of them, 1.4 GB, on a build host after two days (one ``make bench`` history
case alone left 1.3 GB).

Here the server keeps them in the stack's state folder, beside its databases. They go with
``make clean``, and they survive a restart, as a Snowflake stage does. The in-process warehouse of
the tests (local/history.py) keeps them in a temporary folder that is removed at its end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from fakesnow.transforms import stage

_MADE_AT_IMPORT = stage.LOCAL_BUCKET_PATH


def _use(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    before, stage.LOCAL_BUCKET_PATH = stage.LOCAL_BUCKET_PATH, str(folder.resolve())
    with suppress(OSError):  # the empty folder fakesnow made at import (not if something is in it)
        os.rmdir(_MADE_AT_IMPORT)
    return before


def keep_in(folder: Path) -> None:
    """Stage files under ``folder`` from now on, for the rest of this process (the server)."""
    _use(folder)


@contextmanager
def kept_in(folder: Path) -> Iterator[Path]:
    """Stage files under ``folder`` inside the block; the previous folder again afterwards."""
    before = _use(folder)
    try:
        yield folder
    finally:
        stage.LOCAL_BUCKET_PATH = before
