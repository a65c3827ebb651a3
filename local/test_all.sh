#!/usr/bin/env bash
# make test-all's pytest part: the unit and DAG tests run in their own process while the
# integration tier starts its stack and drives its runs (the stack's start is mostly waiting on
# services; the unit tier needs none of them). The unit process gets its own state directory and
# ports, so a unit test that starts a throw-away service never touches the integration stack.
# Both reports are printed; the command fails if either tier fails.
set -uo pipefail
PY=${1:-.venv/bin/python}
mkdir -p var
RCT_STATE_DIR="$PWD/var/test-unit-stack" RCT_AIRFLOW_PORT=28180 RCT_S3_PORT=29180 RCT_SNOWFLAKE_PORT=29181 \
  RCT_SMTP_PORT=29182 RCT_POSTGRES_PORT=29183 \
  "$PY" -m pytest -m "not integration" --junitxml=var/test-unit-report.xml >var/test-unit.log 2>&1 &
unit=$!
"$PY" -m pytest -m integration --durations=10 --junitxml=var/test-all-report.xml
integration=$?
wait "$unit"
unit_rc=$?
echo
echo "=================== unit and DAG tests (run alongside, var/test-unit.log) ==================="
cat var/test-unit.log
if [ "$integration" -ne 0 ] || [ "$unit_rc" -ne 0 ]; then
  echo "make test-all: FAILED (integration tier exit $integration, unit tier exit $unit_rc)" >&2
  exit 1
fi
