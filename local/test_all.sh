#!/usr/bin/env bash
# make test-all's pytest part, three processes side by side:
# - the unit and DAG tests (they need no stack);
# - the integration modules on the first private stack (var/test-stack, ports from 18180);
# - the modules marked second_stack on a second private stack (var/test-stack-2, ports from 38180).
# A daily run spends much of its time waiting (sensors' pokes, retry delays, a killed service's
# restart, a browser), so two stacks share the two cores better than one. Each process has its
# own state directory and ports: a unit test that starts a throw-away service, or a module that
# kills its stack's scheduler, never touches another's. Modules marked every_stack (the secret
# scan) run on both stacks, after the others.
# OpenLineage events cost task CPU and only the smoke module (second stack) reads them: the first
# stack and the unit tier run with RCT_LINEAGE=off.
# All three reports are printed; the command fails if any fails.
set -uo pipefail
PY=${1:-.venv/bin/python}
mkdir -p var

ports() {  # ports() BASE: the RCT_*_PORT variables of a stack whose ports start at BASE
  local b=$1
  echo "RCT_AIRFLOW_PORT=$((b)) RCT_S3_PORT=$((b + 1)) RCT_SNOWFLAKE_PORT=$((b + 2)) RCT_SMTP_PORT=$((b + 3))" \
    "RCT_POSTGRES_PORT=$((b + 4)) RCT_REDIS_PORT=$((b + 5)) RCT_TASK_LOG_PORT=$((b + 6))" \
    "RCT_TRIGGER_LOG_PORT=$((b + 7)) RCT_SCHEDULER_HEALTH_PORT=$((b + 8))"
}

# shellcheck disable=SC2046 # word splitting of the port assignments is intended
env RCT_LINEAGE=off RCT_STATE_DIR="$PWD/var/test-unit-stack" $(ports 28180) \
  "$PY" -m pytest -m "not integration" --junitxml=var/test-unit-report.xml >var/test-unit.log 2>&1 &
unit=$!
# shellcheck disable=SC2046
env RCT_STATE_DIR="$PWD/var/test-stack-2" $(ports 38180) \
  "$PY" -m pytest -m "second_stack or every_stack" --durations=10 --junitxml=var/test-all-2-report.xml \
  >var/test-integration-2.log 2>&1 &
second=$!
# shellcheck disable=SC2046
env RCT_LINEAGE=off $(ports 18180) "$PY" -m pytest -m "integration and not second_stack" --durations=10 \
  --junitxml=var/test-all-report.xml
first=$?
wait "$second"
second_rc=$?
wait "$unit"
unit_rc=$?
echo
echo "=================== integration modules on the second stack (var/test-integration-2.log) ==================="
cat var/test-integration-2.log
echo
echo "=================== unit and DAG tests (run alongside, var/test-unit.log) ==================="
cat var/test-unit.log
if [ "$first" -ne 0 ] || [ "$second_rc" -ne 0 ] || [ "$unit_rc" -ne 0 ]; then
  echo "make test-all: FAILED (first stack exit $first, second stack exit $second_rc, unit tier exit $unit_rc)" >&2
  exit 1
fi
