"""Counter-based randomness: every random value is a pure function of (seed, stream, keys).

A day's files never depend on which date range was requested because nothing is drawn from a
sequential generator whose state would carry from one day to the next: customer ``g`` ordering on
day ``d`` is decided by ``uniform(seed, ORDER, g, d)``, the same number whoever asks.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_TO_UNIT = 1.0 / float(1 << 53)


class Stream(IntEnum):
    """One stream per independent random quantity; add at the end to keep old values stable."""

    COHORT_SIZE = 1
    SEGMENT = 2
    FREQUENCY_A = 3
    FREQUENCY_B = 4
    LIFETIME_A = 5
    LIFETIME_B = 6
    ORDER = 7
    ORDER_TIME = 8
    CHANNEL = 9
    STATUS_UPDATE = 10
    STATUS_KIND = 11
    STATUS_DELAY = 12
    RETURN = 13
    LATE = 14
    LINES = 15
    PRODUCT = 16
    QUANTITY = 17
    DISCOUNT = 18
    SPLIT_PAYMENT = 19
    PAYMENT_METHOD = 20
    CHANGE_GAP = 21
    ADDRESS = 22
    SEGMENT_CHANGE = 23
    NAME = 24
    CATALOG = 25
    PRICE = 26
    STORE = 27
    STORE_TX = 28
    LOYALTY = 29
    INVENTORY = 30
    DUPLICATE = 31
    CALIBRATION = 32
    SIGNUP_TIME = 33
    FAULT = 34


def _mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """splitmix64 finaliser: a bijective, well-avalanched scramble of 64-bit integers."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def hash64(seed: int, stream: Stream, *keys: ArrayLike) -> NDArray[np.uint64]:
    """Hash (seed, stream, keys...) to uint64; keys broadcast against each other like numpy."""
    with np.errstate(over="ignore"):
        h = _mix(np.asarray([(seed & 0xFFFFFFFF) << 8 | int(stream)], dtype=np.uint64) * _GOLDEN)
        for key in keys:
            k = np.asarray(key).astype(np.int64).astype(np.uint64)
            h = _mix(h ^ (k * _GOLDEN + np.uint64(0x632BE59BD9B4E019)))
    return h


def uniform(seed: int, stream: Stream, *keys: ArrayLike) -> NDArray[np.float64]:
    """Uniform floats in [0, 1)."""
    return (hash64(seed, stream, *keys) >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def normal(seed: int, stream_a: Stream, stream_b: Stream, *keys: ArrayLike) -> NDArray[np.float64]:
    """Standard normal draws by Box-Muller from two independent uniform streams."""
    u1 = 1.0 - uniform(seed, stream_a, *keys)  # (0, 1]: log is finite
    u2 = uniform(seed, stream_b, *keys)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def choice(u: NDArray[np.float64], weights: ArrayLike) -> NDArray[np.intp]:
    """Map uniforms to category indices with the given (unnormalised) weights."""
    w = np.asarray(weights, dtype=np.float64)
    cdf = np.cumsum(w) / w.sum()
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(w) - 1)
