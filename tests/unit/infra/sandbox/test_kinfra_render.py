"""Rendered sandbox files: compose-spec valid, distinct ports, images, settings variables."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ktrdr.core.settings import Settings
from ktrdr.infra.compose_lint import compose_problems
from ktrdr.infra.sandbox import slots
from ktrdr.infra.sandbox.ports import LOCAL_DEFAULT_PORTS, ports
from ktrdr.infra.sandbox.slots import Sandbox

KTRDR_SERVICES = ("backend", "backtest-worker", "training-worker")
WORKERS = {"backtest-worker": 5003, "training-worker": 5004}
BACKEND_IMAGE = "${KTRDR_BACKEND_IMAGE:-ktrdr-backend:dev}"
WORKER_IMAGE = "${KTRDR_WORKER_IMAGE:-ktrdr-backend:dev}"


def compose_of(sandbox: Sandbox) -> dict[str, Any]:
    return yaml.safe_load((sandbox.directory / slots.COMPOSE_FILE).read_text())


def published_ports(compose: dict[str, Any]) -> list[int]:
    return [
        int(port["published"])
        for service in compose["services"].values()
        for port in service.get("ports", [])
    ]


def test_every_published_port_is_distinct_across_slots_and_from_local_defaults(
    three_slots: dict[int, Sandbox],
) -> None:
    everything: list[int] = []
    for slot, sandbox in three_slots.items():
        published = published_ports(compose_of(sandbox))
        assert sorted(published) == sorted(ports(slot).published().values())
        everything += published
    assert len(everything) == len(set(everything)) == 3 * 6
    assert not set(everything) & LOCAL_DEFAULT_PORTS


def test_ports_are_published_on_loopback_only(three_slots: dict[int, Sandbox]) -> None:
    for sandbox in three_slots.values():
        for service in compose_of(sandbox)["services"].values():
            for port in service.get("ports", []):
                assert port["host_ip"] == "127.0.0.1"


def test_rendered_compose_files_validate_against_the_compose_spec(
    three_slots: dict[int, Sandbox],
) -> None:
    check = Path(sys.executable).parent / "check-jsonschema"
    files = [str(s.directory / slots.COMPOSE_FILE) for s in three_slots.values()]
    result = subprocess.run(
        [str(check), "--builtin-schema", "vendor.compose-spec", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_image_variables_are_left_to_compose_interpolation(
    three_slots: dict[int, Sandbox],
) -> None:
    for sandbox in three_slots.values():
        text = (sandbox.directory / slots.COMPOSE_FILE).read_text()
        assert "${SANDBOX_" not in text
        assert set(re.findall(r"\$\{[^}]*\}", text)) == {
            BACKEND_IMAGE,
            WORKER_IMAGE,
            # The official images by default; local stand-ins where no registry is reachable.
            "${POSTGRES_IMAGE:-postgres:16-alpine}",
            "${PROMETHEUS_IMAGE:-prom/prometheus:v3.1.0}",
        }


def test_project_name_services_and_images(three_slots: dict[int, Sandbox]) -> None:
    for slot, sandbox in three_slots.items():
        compose = compose_of(sandbox)
        assert compose["name"] == sandbox.project == f"ktrdr-sandbox-{slot}"
        services = compose["services"]
        assert set(services) == {*KTRDR_SERVICES, "mcp", "postgres", "prometheus"}
        assert services["backend"]["image"] == BACKEND_IMAGE
        assert services["backend"]["command"] == ["python", "-m", "ktrdr.api"]
        assert services["backtest-worker"]["command"][-2:] == ["ktrdr.workers", "backtesting"]
        assert services["training-worker"]["command"][-2:] == ["ktrdr.workers", "training"]


def test_worker_services_never_use_the_backend_image_variable(
    three_slots: dict[int, Sandbox],
) -> None:
    for sandbox in three_slots.values():
        services = compose_of(sandbox)["services"]
        for name in WORKERS:
            assert services[name]["image"] == WORKER_IMAGE
            assert "KTRDR_BACKEND_IMAGE" not in yaml.safe_dump(services[name])


def test_every_ktrdr_variable_is_a_settings_field(three_slots: dict[int, Sandbox]) -> None:
    fields = set(Settings.model_fields)
    for sandbox in three_slots.values():
        for name, service in compose_of(sandbox)["services"].items():
            environment = service.get("environment", {})
            assert isinstance(environment, dict)
            for key in environment:
                if name == "postgres":
                    assert key.startswith("POSTGRES_"), key
                else:
                    assert key.startswith("KTRDR_"), (name, key)
                    assert key.removeprefix("KTRDR_").lower() in fields, (name, key)


@pytest.mark.parametrize("service", KTRDR_SERVICES)
def test_service_environments_are_valid_settings(
    three_slots: dict[int, Sandbox], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = compose_of(three_slots[1])["services"][service]["environment"]
    for key in [k for k in os.environ if k.startswith("KTRDR_")]:
        monkeypatch.delenv(key)
    for key, value in environment.items():
        monkeypatch.setenv(key, str(value))
    settings = Settings()
    assert settings.home == Path("/var/lib/ktrdr")
    assert settings.data_path == Path("/var/lib/ktrdr/data")
    assert settings.models_path == Path("/var/lib/ktrdr/models")
    if service == "backend":
        assert settings.api_port == 8000
        assert settings.database.startswith("postgresql+psycopg://ktrdr:ktrdr@postgres:5432/")
    else:
        assert settings.worker_port == WORKERS[service]
        assert settings.api_url == "http://backend:8000"
        assert settings.worker_public_url == f"http://{service}:{WORKERS[service]}"


def test_healthchecks_ports_volumes_and_dependencies(three_slots: dict[int, Sandbox]) -> None:
    for sandbox in three_slots.values():
        services = compose_of(sandbox)["services"]
        backend = services["backend"]
        assert backend["healthcheck"]["test"] == [
            "CMD",
            "python",
            "-m",
            "ktrdr.core.healthcheck",
            "api",
        ]
        assert [p["target"] for p in backend["ports"]] == [8000]
        assert backend["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert services["postgres"]["healthcheck"]["test"][1] == "pg_isready"
        assert services["prometheus"]["healthcheck"]["test"]
        expected_mounts = [
            (str(sandbox.directory / "data"), "/var/lib/ktrdr/data"),
            (str(sandbox.directory / "models"), "/var/lib/ktrdr/models"),
        ]
        for name in KTRDR_SERVICES:
            service = services[name]
            assert service["environment"]["KTRDR_HOME"] == "/var/lib/ktrdr"
            mounts = [(v["source"], v["target"]) for v in service["volumes"] if v["type"] == "bind"]
            assert mounts == expected_mounts
        for name, port in WORKERS.items():
            worker = services[name]
            assert worker["healthcheck"]["test"] == [
                "CMD",
                "python",
                "-m",
                "ktrdr.core.healthcheck",
                "worker",
            ]
            assert worker["depends_on"] == {"backend": {"condition": "service_healthy"}}
            assert worker["stop_grace_period"] == "40s"
            assert [p["target"] for p in worker["ports"]] == [port]
            assert worker["environment"]["KTRDR_WORKER_PORT"] == str(port)
        assert (sandbox.directory / "data").is_dir()
        assert (sandbox.directory / "models").is_dir()
        assert "backend:8000" in (sandbox.directory / slots.PROMETHEUS_FILE).read_text()


def test_env_file_holds_images_folders_slot_and_ports(three_slots: dict[int, Sandbox]) -> None:
    for slot, sandbox in three_slots.items():
        text = (sandbox.directory / slots.ENV_FILE).read_text()
        env = slots.read_env_file(sandbox.directory / slots.ENV_FILE)
        p = ports(slot)
        assert env["KTRDR_BACKEND_IMAGE"] == "ktrdr-backend:dev"
        assert env["KTRDR_WORKER_IMAGE"] == "ktrdr-backend:dev"
        assert "# KTRDR_BACKEND_IMAGE=ghcr.io/kpiteira/ktrdr-backend:latest" in text
        assert "# KTRDR_WORKER_IMAGE=ghcr.io/kpiteira/ktrdr-worker-cpu:latest" in text
        assert env["KTRDR_SANDBOX_SLOT"] == str(slot)
        assert env["KTRDR_SANDBOX_PROJECT"] == f"ktrdr-sandbox-{slot}"
        assert env["KTRDR_SANDBOX_DATA_DIR"] == str(sandbox.directory / "data")
        assert env["KTRDR_SANDBOX_MODELS_DIR"] == str(sandbox.directory / "models")
        assert env["KTRDR_SANDBOX_API_PORT"] == str(p.api)
        assert env["KTRDR_SANDBOX_DB_PORT"] == str(p.db)
        assert env["KTRDR_SANDBOX_PROMETHEUS_PORT"] == str(p.prometheus)
        assert env["KTRDR_SANDBOX_BACKTEST_WORKER_PORT"] == str(p.backtest_worker)
        assert env["KTRDR_SANDBOX_TRAINING_WORKER_PORT"] == str(p.training_worker)


def test_the_mcp_service_serves_http_on_the_slot_port_against_the_sandbox_backend(
    three_slots: dict[int, Sandbox],
) -> None:
    for slot, sandbox in three_slots.items():
        mcp = compose_of(sandbox)["services"]["mcp"]
        assert mcp["image"] == BACKEND_IMAGE  # the backend image has the mcp extra
        assert mcp["command"] == ["python", "-m", "ktrdr.mcp", "--transport", "http"]
        assert mcp["environment"]["KTRDR_API_URL"] == "http://backend:8000"
        assert "KTRDR_WORKER_SECRET" not in mcp["environment"]
        assert [(p["target"], int(p["published"])) for p in mcp["ports"]] == [
            (8010, ports(slot).mcp)
        ]
        env = slots.read_env_file(sandbox.directory / slots.ENV_FILE)
        assert env["KTRDR_SANDBOX_MCP_PORT"] == str(ports(slot).mcp)
        text = (sandbox.directory / slots.ENV_FILE).read_text()
        assert f"docker exec -i {sandbox.project}-mcp-1 python -m ktrdr.mcp" in text


def test_rendered_sandboxes_pass_the_deploy_consistency_rules(
    three_slots: dict[int, Sandbox],
) -> None:
    for sandbox in three_slots.values():
        assert compose_problems(compose_of(sandbox), sandbox.directory) == []


def test_odd_folder_names_stay_literal_for_compose(tmp_path: Path) -> None:
    root = tmp_path / "with space $HOME"
    sandbox = slots.create(root, 4)
    data = str(sandbox.directory / "data")
    compose = compose_of(sandbox)
    # $$ is compose's escape for a literal $; the path is never interpolated.
    assert compose["services"]["backend"]["volumes"][0]["source"] == data.replace("$", "$$")
    env = slots.read_env_file(sandbox.directory / slots.ENV_FILE)
    assert env["KTRDR_SANDBOX_DATA_DIR"] == data
    assert f"KTRDR_SANDBOX_DATA_DIR='{data}'" in (sandbox.directory / slots.ENV_FILE).read_text()


def test_an_unknown_placeholder_is_an_error() -> None:
    with pytest.raises(slots.SandboxError, match="SANDBOX_NOPE"):
        slots.render("a: ${SANDBOX_NOPE}\nb: ${KTRDR_WORKER_IMAGE:-x}\n", {})
    rendered = slots.render("a: ${SANDBOX_A}\nb: ${KTRDR_WORKER_IMAGE:-x}\n", {"SANDBOX_A": "1"})
    assert rendered == "a: 1\nb: ${KTRDR_WORKER_IMAGE:-x}\n"


def test_containers_never_run_as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slots.os, "getuid", lambda: 0)
    monkeypatch.setattr(slots.os, "getgid", lambda: 0)
    assert slots.host_user() == "10001:10001"
    monkeypatch.setattr(slots.os, "getuid", lambda: 1000)
    monkeypatch.setattr(slots.os, "getgid", lambda: 1000)
    assert slots.host_user() == "1000:1000"
