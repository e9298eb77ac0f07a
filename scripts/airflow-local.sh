#!/usr/bin/env bash
# Run the KAM DAGs locally with Airflow's SQLite metadata DB under <repo>/.state/airflow (git-ignored).
#
#   scripts/airflow-local.sh up                             # start the real services (see below), print URL + login
#   scripts/airflow-local.sh down                           # stop every service `up` started, cleanly
#   scripts/airflow-local.sh status                         # which services run (pid, log file)
#   scripts/airflow-local.sh setup                          # migrate the metadata DB, create the pool
#   scripts/airflow-local.sh test <dag_id> <YYYY-MM-DD>     # setup + `airflow dags test`
#   scripts/airflow-local.sh demo <landing_dir> <warehouse_dir>
#       setup + ingest_crm, ingest_billing, kam_nightly for the latest complete landing day + summary
#   scripts/airflow-local.sh <any airflow sub-command ...>  # e.g. `tasks list kam_nightly`
#
# `up` starts api-server, scheduler, dag-processor and triggerer bound to 127.0.0.1 with LocalExecutor,
# parallelism sized for the host (2 x cores, at most 8; AIRFLOW__CORE__PARALLELISM overrides), no log
# servers (--skip-serve-logs; the api-server reads the local task logs) and unchanged DAG files re-parsed
# every 10 min (AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL overrides). Port: KAM_AIRFLOW_PORT (8080).
# KAM_LANDING_DIR / KAM_WAREHOUSE_DIR select the data (demo sets them from its arguments).
set -euo pipefail
# what the services create (AIRFLOW_HOME, its SQLite metadata DB with the connections, service and task
# logs) is the pipeline user's only; the warehouse shares serving with a group explicitly (permissions.py)
umask 077

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_BIN="${KAM_VENV_BIN:-$REPO/.venv/bin}"
STATE="$REPO/.state"

export AIRFLOW_HOME="${AIRFLOW_HOME:-$STATE/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$REPO/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-sqlite:///$AIRFLOW_HOME/airflow.db}"
export AIRFLOW__CORE__EXECUTOR="${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}"
export DBT_SEND_ANONYMOUS_USAGE_STATS=False
export DO_NOT_TRACK=1
export SCARF_ANALYTICS=false
# task logs private to the pipeline's user (Airflow's defaults are group-writable 0o775 / 0o664): they
# carry the steps' messages, file names and row numbers of the extracts (docs/operations.md, permissions)
export AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FOLDER_PERMISSIONS=0o700
export AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FILE_PERMISSIONS=0o600
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"

POOL=kam_warehouse
POOL_DESCRIPTION="KAM build warehouse (DuckDB): one writer at a time"
SERVICES=(api-server scheduler dag-processor triggerer)
PORT="${KAM_AIRFLOW_PORT:-8080}"
RUN_DIR="$AIRFLOW_HOME/run"

airflow() { "$VENV_BIN/airflow" "$@"; }

ensure_manifest() {
    # kam_nightly's layer tasks come from the dbt manifest, read at parse time and never built there: a
    # fresh checkout has none (`make airflow` builds it; this covers calling the script directly)
    if [[ ! -f "$REPO/dbt_project/target/manifest.json" ]]; then
        echo "building the dbt manifest the nightly DAG reads (kam manifest) ..." >&2
        "$VENV_BIN/kam" manifest >/dev/null
    fi
}

setup() {
    ensure_manifest
    mkdir -p "$AIRFLOW_HOME"
    airflow db migrate >/dev/null
    airflow pools set "$POOL" 1 "$POOL_DESCRIPTION" >/dev/null
}

latest_day() {
    "$VENV_BIN/python" -m kam_warehouse.orchestration.landing_days latest "$KAM_LANDING_DIR"
}

service_env() {
    local cores
    cores="$(nproc 2>/dev/null || echo 2)"
    export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-$(( cores * 2 > 8 ? 8 : cores * 2 ))}"
    export AIRFLOW__CORE__AUTH_MANAGER="${AIRFLOW__CORE__AUTH_MANAGER:-airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager}"
    export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:-admin:admin}"
    export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$PORT/execution/"
    export AIRFLOW__API__HOST=127.0.0.1
    export AIRFLOW__API__PORT="$PORT"
    export AIRFLOW__API__BASE_URL="http://127.0.0.1:$PORT"
    export AIRFLOW__API__WORKERS="${AIRFLOW__API__WORKERS:-1}"
    export AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK=False
    # re-parse an unchanged DAG file every 10 min, not every 30 s: on a 2-core host the periodic parses
    # (a process per file, ~0.5-3 s each) take CPU from the night; an edited file is still re-parsed at
    # once (file_parsing_sort_mode modified_time), and the layer tasks read the dbt manifest when they run
    export AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="${AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL:-600}"
    preload_settings
}

preload_settings() {
    # the LocalExecutor forks workers from the scheduler and tasks from workers: importing Airflow's task
    # runner once in the scheduler (airflow_local_settings, kam_warehouse/orchestration/preload.py) spares
    # every worker's first task ~2-10 s. Skipped when AIRFLOW_HOME has its own airflow_local_settings
    # or KAM_AIRFLOW_NO_PRELOAD is set. docker-compose.yml's entrypoint writes the same module.
    [[ -e "$AIRFLOW_HOME/config/airflow_local_settings.py" || -n "${KAM_AIRFLOW_NO_PRELOAD:-}" ]] && return
    mkdir -p "$RUN_DIR/preload"
    printf '%s\n' '"""Written by scripts/airflow-local.sh: warm imports for the forked task processes."""' \
        'from kam_warehouse.orchestration.preload import preload' 'preload()' \
        >"$RUN_DIR/preload/airflow_local_settings.py"
    export PYTHONPATH="$RUN_DIR/preload:$PYTHONPATH"
}

pid_of() { cat "$RUN_DIR/$1.pid" 2>/dev/null || true; }
alive() { [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; }

start_service() {
    local name="$1"; shift
    if alive "$(pid_of "$name")"; then
        echo "$name already running (pid $(pid_of "$name"))"; return
    fi
    # own session and process group: `down` stops the service with all its children, nothing else
    setsid "$VENV_BIN/airflow" "$name" "$@" >"$RUN_DIR/$name.log" 2>&1 < /dev/null &
    echo $! >"$RUN_DIR/$name.pid"
}

wait_ready() {
    local deadline=$(( SECONDS + ${KAM_AIRFLOW_START_TIMEOUT:-180} ))
    until "$VENV_BIN/python" - "$PORT" <<'PY' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/v2/monitor/health", timeout=5)
PY
    do
        for name in "${SERVICES[@]}"; do
            alive "$(pid_of "$name")" || { echo "airflow $name exited; see $RUN_DIR/$name.log" >&2; tail -n 20 "$RUN_DIR/$name.log" >&2; down; exit 1; }
        done
        (( SECONDS < deadline )) || { echo "api-server not ready after ${KAM_AIRFLOW_START_TIMEOUT:-180} s; see $RUN_DIR/api-server.log" >&2; down; exit 1; }
        sleep 1
    done
}

login() {
    "$VENV_BIN/python" - "$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated" <<'PY'
import json, sys
try:
    users = json.load(open(sys.argv[1]))
except OSError:
    users = {}
print(", ".join(f"{u} / {p}" for u, p in users.items()) or "see the api-server log")
PY
}

require_pii_key() {
    # the dbt step hashes contact data with KAM_PII_KEY; `make airflow` passes .state/pii.key
    if [[ -z "${KAM_PII_KEY:-}" && "${KAM_ENV:-}" != demo && "${KAM_ENV:-}" != test ]]; then
        if [[ -f "$STATE/pii.key" ]]; then
            KAM_PII_KEY="$(cat "$STATE/pii.key")"; export KAM_PII_KEY
        else
            echo "KAM_PII_KEY is not set (the nightly's dbt step needs it): export it, or use \`make airflow\`" >&2
            exit 2
        fi
    fi
}

up() {
    require_pii_key
    setup
    service_env
    mkdir -p "$RUN_DIR"
    start_service api-server --host 127.0.0.1 --port "$PORT"
    start_service scheduler --skip-serve-logs
    start_service dag-processor
    start_service triggerer --skip-serve-logs
    wait_ready
    echo "Airflow is up: http://127.0.0.1:$PORT  (login: $(login))"
    echo "  LocalExecutor, parallelism $AIRFLOW__CORE__PARALLELISM; AIRFLOW_HOME $AIRFLOW_HOME; service logs $RUN_DIR/*.log"
    echo "  stop with: scripts/airflow-local.sh down"
}

down() {
    local name pid waited
    for name in "${SERVICES[@]}"; do
        pid="$(pid_of "$name")"
        if alive "$pid"; then kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; fi
    done
    for name in "${SERVICES[@]}"; do
        pid="$(pid_of "$name")"
        waited=0
        while alive "$pid" && (( waited < 300 )); do sleep 0.1; waited=$(( waited + 1 )); done
        if alive "$pid"; then
            echo "airflow $name (pid $pid) did not stop in 30 s: killing its process group" >&2
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
        # children left in the group (task runners, gunicorn workers) go with it
        kill -KILL -- "-$pid" 2>/dev/null || true
        rm -f "$RUN_DIR/$name.pid"
        [[ -z "$pid" ]] || echo "stopped airflow $name (pid $pid)"
    done
}

status() {
    local name pid
    for name in "${SERVICES[@]}"; do
        pid="$(pid_of "$name")"
        if alive "$pid"; then echo "$name running (pid $pid, log $RUN_DIR/$name.log)"; else echo "$name stopped"; fi
    done
}

case "${1:-}" in
    up)
        up ;;
    down)
        down ;;
    status)
        status ;;
    setup)
        setup ;;
    test)
        [[ $# -eq 3 ]] || { echo "usage: $0 test <dag_id> <YYYY-MM-DD>" >&2; exit 2; }
        setup
        airflow dags test "$2" "$3" ;;
    demo)
        [[ $# -eq 3 ]] || { echo "usage: $0 demo <landing_dir> <warehouse_dir>" >&2; exit 2; }
        KAM_LANDING_DIR="$(cd "$2" && pwd)"; export KAM_LANDING_DIR
        mkdir -p "$3"; KAM_WAREHOUSE_DIR="$(cd "$3" && pwd)"; export KAM_WAREHOUSE_DIR
        setup
        day="$(latest_day)"
        for dag_id in ingest_crm ingest_billing kam_nightly; do
            echo "== airflow dags test $dag_id $day"
            airflow dags test "$dag_id" "$day" >"$AIRFLOW_HOME/demo-$dag_id.log" 2>&1 \
                || { tail -n 40 "$AIRFLOW_HOME/demo-$dag_id.log" >&2; echo "$dag_id failed; full log: $AIRFLOW_HOME/demo-$dag_id.log" >&2; exit 1; }
        done
        "$VENV_BIN/python" -m kam_warehouse.orchestration.landing_days summary "$KAM_WAREHOUSE_DIR" ;;
    ""|-h|--help)
        sed -n '2,17p' "$0" ;;
    *)
        airflow "$@" ;;
esac
