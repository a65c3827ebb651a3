"""Loading and fingerprinting the simulator's reference configuration."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

DEFAULT_REFERENCE = Path(__file__).with_name("reference.yaml")


@dataclass(frozen=True)
class Reference:
    """The parsed reference configuration plus where it came from and its checksum."""

    raw: dict[str, Any]
    path: str
    checksum: str

    @property
    def epoch(self) -> date:
        return date.fromisoformat(str(self.raw["epoch"]))

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]


def load_reference(path: str | Path | None = None) -> Reference:
    path = Path(path) if path else DEFAULT_REFERENCE
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)  # libyaml: the same result, faster
    _validate(raw)
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str)
    return Reference(raw=raw, path=str(path), checksum=hashlib.md5(canonical.encode()).hexdigest())  # noqa: S324 - fingerprint


def _validate(raw: dict[str, Any]) -> None:
    shares = sum(s["share"] for s in raw["customer_segments"].values())
    if abs(shares - 1.0) > 1e-6:
        raise ValueError(f"customer_segments shares must sum to 1, got {shares}")
    if len(raw["weekday_factors"]) != 7:
        raise ValueError("weekday_factors needs 7 values, Monday to Sunday")
    for key in ("repeat_customer_probability",):
        if not 0 <= raw[key] < 1:
            raise ValueError(f"{key} must be in [0, 1)")
    delivery = raw["delivery"]
    for key in ("late_share", "duplicate_share"):
        if not 0 <= delivery[key] < 0.5:
            raise ValueError(f"delivery.{key} must be in [0, 0.5)")
    lifecycle = raw["order_lifecycle"]
    if lifecycle["max_update_delay_days"] < 4:
        raise ValueError("order_lifecycle.max_update_delay_days must be at least 4")


def flatten(raw: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested config to dotted keys, for comparing two runs' parameters."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out
