#!/usr/bin/env bash
# Run the KAM DAGs locally with Airflow's SQLite metadata DB under <repo>/.state/airflow (git-ignored).
#
#   scripts/airflow-local.sh setup                          # migrate the metadata DB, create the pool
#   scripts/airflow-local.sh test <dag_id> <YYYY-MM-DD>     # setup + `airflow dags test`
#   scripts/airflow-local.sh demo <landing_dir> <warehouse_dir>
#       setup + ingest_crm, ingest_billing, kam_nightly for the latest complete landing day + summary
#   scripts/airflow-local.sh <any airflow sub-command ...>  # e.g. `tasks list kam_nightly`
#
# KAM_LANDING_DIR / KAM_WAREHOUSE_DIR select the data (demo sets them from its arguments).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_BIN="${KAM_VENV_BIN:-$REPO/.venv/bin}"
STATE="$REPO/.state"

export AIRFLOW_HOME="${AIRFLOW_HOME:-$STATE/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$REPO/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-sqlite:///$AIRFLOW_HOME/airflow.db}"
export AIRFLOW__CORE__EXECUTOR="${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}"
export AIRFLOW__API__SHOW_VERSION_CHECK=False
export DBT_SEND_ANONYMOUS_USAGE_STATS=False
export DO_NOT_TRACK=1
export SCARF_ANALYTICS=false
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"

POOL=kam_warehouse
POOL_DESCRIPTION="KAM build warehouse (DuckDB): one writer at a time"

airflow() { "$VENV_BIN/airflow" "$@"; }

setup() {
    mkdir -p "$AIRFLOW_HOME"
    airflow db migrate >/dev/null
    airflow pools set "$POOL" 1 "$POOL_DESCRIPTION" >/dev/null
}

latest_day() {
    "$VENV_BIN/python" -m kam_warehouse.orchestration.landing_days latest "$KAM_LANDING_DIR"
}

case "${1:-}" in
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
        sed -n '2,10p' "$0" ;;
    *)
        airflow "$@" ;;
esac
