"""Test-wide settings, loaded before any test module imports local.stack."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# The integration tests run their own stack: own state and ports, never a developer's stack.
os.environ.setdefault("RCT_STATE_DIR", str(REPO / "var" / "test-stack"))
for name, port in (("AIRFLOW", 18180), ("S3", 19180), ("SNOWFLAKE", 19181), ("SMTP", 19182), ("POSTGRES", 19183)):
    os.environ.setdefault(f"RCT_{name}_PORT", str(port))
# A user without a role: the Control Tower must refuse them (tests/integration/test_control_tower.py).
os.environ.setdefault("RCT_AIRFLOW_USERS", "admin:admin,viewer:viewer,norole:")
# A scheduled run is "late" at once (the deadline alert is asserted), retries come quickly.
os.environ.setdefault("RETAIL_DEADLINE_HOURS", "0")
os.environ.setdefault("RETAIL_RETRY_DELAY_SECONDS", "10")
