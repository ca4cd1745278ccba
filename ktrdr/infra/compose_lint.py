"""Static checks of docker compose files: the compose-spec schema and ktrdr's own rules.

No Docker needed. Used by tests/unit/deploy/test_compose.py for the files in the tree,
and meant for any test that renders a compose file (e.g. a sandbox CLI):

    from ktrdr.infra.compose_lint import compose_problems, load_compose, validate_compose

    validate_compose(path)                     # raises ComposeSchemaError with the output
    assert compose_problems(load_compose(path), base_dir=path.parent) == []

Every ``*_problems`` function returns a list of one-line messages, empty when all is well.
The rules come from the code they protect, not from copies of it:

- a ``KTRDR_*`` variable must be a field of :class:`ktrdr.core.settings.Settings` (and its value,
  ``${...}`` resolved to its default, must pass the settings' validation);
- an image's defaults (``ENV``, ``CMD``, folders it creates for its user) are read from
  its Dockerfile under deploy/docker/;
- a worker's port and URL follow ``ktrdr.workers.runtime`` (``DEFAULT_WORKER_PORTS``, the URL
  derived from the hostname on a wildcard host), the probe follows ``ktrdr.core.healthcheck``;
- an MCP server (``python -m ktrdr.mcp --transport http``) runs from an image that has the
  ``mcp`` extra, serves on ``KTRDR_MCP_HOST``/``KTRDR_MCP_PORT``, and reaches either a backend
  of its own project (with that backend's ``KTRDR_API_TOKEN``) or a remote one named by a
  variable; it never carries the worker secret.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from ktrdr.core.enums import WorkerType
from ktrdr.core.healthcheck import DEFAULT_WORKER_TYPE
from ktrdr.core.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO_ROOT / "deploy" / "docker"
SCHEMA = "vendor.compose-spec"
API_MODULE = "ktrdr.api"
WORKER_MODULE = "ktrdr.workers"  # python -m ktrdr.workers backtesting|training
MCP_MODULE = "ktrdr.mcp"  # python -m ktrdr.mcp --transport http
WORKER_ROLES = frozenset(WorkerType)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# A stop: KTRDR_WORKER_SHUTDOWN_GRACE_S for the job, then the finish report and the
# deregistration (up to ~15 s) before Docker's SIGKILL.
WORKER_STOP_SLACK_S = 20.0
MIN_WORKER_STOP_GRACE_S = 40.0
WILDCARD_HOSTS = {"0.0.0.0", "::", ""}
# The images each role may run from (image kinds: see image_kind).
ALLOWED_IMAGES = {
    "api": {"backend", "dev"},
    "backtesting": {"worker-cpu", "worker-gpu", "dev"},
    "training": {"worker-cpu", "worker-gpu", "dev"},
    # The worker images lack the mcp extra; the backend and dev images install it.
    "mcp": {"backend", "dev"},
}


class ComposeSchemaError(AssertionError):
    """check-jsonschema rejected a compose file; the message is its output."""


# --- the schema ---------------------------------------------------------------------------


def check_jsonschema() -> Path:
    """The check-jsonschema next to this Python (the project's venv)."""
    return Path(sys.executable).parent / "check-jsonschema"


def run_schema_check(*paths: Path | str) -> subprocess.CompletedProcess[str]:
    """``check-jsonschema --builtin-schema vendor.compose-spec PATH...``, output captured."""
    executable = check_jsonschema()
    if not executable.exists():
        raise FileNotFoundError(f"{executable} is missing (make setup installs the dev tools)")
    return subprocess.run(
        [str(executable), "--builtin-schema", SCHEMA, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def validate_compose(path: Path | str) -> str:
    """Validate one compose file against the compose-spec schema; return the output."""
    result = run_schema_check(path)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise ComposeSchemaError(f"{path}: check-jsonschema exit {result.returncode}\n{output}")
    return output


def validate_compose_text(text: str, name: str = "docker-compose.yml") -> str:
    """:func:`validate_compose` for a rendered compose file held in memory."""
    with tempfile.TemporaryDirectory(prefix="ktrdr-compose-") as folder:
        path = Path(folder) / name
        path.write_text(text)
        return validate_compose(path)


# --- reading compose files ----------------------------------------------------------------


def load_compose(path: Path | str) -> dict[str, Any]:
    data = yaml.safe_load(Path(path).read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return data


def merge_compose(*documents: Mapping[str, Any]) -> dict[str, Any]:
    """Files brought up together (``-f a -f b``), merged one level deep.

    Enough for files that define disjoint services and repeat the same network and
    volume definitions, which is how the multi-file environments here are written.
    """
    merged: dict[str, Any] = {}
    for document in documents:
        for key, value in document.items():
            if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return merged


def services(compose: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose.get("services") or {})


# $$ (a literal $), ${NAME}, ${NAME<op>ARGUMENT} (op: :- - :? ? :+ +), $NAME
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value: Any, variables: Mapping[str, str] | None = None) -> str:
    """``value`` as compose would substitute it, with ``variables`` as the environment.

    An unset variable without a default is empty; a required one (``${X:?...}``) that is
    missing becomes ``<X>``, a stand-in that is never empty.
    """
    variables = variables or {}

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("braced") or match.group("bare")
        current, operator = variables.get(name), match.group("op")
        if operator is None:
            return current or ""
        # With a colon, an empty value counts as unset.
        missing = not current if operator.startswith(":") else current is None
        if operator.endswith("-"):
            return interpolate(match.group("arg"), variables) if missing else str(current)
        if operator.endswith("?"):
            return f"<{name}>" if missing else str(current)
        return "" if missing else interpolate(match.group("arg"), variables)  # + and :+

    return _VARIABLE.sub(substitute, "" if value is None else str(value))


def variables_used(text: str) -> set[str]:
    """The names interpolated in a compose file's text (``${X...}`` and ``$X``)."""
    names = set()
    for match in _VARIABLE.finditer(text):
        if name := match.group("braced") or match.group("bare"):
            names.add(name)
        if match.group("arg"):
            names |= variables_used(match.group("arg"))
    return names


def service_environment(service: Mapping[str, Any]) -> dict[str, str | None]:
    """A service's ``environment`` (mapping or list form), values as written."""
    environment = service.get("environment") or {}
    if isinstance(environment, Mapping):
        return {str(k): None if v is None else str(v) for k, v in environment.items()}
    result: dict[str, str | None] = {}
    for item in environment:
        name, sep, value = str(item).partition("=")
        result[name] = value if sep else None
    return result


def ktrdr_env_vars(compose: Mapping[str, Any]) -> dict[str, dict[str, str | None]]:
    """Per service, the ``KTRDR_*`` variables its ``environment`` sets, as written."""
    return {
        name: {k: v for k, v in service_environment(service).items() if k.startswith("KTRDR_")}
        for name, service in services(compose).items()
    }


def settings_field(variable: str) -> str | None:
    """``KTRDR_DATA_DIR`` -> ``data_dir`` when Settings has that field, else None."""
    if not variable.startswith("KTRDR_"):
        return None
    field = variable.removeprefix("KTRDR_").lower()
    return field if field in Settings.model_fields else None


def unknown_ktrdr_vars(compose: Mapping[str, Any]) -> list[str]:
    return [
        f"{name}: {variable} is not a ktrdr Settings field (KTRDR_<FIELD>)"
        for name, variables in ktrdr_env_vars(compose).items()
        for variable in variables
        if settings_field(variable) is None
    ]


def may_be_empty(value: str | None) -> bool:
    """Whether ``value`` can interpolate to "" (every variable unset, none required)."""
    return interpolate(value).strip() == ""


def parse_duration(value: Any) -> float:
    """A compose duration (``45s``, ``1m30s``, ``500ms``) in seconds."""
    text = str(value).strip()
    parts = re.findall(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a compose duration: {value!r}")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(number) * scale[unit] for number, unit in parts)


# --- images and their Dockerfiles ---------------------------------------------------------


def image_kind(image: str) -> str | None:
    """``backend``, ``worker-cpu``, ``worker-gpu``, ``dev`` for a ktrdr image name, else None.

    ``ktrdr-backend:dev`` and ``ktrdr-backend-dev`` are the dev image; a ``${...}`` in the
    name is read with its default.
    """
    reference = interpolate(image)
    match = re.search(r"(?:^|/)ktrdr-([a-z0-9-]+?)(?::([^@/]+))?(?:@.*)?$", reference)
    if match is None:
        return None
    name, tag = match.groups()
    if name == "backend-dev" or (name == "backend" and tag == "dev"):
        return "dev"
    return name if name in {"backend", "worker-cpu", "worker-gpu"} else None


def dockerfile(kind: str) -> Path:
    return DOCKER_DIR / f"Dockerfile.{kind}"


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, no comments."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, arguments = line.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def _final_stage(path: Path) -> list[tuple[str, str]]:
    instructions = dockerfile_instructions(path)
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    return instructions[starts[-1] :] if starts else instructions


@cache
def image_defaults(kind: str) -> tuple[dict[str, str], tuple[str, ...], frozenset[str]]:
    """(ENV, CMD, folders owned by the image's user) of an image's final stage."""
    env: dict[str, str] = {}
    command: tuple[str, ...] = ()
    owned: set[str] = set()
    for keyword, arguments in _final_stage(dockerfile(kind)):
        if keyword == "ENV":
            for item in shlex.split(arguments):
                name, _, value = item.partition("=")
                env[name] = value
        elif keyword == "CMD":
            exec_form = arguments.startswith("[")
            command = tuple(json.loads(arguments) if exec_form else shlex.split(arguments))
        elif keyword == "RUN":
            owned.update(re.findall(r"install -d -o \S+ -g \S+ (\S+)", arguments))
        elif keyword == "COPY" and "--chown=" in arguments:
            owned.add(shlex.split(arguments)[-1].rstrip("/") or "/")
    return env, command, frozenset(owned)


def service_image_kind(service: Mapping[str, Any]) -> str | None:
    """The kind of image a service runs: its build's Dockerfile, else its ``image``."""
    build = service.get("build")
    if isinstance(build, Mapping) and build.get("dockerfile"):
        match = re.fullmatch(r"Dockerfile\.([a-z0-9-]+)", Path(str(build["dockerfile"])).name)
        if match and dockerfile(match.group(1)).exists():
            return match.group(1)
    image = service.get("image")
    return image_kind(str(image)) if image else None


def command_tokens(command: Any) -> list[str]:
    if command is None:
        return []
    if isinstance(command, str):
        return shlex.split(command)
    return [str(token) for token in command]


def command_module(command: Any) -> tuple[str, list[str]] | None:
    """(module, arguments) of a ``python -m MODULE ARGS`` command (also in ``sh -c "..."``)."""
    tokens = command_tokens(command)
    if len(tokens) >= 3 and tokens[0] in {"sh", "bash", "/bin/sh"} and tokens[1] == "-c":
        tokens = shlex.split(tokens[2])
    for index, token in enumerate(tokens[:-1]):
        if token == "-m" and re.search(r"python[0-9.]*$", tokens[index - 1] if index else ""):
            return tokens[index + 1], tokens[index + 2 :]
    return None


def service_module(service: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    """(module, arguments) a service runs: its command, else its image's CMD."""
    if service.get("command") is not None:
        return command_module(service["command"])
    kind = service_image_kind(service)
    return command_module(image_defaults(kind)[1]) if kind else None


def service_role(name: str, service: Mapping[str, Any]) -> str | None:
    """``api``, ``backtesting``, ``training``, ``mcp`` for a ktrdr process, else None.

    From the module it runs; for a service whose module cannot be read, from its name.
    """
    target = service_module(service)
    module, arguments = target if target else (None, [])
    if module == API_MODULE:
        return "api"
    if module == MCP_MODULE:
        return "mcp"
    if module == WORKER_MODULE and arguments and arguments[0] in set(WorkerType):
        return arguments[0]
    if module is None and "worker" in name:
        return "training" if "training" in name else "backtesting"
    if module is None and name.startswith("backend"):
        return "api"
    return None


def effective_environment(service: Mapping[str, Any]) -> dict[str, str]:
    """The image's ENV overlaid with the service's environment, ``${...}`` at defaults."""
    kind = service_image_kind(service)
    env = dict(image_defaults(kind)[0]) if kind else {}
    for variable, value in service_environment(service).items():
        if value is not None:
            env[variable] = interpolate(value)
    return env


class _ComposeSettings(Settings):
    """Settings from explicit values only: the test process's environment stays out."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def service_settings(service: Mapping[str, Any]) -> Settings:
    """What ``get_settings()`` returns inside the service's container."""
    values = {
        field: value
        for variable, value in effective_environment(service).items()
        if (field := settings_field(variable)) is not None
    }
    return _ComposeSettings(**values)


def serving_port(role: str, settings: Settings) -> int:
    """The port the process listens on (``python -m ktrdr.api`` / a worker's ``serve``)."""
    if role == "api":
        return settings.api_port
    if role == "mcp":
        return settings.mcp_port
    return settings.worker_port_for(WorkerType(role))


def probe_port(probe_role: str, settings: Settings) -> int:
    """The port ``python -m ktrdr.core.healthcheck ROLE`` probes (ktrdr/healthcheck.py)."""
    if probe_role == "auto":
        probe_role = "worker" if settings.worker_port else "api"
    if probe_role == "api":
        return settings.api_port
    if probe_role == "mcp":
        return settings.mcp_port
    return settings.worker_port_for(DEFAULT_WORKER_TYPE)


def healthcheck_role(service: Mapping[str, Any]) -> str | None:
    """The argument of ``python -m ktrdr.core.healthcheck`` in the healthcheck, else None."""
    test = (service.get("healthcheck") or {}).get("test")
    if isinstance(test, list) and test and test[0] == "CMD-SHELL":
        tokens = shlex.split(" ".join(map(str, test[1:])))
    elif isinstance(test, list) and test and test[0] == "CMD":
        tokens = [str(t) for t in test[1:]]
    elif isinstance(test, str):
        tokens = shlex.split(test)
    else:
        return None
    for index, token in enumerate(tokens[:-1]):
        if token == "-m" and tokens[index + 1] == "ktrdr.core.healthcheck":
            rest = tokens[index + 2 :]
            return rest[0] if rest else "auto"
    return None


# --- per-service checks -------------------------------------------------------------------


def replicas(service: Mapping[str, Any]) -> int | None:
    """Replicas asked for (deploy.replicas / scale); None when interpolated (any number)."""
    value = (service.get("deploy") or {}).get("replicas", service.get("scale", 1))
    text = str(value)
    return int(text) if text.isdigit() else None


def image_problems(name: str, service: Mapping[str, Any], image: str | None = None) -> list[str]:
    """Image against role: workers never on the backend image, the backend never on a
    worker image, a worker's name matching the worker it runs, GPU image with a GPU.

    ``image`` checks another image for the same service (e.g. a commented image line).
    """
    if image is not None:
        service = {k: v for k, v in service.items() if k != "build"} | {"image": image}
    role = service_role(name, service)
    if role is None:
        return []
    kind = service_image_kind(service)
    shown = service.get("image", "the build")
    problems = []
    if kind is None:
        problems.append(f"{name}: runs {role} but {shown} is no ktrdr image")
    elif kind not in ALLOWED_IMAGES[role]:
        problems.append(f"{name}: a {role} service on {shown} ({kind} image)")
    if role in WORKER_ROLES and "worker" not in name:
        problems.append(f"{name}: runs the {role} worker; its name should say worker")
    if role == "api" and "worker" in name:
        problems.append(f"{name}: named a worker but runs the API")
    if role == "mcp" and ("mcp" not in name or "worker" in name):
        problems.append(f"{name}: runs the MCP server; its name should say mcp")
    named = {"backtesting": "training", "training": "backtest"}.get(role)
    if named and named in name:
        problems.append(f"{name}: named {named} but runs the {role} worker")
    if kind == "worker-gpu" and not gpu_reserved(service):
        problems.append(f"{name}: worker-gpu image without an NVIDIA GPU reservation")
    return problems


def gpu_reserved(service: Mapping[str, Any]) -> bool:
    reservations = ((service.get("deploy") or {}).get("resources") or {}).get("reservations")
    devices = (reservations or {}).get("devices") or []
    return any(
        d.get("driver") == "nvidia" and "gpu" in (d.get("capabilities") or []) for d in devices
    ) or bool(service.get("gpus"))


def settings_problems(name: str, service: Mapping[str, Any]) -> list[str]:
    """Every KTRDR_ variable is a Settings field and the values pass its validation."""
    problems = unknown_ktrdr_vars({"services": {name: service}})
    if not problems and service_role(name, service) is not None:
        try:
            service_settings(service)
        except ValueError as error:
            problems.append(f"{name}: its KTRDR_ values fail Settings: {error}")
    return problems


def healthcheck_problems(name: str, service: Mapping[str, Any]) -> list[str]:
    """Every service has a healthcheck; a ktrdr one probes, with the role's
    ``ktrdr.core.healthcheck`` argument, the port its process listens on."""
    healthcheck = service.get("healthcheck") or {}
    if not healthcheck.get("test") or healthcheck.get("disable"):
        return [f"{name}: no healthcheck"]
    role = service_role(name, service)
    if role is None:
        return []
    expected = role if role in ("api", "mcp") else "worker"
    probe = healthcheck_role(service)
    if probe != expected:
        return [f"{name}: healthcheck should run `python -m ktrdr.core.healthcheck {expected}`"]
    try:
        settings = service_settings(service)
    except ValueError:
        return []  # reported by settings_problems
    serves, probes = serving_port(role, settings), probe_port(probe, settings)
    if serves != probes:
        return [f"{name}: listens on {serves} but its healthcheck probes {probes}"]
    problems = []
    for target in published_targets(service):
        if target != serves:
            problems.append(f"{name}: publishes container port {target}, listens on {serves}")
    return problems


def published_targets(service: Mapping[str, Any]) -> list[int]:
    """Container ports of ``ports`` (short or long syntax); ranges and ${...} skipped."""
    targets = []
    for entry in service.get("ports") or []:
        if isinstance(entry, Mapping):
            text = interpolate(entry.get("target", ""))
        else:
            text = interpolate(entry).split("/")[0].rsplit(":", 1)[-1]
        if text.isdigit():
            targets.append(int(text))
    return targets


def published_host_ports(service: Mapping[str, Any]) -> list[str]:
    """Host ports of ``ports``, as written after interpolation ('' when left to Docker)."""
    hosts = []
    for entry in service.get("ports") or []:
        if isinstance(entry, Mapping):
            hosts.append(interpolate(entry.get("published", "")))
        else:
            parts = interpolate(entry).split("/")[0].split(":")
            hosts.append(parts[-2] if len(parts) >= 2 else "")
    return hosts


def lifecycle_problems(name: str, service: Mapping[str, Any]) -> list[str]:
    """A restart policy everywhere; workers wait for a healthy backend and get enough
    time to stop (grace period + report + deregistration)."""
    problems = []
    if not service.get("restart") and not (service.get("deploy") or {}).get("restart_policy"):
        problems.append(f"{name}: no restart policy")
    role = service_role(name, service)
    if role in (None, "api", "mcp"):  # an MCP server's dependencies: see mcp_problems
        return problems
    depends_on = service.get("depends_on") or {}
    if isinstance(depends_on, list):
        depends_on = {dependency: {"condition": "service_started"} for dependency in depends_on}
    backends = [d for d in depends_on if d.startswith("backend") or "api" in d]
    if not any(depends_on[d].get("condition") == "service_healthy" for d in backends):
        problems.append(f"{name}: should depend on the backend with condition service_healthy")
    try:
        grace = service_settings(service).worker_shutdown_grace_s
    except ValueError:
        grace = Settings.model_fields["worker_shutdown_grace_s"].default
    needed = max(MIN_WORKER_STOP_GRACE_S, grace + WORKER_STOP_SLACK_S)
    written = service.get("stop_grace_period")
    if written is None or parse_duration(written) < needed:
        problems.append(
            f"{name}: stop_grace_period {written or '10s (default)'} < {needed:g}s "
            f"(KTRDR_WORKER_SHUTDOWN_GRACE_S {grace:g}s + {WORKER_STOP_SLACK_S:g}s)"
        )
    return problems


def service_problems(name: str, service: Mapping[str, Any]) -> list[str]:
    return [
        *image_problems(name, service),
        *settings_problems(name, service),
        *healthcheck_problems(name, service),
        *lifecycle_problems(name, service),
    ]


# --- project-wide checks ------------------------------------------------------------------


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    kind: str  # "volume" or "bind"


def mounts(service: Mapping[str, Any]) -> list[Mount]:
    found = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, Mapping):
            source, target = str(entry.get("source", "")), str(entry["target"])
            kind = str(entry.get("type", "volume"))
        else:
            parts = str(entry).split(":")
            if len(parts) == 1:  # an anonymous volume
                continue
            source, target = parts[0], parts[1]
            kind = "bind" if source[:1] in {".", "/", "~", "$"} else "volume"
        found.append(Mount(source, target.rstrip("/") or "/", kind))
    return found


def mount_of(service: Mapping[str, Any], path: Path) -> Mount | None:
    """The mount holding ``path`` in the container (the deepest one), if any."""
    holding = [
        m for m in mounts(service) if path == Path(m.target) or Path(m.target) in path.parents
    ]
    return max(holding, key=lambda m: len(m.target), default=None)


def ktrdr_services(compose: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """name -> (role, service) for the services that run a ktrdr process."""
    found = {}
    for name, service in services(compose).items():
        role = service_role(name, service)
        if role is not None:
            found[name] = (role, service)
    return found


def network_names(name: str, service: Mapping[str, Any]) -> set[str]:
    """The names a service answers to on its networks: its name, aliases, hostname."""
    names = {name}
    for option in ("hostname", "container_name"):
        if service.get(option):
            names.add(interpolate(service[option]))
    networks = service.get("networks") or {}
    if isinstance(networks, Mapping):
        for settings in networks.values():
            names.update((settings or {}).get("aliases") or [])
    return names


def url_problems(compose: Mapping[str, Any]) -> list[str]:
    """Workers reach the backend at a port it listens on; the backend reaches each worker
    at the URL it registers; replicas of one service derive distinct URLs and ids."""
    problems = []
    ktrdr = ktrdr_services(compose)
    api_ports: dict[str, int] = {}
    for name, (role, service) in ktrdr.items():
        if role == "api":
            try:
                port = serving_port("api", service_settings(service))
            except ValueError:
                continue
            api_ports.update(dict.fromkeys(network_names(name, service), port))
    for name, (role, service) in ktrdr.items():
        if role not in WORKER_ROLES:  # the MCP server's URL: see mcp_problems
            continue
        try:
            settings = service_settings(service)
        except ValueError:
            continue
        environment = service_environment(service)
        api = urlsplit(settings.api_url)
        if api.hostname not in api_ports:
            problems.append(f"{name}: KTRDR_API_URL {settings.api_url} names no backend service")
        elif (api.port or 80) != api_ports[api.hostname]:
            problems.append(
                f"{name}: KTRDR_API_URL port {api.port} but the backend listens on "
                f"{api_ports[api.hostname]}"
            )
        port = serving_port(role, settings)
        scaled = replicas(service) != 1
        if "KTRDR_WORKER_PUBLIC_URL" in environment and not may_be_empty(
            environment["KTRDR_WORKER_PUBLIC_URL"]
        ):
            public = urlsplit(settings.worker_public_url or "")
            if scaled:
                problems.append(f"{name}: replicas share KTRDR_WORKER_PUBLIC_URL {public.geturl()}")
            if public.hostname not in network_names(name, service):
                problems.append(
                    f"{name}: KTRDR_WORKER_PUBLIC_URL host {public.hostname} is not this service"
                )
            if public.port != port:
                problems.append(
                    f"{name}: KTRDR_WORKER_PUBLIC_URL port {public.port}, listens on {port}"
                )
        elif settings.worker_host not in WILDCARD_HOSTS:
            problems.append(
                f"{name}: no public URL and KTRDR_WORKER_HOST {settings.worker_host}: it would "
                f"register http://{settings.worker_host}:{port}, unreachable from the backend"
            )
        if scaled:
            for option in ("hostname", "container_name"):
                if service.get(option):
                    problems.append(f"{name}: replicas share {option} {service[option]}")
            if environment.get("KTRDR_WORKER_ID"):
                problems.append(f"{name}: replicas share KTRDR_WORKER_ID")
            if any(host for host in published_host_ports(service)):
                problems.append(f"{name}: replicas cannot share a published host port")
    return problems


def secret_problems(compose: Mapping[str, Any]) -> list[str]:
    """Backend and workers agree on KTRDR_WORKER_SECRET; a worker's is never empty.

    The backend sends the secret only when it has a non-empty one, and a worker given
    any secret, even "", requires it: an empty one on a worker refuses every dispatch.
    """
    problems = []
    written = {
        name: service_environment(service).get("KTRDR_WORKER_SECRET")
        for name, (role, service) in ktrdr_services(compose).items()
        if role != "mcp"  # the MCP server is no worker (see mcp_problems)
    }
    if len(set(written.values())) > 1:
        problems.append(f"KTRDR_WORKER_SECRET differs between services: {written}")
    for name, (role, _) in ktrdr_services(compose).items():
        value = written.get(name)
        if role in WORKER_ROLES and value is not None and may_be_empty(value):
            problems.append(
                f"{name}: KTRDR_WORKER_SECRET {value!r} can be empty; use ${{VAR:?message}}"
            )
    return problems


def volume_problems(compose: Mapping[str, Any]) -> list[str]:
    """Backend and workers see the same data and models folders; named volumes are
    declared, and mounted only where the image has a folder its user (uid 10001) owns:
    a volume mounted elsewhere starts out owned by root."""
    problems = []
    declared = set(compose.get("volumes") or {})
    shared: dict[str, dict[str, str]] = {"data": {}, "models": {}}
    for name, (role, service) in ktrdr_services(compose).items():
        try:
            settings = service_settings(service)
        except ValueError:
            continue
        # The MCP server reads everything through the API: no data or models folder.
        folders = {"data": settings.data_path, "models": settings.models_path}
        for what, path in folders.items() if role != "mcp" else ():
            mount = mount_of(service, path)
            if mount is None:
                problems.append(f"{name}: {what} folder {path} is on no volume")
            else:
                shared[what][name] = f"{mount.source}:{Path(mount.target)}"
        kind = service_image_kind(service)
        owned = image_defaults(kind)[2] if kind else frozenset()
        for mount in mounts(service):
            if mount.kind == "volume" and owned and mount.target not in owned:
                problems.append(
                    f"{name}: volume {mount.source} at {mount.target}, not a folder the image "
                    f"creates for its user ({', '.join(sorted(owned))})"
                )
    for what, by_service in shared.items():
        if len(set(by_service.values())) > 1:
            problems.append(f"{what} folder not shared: {by_service}")
    for name, service in services(compose).items():
        for mount in mounts(service):
            if mount.kind == "volume" and mount.source not in declared:
                problems.append(f"{name}: volume {mount.source} is not declared")
    return problems


def option_value(arguments: list[str], option: str) -> str | None:
    """The value of ``--option value`` or ``--option=value`` in a command's arguments."""
    for index, argument in enumerate(arguments):
        if argument == option and index + 1 < len(arguments):
            return arguments[index + 1]
        if argument.startswith(f"{option}="):
            return argument.partition("=")[2]
    return None


def dependency_condition(service: Mapping[str, Any], dependency: str) -> str | None:
    """The ``depends_on`` condition on ``dependency`` (list form: service_started)."""
    depends_on = service.get("depends_on") or {}
    if dependency not in depends_on:
        return None
    if isinstance(depends_on, list):
        return "service_started"
    return (depends_on[dependency] or {}).get("condition", "service_started")


def mcp_problems(compose: Mapping[str, Any]) -> list[str]:
    """Each MCP server serves HTTP where it is probed and published, and reaches its backend.

    - its main process serves streamable HTTP (``--transport http``): a stdio server as a
      container's command reads EOF and exits; agents get stdio with ``docker exec -i``;
      host and port come from KTRDR_MCP_HOST / KTRDR_MCP_PORT (what the probe reads), a
      wildcard host when it publishes a port;
    - KTRDR_API_URL names a backend service of the project at the port it listens on (the
      server then waits for it to be healthy and passes on its KTRDR_API_TOKEN), or a
      remote backend given by a variable, never loopback (that is the container itself);
    - it does not carry KTRDR_WORKER_SECRET: it only needs the API token.
    """
    problems = []
    ktrdr = ktrdr_services(compose)
    backends = {
        network_name: (name, service)
        for name, (role, service) in ktrdr.items()
        if role == "api"
        for network_name in network_names(name, service)
    }
    for name, (role, service) in ktrdr.items():
        if role != "mcp":
            continue
        module = service_module(service)
        arguments = module[1] if module else []
        if option_value(arguments, "--transport") != "http":
            problems.append(f"{name}: should serve `--transport http` (stdio is for docker exec)")
        for option in ("--host", "--port"):
            if option_value(arguments, option) is not None:
                problems.append(f"{name}: {option} on the command line; set KTRDR_MCP_ ones")
        environment = service_environment(service)
        if "KTRDR_WORKER_SECRET" in environment:
            problems.append(f"{name}: carries KTRDR_WORKER_SECRET; an MCP server needs none")
        try:
            settings = service_settings(service)
        except ValueError:
            continue  # reported by settings_problems
        if published_targets(service) and settings.mcp_host not in WILDCARD_HOSTS:
            problems.append(
                f"{name}: publishes a port but KTRDR_MCP_HOST is {settings.mcp_host}; "
                "it must listen on 0.0.0.0 to be reached through it"
            )
        written_url = environment.get("KTRDR_API_URL")
        api = urlsplit(settings.api_url)
        if written_url is None:
            problems.append(f"{name}: no KTRDR_API_URL (the default is this container itself)")
        elif api.hostname in backends:
            backend_name, backend = backends[api.hostname]
            backend_port = serving_port("api", service_settings(backend))
            if (api.port or 80) != backend_port:
                problems.append(
                    f"{name}: KTRDR_API_URL port {api.port} but {backend_name} listens on "
                    f"{backend_port}"
                )
            token = service_environment(backend).get("KTRDR_API_TOKEN")
            if environment.get("KTRDR_API_TOKEN") != token:
                problems.append(
                    f"{name}: KTRDR_API_TOKEN {environment.get('KTRDR_API_TOKEN')!r} is not "
                    f"{backend_name}'s {token!r}"
                )
            if dependency_condition(service, backend_name) != "service_healthy":
                problems.append(
                    f"{name}: should depend on {backend_name} with condition service_healthy"
                )
        elif "$" not in written_url:
            problems.append(
                f"{name}: KTRDR_API_URL {written_url} names no backend service; a remote "
                "backend comes from a variable (${VAR:-default})"
            )
        elif api.hostname in LOOPBACK_HOSTS:
            problems.append(f"{name}: KTRDR_API_URL {settings.api_url} is the container itself")
    return problems


def reference_problems(compose: Mapping[str, Any]) -> list[str]:
    """depends_on names a service that is there whenever the dependant is (profiles);
    networks are declared."""
    problems = []
    every = services(compose)
    declared_networks = set(compose.get("networks") or {}) | {"default"}
    for name, service in every.items():
        profiles = set(service.get("profiles") or [])
        for dependency in service.get("depends_on") or []:
            if dependency not in every:
                problems.append(f"{name}: depends on undefined service {dependency}")
                continue
            needed = set(every[dependency].get("profiles") or [])
            if needed and not (profiles and profiles <= needed):
                problems.append(
                    f"{name}: depends on {dependency}, which only runs with profile(s) "
                    f"{sorted(needed)}: the project is invalid without them"
                )
        networks = service.get("networks") or []
        for network in networks:
            if network not in declared_networks:
                problems.append(f"{name}: network {network} is not declared")
    return problems


def path_problems(compose: Mapping[str, Any], base_dir: Path) -> list[str]:
    """Build contexts, Dockerfiles and bind-mounted files exist (``${...}`` skipped)."""
    problems = []
    for name, service in services(compose).items():
        build = service.get("build")
        if build is not None:
            spec = {"context": build} if isinstance(build, str) else dict(build)
            context = base_dir / interpolate(spec.get("context", "."))
            if not context.is_dir():
                problems.append(f"{name}: build context {context} is missing")
            file = context / interpolate(spec.get("dockerfile", "Dockerfile"))
            if not file.is_file():
                problems.append(f"{name}: Dockerfile {file} is missing")
        for mount in mounts(service):
            if mount.kind == "bind" and "$" not in mount.source:
                source = (base_dir / Path(mount.source).expanduser()).resolve()
                if not source.exists():
                    problems.append(f"{name}: bind mount source {source} is missing")
    return problems


def prometheus_problems(compose: Mapping[str, Any], base_dir: Path) -> list[str]:
    """A Prometheus configuration mounted into the project scrapes ktrdr APIs where they
    listen (the metrics live at /metrics/)."""
    problems = []
    every = services(compose)
    api_ports = {
        network_name: serving_port("api", service_settings(service))
        for name, (role, service) in ktrdr_services(compose).items()
        if role == "api"
        for network_name in network_names(name, service)
    }
    for name, service in every.items():
        for mount in mounts(service):
            if mount.kind != "bind" or not mount.target.endswith("prometheus.yml"):
                continue
            config_path = base_dir / mount.source
            if not config_path.is_file():
                continue  # reported by path_problems
            config = yaml.safe_load(config_path.read_text()) or {}
            for job in config.get("scrape_configs") or []:
                for static in job.get("static_configs") or []:
                    for target in static.get("targets") or []:
                        host, _, port = str(target).rpartition(":")
                        if host not in every and host not in api_ports:
                            problems.append(f"{name}: scrape target {target} is no service")
                        elif host in api_ports and int(port) != api_ports[host]:
                            problems.append(
                                f"{name}: scrapes {target}, the API listens on {api_ports[host]}"
                            )
                        if host in api_ports and not str(
                            job.get("metrics_path", "/metrics")
                        ).startswith("/metrics"):
                            problems.append(f"{name}: job {job.get('job_name')} misses /metrics")
    return problems


def compose_problems(compose: Mapping[str, Any], base_dir: Path | None = None) -> list[str]:
    """Every ktrdr rule above, for one project (one file, or files merged)."""
    problems = [
        problem
        for name, service in services(compose).items()
        for problem in service_problems(name, service)
    ]
    problems += url_problems(compose)
    problems += mcp_problems(compose)
    problems += secret_problems(compose)
    problems += volume_problems(compose)
    problems += reference_problems(compose)
    if base_dir is not None:
        problems += path_problems(compose, base_dir)
        problems += prometheus_problems(compose, base_dir)
    return problems


# --- commented lines ----------------------------------------------------------------------


def commented_images(path: Path) -> dict[str, list[str]]:
    """Per service, the ``# image: ...`` lines written inside its block (image mode)."""
    found: dict[str, list[str]] = {}
    in_services, current = False, None
    for line in path.read_text().splitlines():
        if re.match(r"^\S", line):
            in_services, current = line.rstrip() == "services:", None
            continue
        service = re.match(r"^  ([A-Za-z0-9._-]+):\s*$", line)
        if in_services and service:
            current = service.group(1)
            continue
        image = re.match(r"^\s+#\s*image:\s*(\S+)\s*$", line)
        if in_services and current and image:
            found.setdefault(current, []).append(image.group(1))
    return found


# --- other files that name repository paths -----------------------------------------------


def dockerignore_patterns(root: Path = REPO_ROOT) -> list[str]:
    path = root / ".dockerignore"
    if not path.exists():
        return []
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line.rstrip("/") for line in lines if line and not line.startswith(("#", "!"))]


def dockerignored(relative: str, patterns: Iterable[str]) -> str | None:
    """The .dockerignore pattern that excludes ``relative`` (or a folder above it)."""
    parts = PurePosixPath(relative).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        regex = _glob_regex(pattern.lstrip("/"))
        if any(re.fullmatch(regex, candidate) for candidate in candidates):
            return pattern
    return None


def _glob_regex(pattern: str) -> str:
    """A .dockerignore pattern as a regular expression (``**`` spans folders)."""
    regex = ""
    for chunk in re.split(r"(\*\*/|\*\*|\*|\?|\[[^\]]*\])", pattern):
        if chunk.startswith("[") and chunk.endswith("]") and len(chunk) > 2:
            regex += "[" + ("^" + chunk[2:-1] if chunk[1] in "!^" else chunk[1:-1]) + "]"
        else:
            special = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
            regex += special.get(chunk, re.escape(chunk))
    return regex


def dockerfile_sources(path: Path) -> list[str]:
    """Build-context paths a Dockerfile reads: COPY/ADD sources (not ``--from=``) and
    ``RUN --mount=type=bind,source=...`` (not ``from=``)."""
    sources = []
    for keyword, arguments in dockerfile_instructions(path):
        if keyword in {"COPY", "ADD"}:
            if arguments.startswith("["):
                tokens = [str(t) for t in json.loads(arguments)]
            else:
                tokens = shlex.split(arguments)
            if any(t.startswith("--from=") for t in tokens):
                continue
            paths = [t for t in tokens if not t.startswith("--")]
            sources.extend(p for p in paths[:-1] if "://" not in p)
        elif keyword == "RUN":
            for mount in re.findall(r"--mount=(\S+)", arguments):
                options = dict(o.partition("=")[::2] for o in mount.split(","))
                if options.get("type") == "bind" and "from" not in options:
                    sources.append(options.get("source", "."))
    return sources


_MAKEFILE_PATH = re.compile(r"(?<![\w./$-])((?:deploy|strategies|benchmarks|\.ci)/[\w.*/-]*)")


def makefile_paths(text: str) -> list[str]:
    """Tokens of a Makefile that look like repository paths (deploy/..., .ci/..., ...)."""
    return sorted({m.group(1).rstrip("/.") for m in _MAKEFILE_PATH.finditer(text)})


def workflow_paths(workflow: Any) -> list[str]:
    """``file:`` and ``context:`` values of a GitHub workflow, expressions left out."""
    found: list[str] = []
    if isinstance(workflow, Mapping):
        for key, value in workflow.items():
            if key in {"file", "context"} and isinstance(value, str) and "${{" not in value:
                found.append(value)
            else:
                found.extend(workflow_paths(value))
    elif isinstance(workflow, list):
        for item in workflow:
            found.extend(workflow_paths(item))
    return found
