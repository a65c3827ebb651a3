"""One way to try an action again: after each of a list of pauses, then give up with the last
error. Used by the run-log writer (include/audit.py) and the alert delivery
(include/alerts/delivery.py); the action must be safe to repeat."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class GaveUp(Exception):
    """The action failed on every try; ``cause`` is the last error."""

    def __init__(self, what: str, tries: int, cause: BaseException) -> None:
        super().__init__(f"{what}: gave up after {tries} tries: {type(cause).__name__}: {cause}")
        self.tries, self.cause = tries, cause


def with_retries(
    what: str,
    action: Callable[[], T],
    delays: Sequence[float],
    *,
    sleep: Callable[[float], None] = time.sleep,
    logger: logging.Logger = log,
) -> tuple[T, int]:
    """``action()``, and again after each of ``delays`` while it raises. Returns its result and the
    number of tries; raises :class:`GaveUp` after the last."""
    for attempt, delay in enumerate((*delays, None), start=1):
        try:
            return action(), attempt
        except Exception as exc:
            if delay is None:
                raise GaveUp(what, attempt, exc) from exc
            logger.warning("%s failed (try %d: %s: %s); again in %g s", what, attempt, type(exc).__name__, exc, delay)
            sleep(delay)
    raise AssertionError("unreachable")
