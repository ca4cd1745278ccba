"""MCP server figures: what the mcp extra adds to an install, start time to the first
``list_tools``, and a transcript of one train-then-backtest exchange.

    uv run --no-sync python benchmarks/mcp_figures.py              # all three
    uv run --no-sync python benchmarks/mcp_figures.py --start      # or --size / --transcript

--size    two scratch venvs from uv.lock, as the backend image installs them (core +
          postgres, then + mcp): bytecode compiled, slimmed by deploy/scripts/slim_venv.py;
          prints both sizes, the difference on disk and gzip-compressed (a tar of the venv),
          and the backend image projected from --baseline-mb (the projected size before the
          mcp extra). This machine's Python is used; the image's Python differs slightly.
--start   spawns ``python -m ktrdr.mcp`` over stdio RUNS times with the SDK's client and
          times spawn -> initialize -> list_tools (no backend needed).
--transcript  a throw-away stack (backend + training + backtest worker), then the exchange an
          agent has through the tools: upload, train, wait, backtest the new model, results.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import runpy
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.mcp_client import call, compact, stdio_session, structured  # noqa: E402
from tests.support.stack import Stack, canary_strategy  # noqa: E402

RUNS = 7
MB = 1_000_000
SLIM = REPO / "deploy" / "scripts" / "slim_venv.py"
UNUSED_PACKAGE_DIRS: tuple[str, ...] = runpy.run_path(str(SLIM))["UNUSED_PACKAGE_DIRS"]
# The packages of the local image base (deploy/images/base-image.sh); python:3.13-slim has
# at least as much of libpq5's closure, or krb5 too (+2 MB at worst).
DEBIAN_BASE = ("apt", "python3", "python3-venv", "ca-certificates", "tini")


def uv() -> list[str]:
    return [os.environ["UV"]] if os.environ.get("UV") else [shutil.which("uv") or "uv"]


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def venv_bytes(root: Path, extras: list[str], without: tuple[str, ...] = ()) -> dict[str, int]:
    """A slimmed venv of the locked extras (less the ``without`` packages): its bytes on disk,
    gzip bytes of a tar of it, and the bytes of what the slim rules for unused package
    folders removed."""
    flags = [flag for extra in extras for flag in ("--extra", extra)]
    skip = [flag for package in without for flag in ("--no-install-package", package)]
    exported = subprocess.run(
        [
            *uv(),
            "export",
            "--locked",
            "--no-dev",
            "--no-hashes",
            "--no-emit-project",
            *flags,
            *skip,
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    requirements = root / "requirements.txt"
    requirements.write_text(exported)
    venv = root / "venv"
    subprocess.run([*uv(), "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    python = str(venv / "bin" / "python")
    install = [*uv(), "pip", "install", "-q", "--compile-bytecode", "--link-mode=copy"]
    subprocess.run([*install, "--python", python, "-r", str(requirements)], check=True)
    (site,) = venv.glob("lib/python3*/site-packages")
    unused = sum(tree_bytes(site / d) for d in UNUSED_PACKAGE_DIRS if (site / d).is_dir())
    subprocess.run([python, str(SLIM), str(venv)], check=True, capture_output=True)
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=6) as packed,
        tarfile.open(fileobj=packed, mode="w") as tar,
    ):
        tar.add(venv, arcname="venv")
    return {"disk": tree_bytes(venv), "gzip": len(buffer.getvalue()), "unused": unused}


def debian_closure_bytes(package: str, base: tuple[str, ...]) -> dict[str, int]:
    """Installed-Size (apt-cache) of ``package`` and the dependencies that neither a Debian
    minbase (Priority: required) nor the ``base`` packages' closure already bring."""

    def fields(name: str) -> dict[str, str]:
        out = subprocess.run(
            ["apt-cache", "show", "--no-all-versions", name], capture_output=True, text=True
        ).stdout
        found = {}
        for line in out.splitlines():
            if ":" in line and not line.startswith(" "):
                key, _, value = line.partition(":")
                found[key] = value.strip()
        return found

    def closure(roots: tuple[str, ...]) -> dict[str, dict[str, str]]:
        seen: dict[str, dict[str, str]] = {}
        todo = list(roots)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen[name] = fields(name)
            for key in ("Pre-Depends", "Depends"):
                for alternative in filter(
                    None, (a.strip() for a in seen[name].get(key, "").split(","))
                ):
                    todo.append(re.split(r"[ (:|]", alternative)[0])
        return seen

    present = closure(base)
    return {
        name: int(info.get("Installed-Size", "0")) * 1024
        for name, info in closure((package,)).items()
        if name not in present and info.get("Priority") != "required"
    }


def size_figures(baseline_mb: float, baseline_compressed_mb: float) -> None:
    if shutil.which("apt-cache") is None:
        print("install size: needs apt-cache (Debian) for libpq5; skipped")
        return
    with tempfile.TemporaryDirectory(prefix="ktrdr-mcp-size-") as folder:
        before_dir, after_dir = Path(folder) / "before", Path(folder) / "after"
        before_dir.mkdir()
        after_dir.mkdir()
        # What the backend image installed before the MCP server, and what it installs now.
        before = venv_bytes(before_dir, ["postgres"])
        after = venv_bytes(after_dir, ["postgres", "mcp"], without=("psycopg-binary",))
        mcp_only = venv_bytes(Path(folder), ["postgres", "mcp"])
    libpq = debian_closure_bytes("libpq5", DEBIAN_BASE)
    libpq_bytes = sum(libpq.values())
    added = after["disk"] - before["disk"] + libpq_bytes - before["unused"]
    # Debian packages compress to about 40 % (their .deb sizes); the estimate uses that.
    added_gz = after["gzip"] - before["gzip"] + int(0.4 * libpq_bytes)
    mcp_alone = mcp_only["disk"] - before["disk"]
    rows = [
        ("before: core + postgres (psycopg-binary)", f"{before['disk'] / MB:6.1f} MB"),
        ("the mcp extra alone adds", f"{mcp_alone / MB:+6.1f} MB"),
        ("after: + mcp, psycopg on Debian's libpq5", f"{after['disk'] / MB:6.1f} MB"),
        ("slim rules: sqlalchemy/alembic testing, dialects", f"{-before['unused'] / MB:+6.1f} MB"),
        (
            f"Debian: libpq5 + {', '.join(sorted(set(libpq) - {'libpq5'}))}",
            f"{libpq_bytes / MB:+6.1f} MB",
        ),
        ("net change on disk", f"{added / MB:+6.1f} MB"),
        ("net change compressed (slim savings not counted)", f"{added_gz / MB:+6.1f} MB"),
    ]
    print("backend image environment (slimmed venv, bytecode compiled; this machine's Python)")
    for label, value in rows:
        print(f"  {label:<52} {value}")
    print(
        f"  backend image projected  {baseline_mb + added / MB:.1f} MB on disk, "
        f"{baseline_compressed_mb + added_gz / MB:.1f} MB compressed "
        f"(from {baseline_mb:g} / {baseline_compressed_mb:g} MB before; budget 200 / 70 MB)"
    )


def start_figures() -> None:
    async def once(log: Any) -> float:
        started = time.perf_counter()
        async with stdio_session("http://127.0.0.1:9", None, log) as session:
            tools = await session.list_tools()
            elapsed = time.perf_counter() - started
        assert len(tools.tools) > 0
        return elapsed

    with open(os.devnull, "w") as log:
        times = [anyio.run(once, log) for _ in range(RUNS)]
    print(
        f"start to first list_tools (stdio, {RUNS} runs): median {statistics.median(times):.2f} s, "
        f"min {min(times):.2f} s, max {max(times):.2f} s"
    )


def transcript() -> None:
    with tempfile.TemporaryDirectory(prefix="ktrdr-mcp-transcript-") as folder:
        stack = Stack(home=Path(folder) / "home")
        stack.start_backend()
        try:
            stack.start_worker("trainer", "training")
            stack.start_worker("backtester", "backtesting")
            stack.wait_for_workers(backtesting=1, training=1)
            with (Path(folder) / "mcp.log").open("w") as log:
                anyio.run(_exchange, stack.api_url, log)
        finally:
            stack.stop_all()


async def _exchange(api_url: str, log: Any) -> None:
    async with stdio_session(api_url, None, log) as session:

        async def step(tool: str, keep: tuple[str, ...] = (), **arguments: Any) -> dict[str, Any]:
            shown = {
                k: (v if len(str(v)) < 60 else f"<{len(str(v))} chars>")
                for k, v in arguments.items()
            }
            print(f"> {tool}({json.dumps(shown)})")
            started = time.perf_counter()
            body = structured(await call(session, tool, **arguments))
            trimmed = {k: body[k] for k in keep if k in body} if keep else body
            print(f"< {compact(trimmed, 700)}   [{time.perf_counter() - started:.2f} s]")
            return body

        await step("check_backend_health", ("status", "workers"))
        await step(
            "upload_strategy",
            ("name", "valid", "symbols", "timeframes"),
            name="canary_smoke",
            yaml_text=canary_strategy(),
            replace=True,
        )
        started = await step(
            "start_training", ("operation_id", "status"), strategy_name="canary_smoke"
        )
        trained = await step(
            "get_operation_status",
            ("status", "terminal", "waited_seconds"),
            operation_id=started["operation_id"],
            wait_seconds=60,
            max_items=2,
        )
        model_id = trained["result"]["model_id"]
        print(f"  result.model_id = {model_id}, epochs_run = {trained['result']['epochs_run']}")
        metrics = await step(
            "get_operation_metrics",
            ("model_id", "best_epoch", "history", "truncated"),
            operation_id=started["operation_id"],
            max_items=2,
        )
        test = metrics["metrics"]["test"]
        print(f"  metrics.test: loss {test['loss']:.4f}, accuracy {test['accuracy']:.3f}")
        backtest = await step(
            "start_backtest",
            ("operation_id", "status"),
            strategy_name="canary_smoke",
            model_path=model_id,
        )
        await step(
            "get_operation_status",
            ("status", "terminal", "waited_seconds"),
            operation_id=backtest["operation_id"],
            wait_seconds=60,
        )
        results = await step(
            "get_operation_results",
            ("truncated",),
            operation_id=backtest["operation_id"],
            max_items=2,
        )
        result = results["result"]
        print(f"  result.metrics = {compact(result['metrics'], 700)}")
        print(f"  result.range = {result['range']}, signal_counts = {result['signal_counts']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", action="store_true")
    parser.add_argument("--start", action="store_true")
    parser.add_argument("--transcript", action="store_true")
    parser.add_argument("--baseline-mb", type=float, default=187.0)
    parser.add_argument("--baseline-compressed-mb", type=float, default=63.0)
    args = parser.parse_args()
    everything = not (args.size or args.start or args.transcript)
    if args.size or everything:
        size_figures(args.baseline_mb, args.baseline_compressed_mb)
    if args.start or everything:
        start_figures()
    if args.transcript or everything:
        transcript()


if __name__ == "__main__":
    main()
