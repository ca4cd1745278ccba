"""The compose environments (deploy/environments/) and the paths the build files name.

- every compose file validates against the compose-spec schema (check-jsonschema's copy);
- per project (the compose files of one folder, brought up together): images match roles,
  every KTRDR_ variable is a Settings field, healthchecks probe the port the process
  serves, workers stop gracefully after a healthy backend, URLs, secrets, shared volumes
  and references agree (the rules live in tests/support/compose.py);
- what each environment promises: local (dev image, profiles, image-mode lines), canary
  (`:test` images, its own ports, network and volumes), homelab (IMAGE_TAG, PostgreSQL,
  scalable workers, GPU reservation, .env.example);
- the paths named by compose files, Dockerfiles, the Makefile and the workflows exist.
"""

from __future__ import annotations

import glob
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from ktrdr.infra.compose_lint import (
    REPO_ROOT,
    ComposeSchemaError,
    commented_images,
    compose_problems,
    dockerfile_instructions,
    dockerfile_sources,
    dockerignore_patterns,
    dockerignored,
    healthcheck_problems,
    image_kind,
    image_problems,
    interpolate,
    ktrdr_env_vars,
    ktrdr_services,
    lifecycle_problems,
    load_compose,
    makefile_paths,
    merge_compose,
    path_problems,
    prometheus_problems,
    reference_problems,
    replicas,
    secret_problems,
    service_environment,
    service_settings,
    services,
    settings_problems,
    unknown_ktrdr_vars,
    url_problems,
    validate_compose,
    validate_compose_text,
    variables_used,
    volume_problems,
    workflow_paths,
)

ENVIRONMENTS = REPO_ROOT / "deploy" / "environments"
LOCAL = ENVIRONMENTS / "local" / "docker-compose.yml"
CANARY = ENVIRONMENTS / "canary" / "docker-compose.yml"
HOMELAB = ENVIRONMENTS / "homelab"
HOMELAB_FILES = [
    HOMELAB / "docker-compose.core.yml",
    HOMELAB / "docker-compose.workers.yml",
    HOMELAB / "docker-compose.gpu-worker.yml",
]
IMAGE_MODE = "# Image mode (uncomment to test with CI-built images)"
REGISTRY = "${IMAGE_REGISTRY:-ghcr.io/kpiteira}"


def compose_files() -> list[Path]:
    """Compose files under deploy/environments/, and docker-compose*.y(a)ml anywhere in
    deploy/ or the kinfra templates."""
    found = {
        *ENVIRONMENTS.rglob("*compose*.yml"),
        *ENVIRONMENTS.rglob("*compose*.yaml"),
    }
    for folder in (REPO_ROOT / "deploy", REPO_ROOT / "ktrdr" / "cli" / "kinfra" / "templates"):
        found |= {*folder.rglob("docker-compose*.yml"), *folder.rglob("docker-compose*.yaml")}
    return sorted(found)


COMPOSE_FILES = compose_files()


def projects() -> dict[str, list[Path]]:
    """The files of one folder make one project (`-f a -f b`, as homelab's do)."""
    grouped: dict[str, list[Path]] = defaultdict(list)
    for path in COMPOSE_FILES:
        grouped[str(path.parent.relative_to(REPO_ROOT))].append(path)
    return dict(grouped)


PROJECTS = projects()


def rel(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


def project(folder: str) -> dict[str, Any]:
    return merge_compose(*(load_compose(path) for path in PROJECTS[folder]))


def all_services(compose: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return list(services(compose).items())


# --- the files ----------------------------------------------------------------------------


def test_the_environments_exist() -> None:
    expected = {LOCAL, CANARY, *HOMELAB_FILES}
    assert expected <= set(COMPOSE_FILES)
    assert (ENVIRONMENTS / "local" / "prometheus.yml").is_file()
    assert (HOMELAB / ".env.example").is_file()


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=rel)
def test_compose_file_matches_the_schema(path: Path) -> None:
    output = validate_compose(path)
    print(f"{rel(path)}: {output}")  # shown with -rP
    assert output.startswith("ok -- validation done")


def test_the_schema_check_rejects_a_broken_file() -> None:
    broken = "services:\n  backend:\n    image: x\n    restart: sometimes\n    helthcheck: {}\n"
    with pytest.raises(ComposeSchemaError, match=r"helthcheck|restart"):
        validate_compose_text(broken)


# --- per project: the ktrdr rules ---------------------------------------------------------


@pytest.mark.parametrize("folder", PROJECTS)
def test_images_match_roles(folder: str) -> None:
    compose = project(folder)
    assert [p for name, s in all_services(compose) for p in image_problems(name, s)] == []


@pytest.mark.parametrize("folder", PROJECTS)
def test_ktrdr_variables_are_settings_fields(folder: str) -> None:
    compose = project(folder)
    assert unknown_ktrdr_vars(compose) == []
    assert [p for name, s in all_services(compose) for p in settings_problems(name, s)] == []


@pytest.mark.parametrize("folder", PROJECTS)
def test_only_ktrdr_and_postgres_variables(folder: str) -> None:
    """Containers get KTRDR_ settings; the official postgres image its POSTGRES_ ones."""
    stray = [
        f"{name}: {variable}"
        for name, service in all_services(project(folder))
        for variable in service_environment(service)
        if not variable.startswith("KTRDR_")
        and not (variable.startswith("POSTGRES_") and "postgres" in str(service.get("image")))
    ]
    assert stray == []


@pytest.mark.parametrize("folder", PROJECTS)
def test_healthchecks_probe_the_served_port(folder: str) -> None:
    compose = project(folder)
    assert [p for name, s in all_services(compose) for p in healthcheck_problems(name, s)] == []


@pytest.mark.parametrize("folder", PROJECTS)
def test_restart_stop_grace_and_healthy_backend(folder: str) -> None:
    compose = project(folder)
    assert [p for name, s in all_services(compose) for p in lifecycle_problems(name, s)] == []


@pytest.mark.parametrize("folder", PROJECTS)
def test_urls_secrets_volumes_and_references_agree(folder: str) -> None:
    compose = project(folder)
    assert url_problems(compose) == []
    assert secret_problems(compose) == []
    assert volume_problems(compose) == []
    assert reference_problems(compose) == []


@pytest.mark.parametrize("folder", PROJECTS)
def test_referenced_paths_and_scrape_targets(folder: str) -> None:
    compose, base = project(folder), REPO_ROOT / folder
    assert path_problems(compose, base) == []
    assert prometheus_problems(compose, base) == []


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=rel)
def test_images_come_from_variables(path: Path) -> None:
    """Registry images are named through a variable, so that the same files run a local
    registry's tags and local stand-ins (IMAGE_REGISTRY, POSTGRES_IMAGE, PROMETHEUS_IMAGE);
    only the locally built dev image has a plain name."""
    for name, service in services(load_compose(path)).items():
        image = str(service.get("image", ""))
        if image == "ktrdr-backend:dev":
            continue
        assert image.startswith("${"), f"{name}: {image}"
        if image_kind(image) is not None:
            assert image.startswith(REGISTRY + "/"), f"{name}: {image}"


@pytest.mark.parametrize("folder", PROJECTS)
def test_every_ktrdr_project_has_a_backend_and_both_worker_types(folder: str) -> None:
    roles = {role for role, _ in ktrdr_services(project(folder)).values()}
    stack = {"api", "backtesting", "training"}
    assert roles in (set(), stack, stack | {"mcp"})


def test_the_rules_catch_mistakes() -> None:
    """The checks above do fail on the mistakes they exist for."""
    bad = {
        "services": {
            "backend": {
                "image": "ghcr.io/kpiteira/ktrdr-worker-cpu:latest",
                "command": ["python", "-m", "ktrdr.api"],
                "environment": {"KTRDR_API_PORT": "8001", "KTRDR_API_PROT": "1"},
                "healthcheck": {
                    "test": ["CMD", "python", "-m", "ktrdr.core.healthcheck", "worker"]
                },
            },
            "training-worker": {
                "image": "ghcr.io/kpiteira/ktrdr-backend:latest",
                "command": ["python", "-m", "ktrdr.workers", "training"],
                "environment": {
                    "KTRDR_API_URL": "http://backend:8000",
                    "KTRDR_WORKER_HOST": "0.0.0.0",
                    "KTRDR_WORKER_SECRET": "s",
                    "KTRDR_WORKER_PUBLIC_URL": "http://training-worker:5003",
                },
                "healthcheck": {
                    "test": ["CMD", "python", "-m", "ktrdr.core.healthcheck", "worker"]
                },
                "volumes": ["home:/var/lib/ktrdr/data"],
                "depends_on": ["backend"],
                "deploy": {"replicas": 2},
                "stop_grace_period": "30s",
                "restart": "unless-stopped",
            },
            # An empty secret fails the settings (the process refuses it at start-up).
            "backtest-worker": {
                "image": "ghcr.io/kpiteira/ktrdr-worker-cpu:latest",
                "command": ["python", "-m", "ktrdr.workers", "backtesting"],
                "environment": {"KTRDR_WORKER_SECRET": "${KTRDR_WORKER_SECRET:-}"},
            },
        }
    }
    found = "\n".join(compose_problems(bad, REPO_ROOT))
    for expected in [
        "backtest-worker: its KTRDR_ values fail Settings",
        "backend: a api service on ghcr.io/kpiteira/ktrdr-worker-cpu:latest",
        "training-worker: a training service on ghcr.io/kpiteira/ktrdr-backend:latest",
        "KTRDR_API_PROT is not a ktrdr Settings field",
        "backend: healthcheck should run `python -m ktrdr.core.healthcheck api`",
        "training-worker: listens on 5004 but its healthcheck probes 5003",
        "backend: no restart policy",
        "training-worker: should depend on the backend with condition service_healthy",
        "training-worker: stop_grace_period 30s < 40s",
        "training-worker: KTRDR_API_URL port 8000 but the backend listens on 8001",
        "training-worker: replicas share KTRDR_WORKER_PUBLIC_URL",
        "training-worker: KTRDR_WORKER_PUBLIC_URL port 5003, listens on 5004",
        "KTRDR_WORKER_SECRET differs between services",
        "backtest-worker: KTRDR_WORKER_SECRET '${KTRDR_WORKER_SECRET:-}' can be empty",
        "training-worker: volume home at /var/lib/ktrdr/data, not a folder the image creates",
        "training-worker: volume home is not declared",
        "backend: data folder /var/lib/ktrdr/data is on no volume",
    ]:
        assert expected in found, f"missing: {expected}\n{found}"
    profiled = {
        "services": {
            "a": {"image": "x", "depends_on": {"b": {"condition": "service_healthy"}}},
            "b": {"image": "x", "profiles": ["extra"]},
        }
    }
    assert "a: depends on b, which only runs with profile(s)" in reference_problems(profiled)[0]


# --- local --------------------------------------------------------------------------------


def test_local_stack() -> None:
    compose = load_compose(LOCAL)
    every = services(compose)
    assert set(every) == {
        "backend",
        "backtest-worker-1",
        "backtest-worker-2",
        "training-worker-1",
        "training-worker-2",
        "mcp-local",
        "mcp-preprod",
        "postgres",
        "prometheus",
    }
    ktrdr = ktrdr_services(compose)
    assert sorted(role for role, _ in ktrdr.values()) == [
        "api",
        "backtesting",
        "backtesting",
        "mcp",
        "mcp",
        "training",
        "training",
    ]
    for name, (_, service) in ktrdr.items():
        assert service["image"] == "ktrdr-backend:dev", name
        assert service["build"] == {
            "context": "../../..",
            "dockerfile": "deploy/docker/Dockerfile.dev",
            "args": ["BASE_IMAGE", "UV_IMAGE", "TORCH_WHEELHOUSE"],
        }, name
        assert service.get("profiles", []) == (["preprod"] if name == "mcp-preprod" else []), name
    backend = every["backend"]
    assert backend["ports"] == ["127.0.0.1:8000:8000"]
    # SQLite by default: the URL Settings itself derives from KTRDR_HOME.
    default_url = service_settings({**backend, "environment": {}}).database_url
    assert service_settings(backend).database_url == default_url
    assert default_url == "sqlite:////var/lib/ktrdr/data/ktrdr.db"
    assert every["postgres"]["profiles"] == ["postgres"]
    assert every["postgres"]["image"] == "${POSTGRES_IMAGE:-postgres:16}"
    assert every["prometheus"]["profiles"] == ["observability"]
    assert every["prometheus"]["image"] == "${PROMETHEUS_IMAGE:-prom/prometheus:v3.1.0}"
    assert "./prometheus.yml:/etc/prometheus/prometheus.yml:ro" in every["prometheus"]["volumes"]


def test_local_build_args_are_dockerfile_args() -> None:
    """The args compose passes on from the environment are ARGs of the Dockerfile (the
    local stand-ins: base image, uv image, torch wheelhouse; see ktrdr/infra/images)."""
    from ktrdr.infra.images.build import build_args

    dockerfile = REPO_ROOT / "deploy" / "docker" / "Dockerfile.dev"
    declared = {
        arg.split("=")[0] for key, arg in dockerfile_instructions(dockerfile) if key == "ARG"
    }
    for name, service in services(load_compose(LOCAL)).items():
        if "build" in service:
            assert set(service["build"]["args"]) <= declared, name
            assert set(build_args("base", with_wheelhouse=True)) == set(service["build"]["args"])


def test_local_postgres_profile_is_reached_through_the_database_url() -> None:
    """The documented .env line points the backend at the profile's postgres service."""
    backend = services(load_compose(LOCAL))["backend"]
    written = service_environment(backend)["KTRDR_DATABASE_URL"]
    url = "postgresql://ktrdr:ktrdr@postgres:5432/ktrdr"
    assert interpolate(written, {"LOCAL_DATABASE_URL": url}) == url
    assert f"LOCAL_DATABASE_URL={url}" in LOCAL.read_text()
    postgres = services(load_compose(LOCAL))["postgres"]["environment"]
    assert (postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"]) == ("ktrdr", "ktrdr")
    assert postgres["POSTGRES_DB"] == "ktrdr"


def test_local_image_mode_lines() -> None:
    """Each ktrdr service carries the commented ghcr image it would run in image mode,
    under the same header line, and that image suits its role."""
    compose = load_compose(LOCAL)
    commented = commented_images(LOCAL)
    text = LOCAL.read_text()
    ktrdr = ktrdr_services(compose)
    assert set(commented) == set(ktrdr)
    assert text.count(IMAGE_MODE) == len(ktrdr)
    for name, (role, service) in ktrdr.items():
        (image,) = commented[name]
        kind = "backend" if role in ("api", "mcp") else "worker-cpu"
        assert image == f"{REGISTRY}/ktrdr-{kind}:${{IMAGE_TAG:-latest}}", name
        assert f"    {IMAGE_MODE}\n    # image: {image}\n" in text, name
        assert image_problems(name, service, image=image) == [], name


def test_local_mcp_services_reach_the_local_and_a_configured_remote_backend() -> None:
    compose = load_compose(LOCAL)
    every = services(compose)
    local, preprod = every["mcp-local"], every["mcp-preprod"]
    for service in (local, preprod):
        assert service["command"] == ["python", "-m", "ktrdr.mcp", "--transport", "http"]
        assert service_settings(service).mcp_host == "0.0.0.0"
        assert service_settings(service).mcp_port == 8010
    assert service_settings(local).api_url == "http://backend:8000"
    assert local["depends_on"] == {"backend": {"condition": "service_healthy"}}
    assert local["ports"] == ["127.0.0.1:8010:8010"]
    assert preprod["ports"] == ["127.0.0.1:8011:8010"]
    assert "depends_on" not in preprod
    written = service_environment(preprod)
    remote = {"PREPROD_API_URL": "https://preprod.example:8443"}
    assert interpolate(written["KTRDR_API_URL"], remote) == "https://preprod.example:8443"
    assert written["KTRDR_API_TOKEN"] is None  # passed through from .env, never empty
    assert "KTRDR_API_TOKEN" not in service_environment(local)  # the local backend has none
    # What an agent runs to get a stdio session, as the file's header documents it.
    container = f"{compose['name']}-mcp-local-1"
    assert f"docker exec -i {container} python -m ktrdr.mcp" in LOCAL.read_text()


def test_the_rules_catch_mcp_mistakes() -> None:
    backend = {
        "image": "ghcr.io/kpiteira/ktrdr-backend:latest",
        "command": ["python", "-m", "ktrdr.api"],
        "environment": {"KTRDR_API_TOKEN": "${KTRDR_API_TOKEN:-s3cret}"},
    }
    bad = {
        "services": {
            "backend": backend,
            "mcp-worker": {
                "image": "ghcr.io/kpiteira/ktrdr-worker-cpu:latest",
                "command": ["python", "-m", "ktrdr.mcp", "--port", "9000"],
                "environment": {
                    "KTRDR_API_URL": "http://backend:9999",
                    "KTRDR_MCP_HOST": "127.0.0.1",
                    "KTRDR_WORKER_SECRET": "x",
                },
                "ports": ["127.0.0.1:8010:8010"],
                "healthcheck": {"test": ["CMD", "python", "-m", "ktrdr.core.healthcheck", "api"]},
            },
            "mcp-loop": {
                "image": "ghcr.io/kpiteira/ktrdr-backend:latest",
                "command": ["python", "-m", "ktrdr.mcp", "--transport", "http"],
                "environment": {"KTRDR_API_URL": "${REMOTE:-http://127.0.0.1:8000}"},
            },
            "mcp-nowhere": {
                "image": "ghcr.io/kpiteira/ktrdr-backend:latest",
                "command": ["python", "-m", "ktrdr.mcp", "--transport=http"],
                "environment": {"KTRDR_API_URL": "http://elsewhere:8000"},
            },
            "mcp-unset": {
                "image": "ghcr.io/kpiteira/ktrdr-backend:latest",
                "command": ["python", "-m", "ktrdr.mcp", "--transport", "http"],
            },
        }
    }
    found = "\n".join(compose_problems(bad, REPO_ROOT))
    for expected in [
        "mcp-worker: a mcp service on ghcr.io/kpiteira/ktrdr-worker-cpu:latest",
        "mcp-worker: runs the MCP server; its name should say mcp",
        "mcp-worker: healthcheck should run `python -m ktrdr.core.healthcheck mcp`",
        "mcp-worker: should serve `--transport http`",
        "mcp-worker: --port on the command line",
        "mcp-worker: carries KTRDR_WORKER_SECRET",
        "mcp-worker: publishes a port but KTRDR_MCP_HOST is 127.0.0.1",
        "mcp-worker: KTRDR_API_URL port 9999 but backend listens on 8000",
        "mcp-worker: KTRDR_API_TOKEN None is not backend's '${KTRDR_API_TOKEN:-s3cret}'",
        "mcp-worker: should depend on backend with condition service_healthy",
        "mcp-loop: KTRDR_API_URL http://127.0.0.1:8000 is the container itself",
        "mcp-nowhere: KTRDR_API_URL http://elsewhere:8000 names no backend service",
        "mcp-unset: no KTRDR_API_URL",
    ]:
        assert expected in found, f"missing: {expected}\n{found}"
    assert "mcp-nowhere: should serve" not in found  # --transport=http is http too
    # The MCP server shares neither the worker secret nor the data folders.
    assert "KTRDR_WORKER_SECRET differs" not in found
    assert "mcp-loop: data folder" not in found


# --- canary -------------------------------------------------------------------------------


def test_canary_stack() -> None:
    compose = load_compose(CANARY)
    assert compose["name"] == "ktrdr-canary"
    ktrdr = ktrdr_services(compose)
    images = {name: service["image"] for name, (_, service) in ktrdr.items()}
    assert images == {
        "backend": f"{REGISTRY}/ktrdr-backend:${{IMAGE_TAG:-test}}",
        "backtest-worker": f"{REGISTRY}/ktrdr-worker-cpu:${{IMAGE_TAG:-test}}",
        "training-worker": f"{REGISTRY}/ktrdr-worker-cpu:${{IMAGE_TAG:-test}}",
    }
    assert {image_kind(image) for image in images.values()} == {"backend", "worker-cpu"}
    assert interpolate(images["backend"]) == "ghcr.io/kpiteira/ktrdr-backend:test"
    every = services(compose)
    assert every["backend"]["ports"] == ["127.0.0.1:18000:8000"]
    assert every["backtest-worker"]["ports"] == ["127.0.0.1:15003:5003"]
    assert every["training-worker"]["ports"] == ["127.0.0.1:15004:5004"]
    # Its own network and volumes: project-scoped (no fixed name), not external.
    assert set(compose["networks"]) == {"canary"}
    for name, service in every.items():
        assert service["networks"] == ["canary"], name
    for kind in ("networks", "volumes"):
        for key, definition in compose[kind].items():
            assert not (definition or {}).get("external"), key
            assert not (definition or {}).get("name"), key
    volumes = {m.split(":")[0] for s in every.values() for m in s.get("volumes", [])}
    assert volumes == {"canary-home", "canary-postgres"}
    backend_url = service_settings(every["backend"]).database_url
    assert backend_url.startswith("postgresql://")
    assert "@postgres:5432/" in backend_url


# --- homelab ------------------------------------------------------------------------------


def homelab() -> dict[str, Any]:
    return merge_compose(*(load_compose(path) for path in HOMELAB_FILES))


def test_homelab_images_follow_image_tag() -> None:
    kinds = {}
    for name, (_, service) in ktrdr_services(homelab()).items():
        tagged = rf"{re.escape(REGISTRY)}/ktrdr-[a-z-]+:\$\{{IMAGE_TAG:-latest\}}"
        assert re.fullmatch(tagged, service["image"]), name
        kinds[name] = image_kind(service["image"])
    assert kinds == {
        "backend": "backend",
        "backtest-worker": "worker-cpu",
        "training-worker": "worker-cpu",
        "training-worker-gpu": "worker-gpu",
        "mcp": "backend",
    }
    gpu = services(homelab())["training-worker-gpu"]
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia"
    assert device["capabilities"] == ["gpu"]


def test_homelab_core_runs_the_backend_on_postgres() -> None:
    every = services(load_compose(HOMELAB_FILES[0]))
    assert set(every) == {"backend", "postgres", "mcp"}
    assert every["postgres"]["image"] == "${POSTGRES_IMAGE:-postgres:16}"
    assert "pg_isready" in " ".join(every["postgres"]["healthcheck"]["test"])
    assert every["backend"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert service_settings(every["backend"]).database_url.startswith("postgresql://ktrdr:")
    mcp = every["mcp"]
    assert mcp["command"] == ["python", "-m", "ktrdr.mcp", "--transport", "http"]
    # On the backend's interface only (127.0.0.1 unless BACKEND_HOST_IP widens it).
    assert mcp["ports"] == ["${BACKEND_HOST_IP:-127.0.0.1}:${MCP_PORT:-8010}:8010"]
    # The token the MCP server requires and sends on is the backend's.
    token = service_environment(every["backend"])["KTRDR_API_TOKEN"]
    assert service_environment(mcp)["KTRDR_API_TOKEN"] == token


def test_homelab_cpu_workers_scale() -> None:
    """Replicas derive their URL and id from their hostname (the short container id)."""
    every = services(load_compose(HOMELAB_FILES[1]))
    assert set(every) == {"backtest-worker", "training-worker"}
    for name, service in every.items():
        assert replicas(service) is None, f"{name}: replicas come from .env"
        environment = service_environment(service)
        assert "KTRDR_WORKER_PUBLIC_URL" not in environment, name
        assert "KTRDR_WORKER_ID" not in environment, name
        assert service_settings(service).worker_host == "0.0.0.0", name
    assert every["backtest-worker"]["deploy"]["replicas"] == "${BACKTEST_WORKERS:-2}"
    assert every["training-worker"]["deploy"]["replicas"] == "${TRAINING_WORKERS:-1}"


def test_homelab_files_share_network_and_volume() -> None:
    definitions = [load_compose(path) for path in HOMELAB_FILES]
    for document in definitions:
        assert document["networks"]["ktrdr"] == {"name": "ktrdr"}
        assert document["volumes"]["ktrdr-home"] == {"name": "ktrdr-home"}
    assert "name" not in definitions[1], "the project name is set once, in core"
    assert "name" not in definitions[2], "the project name is set once, in core"


def env_example() -> dict[str, str]:
    lines = (HOMELAB / ".env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if re.match(r"^[A-Z_][A-Z0-9_]*=", line))
    return dict(pairs)


def test_homelab_env_example_documents_every_variable() -> None:
    example = env_example()
    used = set().union(*(variables_used(path.read_text()) for path in HOMELAB_FILES))
    assert used == set(example) - {"COMPOSE_FILE"}
    assert example["IMAGE_TAG"] == "latest"
    assert example["IMAGE_REGISTRY"] == "ghcr.io/kpiteira"
    assert example["POSTGRES_IMAGE"] == "postgres:16"
    # Its COMPOSE_FILE lines name the files that exist (the GPU one commented out).
    text = (HOMELAB / ".env.example").read_text()
    for line in re.findall(r"^#? ?COMPOSE_FILE=(\S+)$", text, flags=re.MULTILINE):
        for name in line.split(":"):
            assert (HOMELAB / name).is_file(), name
    assert example["COMPOSE_FILE"].split(":") == [p.name for p in HOMELAB_FILES[:2]]


def test_homelab_secrets_are_required_where_empty_breaks_them() -> None:
    """An empty worker secret on a worker refuses every dispatch; an empty database
    password is no password: both are ${VAR:?...}. The API token may stay empty."""
    for path in HOMELAB_FILES:
        for name, variables in ktrdr_env_vars(load_compose(path)).items():
            if "KTRDR_WORKER_SECRET" in variables:
                assert variables["KTRDR_WORKER_SECRET"].startswith("${KTRDR_WORKER_SECRET:?"), name
    core = services(load_compose(HOMELAB_FILES[0]))
    assert core["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "${POSTGRES_PASSWORD:?" in core["backend"]["environment"]["KTRDR_DATABASE_URL"]


# --- paths named by the build files -------------------------------------------------------


DOCKERFILES = sorted((REPO_ROOT / "deploy" / "docker").glob("Dockerfile.*"))


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_sources_exist_in_the_build_context(dockerfile: Path) -> None:
    """COPY/ADD sources and RUN bind mounts (the build context is the repository root)."""
    patterns = dockerignore_patterns()
    problems = []
    for source in dockerfile_sources(dockerfile):
        if not glob.glob(str(REPO_ROOT / source)):
            problems.append(f"{source} is missing")
        elif pattern := dockerignored(source, patterns):
            problems.append(f"{source} is excluded by .dockerignore ({pattern})")
    assert problems == []


def test_makefile_paths_exist() -> None:
    paths = makefile_paths((REPO_ROOT / "Makefile").read_text())
    assert paths, "no repository path found in the Makefile"
    assert [p for p in paths if not glob.glob(str(REPO_ROOT / p))] == []


WORKFLOWS_DIR = REPO_ROOT / ".github" / "workflows"
WORKFLOWS = sorted([*WORKFLOWS_DIR.glob("*.yml"), *WORKFLOWS_DIR.glob("*.yaml")])


@pytest.mark.skipif(not WORKFLOWS, reason="no .github/workflows in this tree")
@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_paths_exist(workflow: Path) -> None:
    paths = workflow_paths(yaml.safe_load(workflow.read_text()))
    assert [p for p in paths if not (REPO_ROOT / p).exists()] == []
