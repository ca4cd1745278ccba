"""Research at scale on this host: a walk-forward and a sweep of rsi_macd_trend, timed.

For each W in ``--workers`` (default 1 and 2): one backend (SQLite), one research worker
(the drivers), W training and W backtest workers, as processes on 127.0.0.1. Then a
``--folds``-fold walk-forward (default 5) and a ``--trials``-trial sweep (default 20,
``strategies/rsi_macd_trend.space.yaml``, TPE, objective Sharpe ratio on the validation
split, ``parallel`` = W). Prints wall times, trials pruned, the best trial's validation
score and its test-split metrics. With ``--drills`` (and W >= 2), one lost-worker drill
per parent type: a training child's worker is killed (SIGKILL) mid-run; printed: seconds
until the child runs again elsewhere, its attempts, and whether the parent completed
with no duplicate children.

    uv run --no-sync python benchmarks/research_scale.py [--workers 1 2] [--drills]

Every wait is bounded (``--timeout`` per parent). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.fake_backend import wait_for
from tests.support.paths import REPO_ROOT
from tests.support.stack import Stack

STRATEGY = "rsi_macd_trend"
SPACE_FILE = REPO_ROOT / "strategies" / f"{STRATEGY}.space.yaml"


def start_stack(workers: int) -> Stack:
    env = {
        "KTRDR_LOG_LEVEL": "WARNING",
        "KTRDR_TORCH_THREADS": "1",  # 2W+1 torch processes share two cores
        "KTRDR_OPERATION_MAX_RETRIES": "1",  # the drills re-queue a child once
        # Busy trainers answer health checks late on two cores: not lost for that.
        "KTRDR_HEALTH_INTERVAL_S": "1",
        "KTRDR_WORKER_FAILURE_THRESHOLD": "3",
    }
    stack = Stack(home=Path(tempfile.mkdtemp(prefix="ktrdr-scale-")), env_overrides=env)
    stack.start_backend()
    stack.start_worker("driver", "research")
    for n in range(1, workers + 1):
        stack.start_worker(f"trainer-{n}", "training")
        stack.start_worker(f"backtester-{n}", "backtesting")
    stack.wait_for_workers(backtesting=workers, training=workers)
    wait_for(lambda: stack.get("/health")["workers"]["research"] >= 1, timeout_s=60)
    stack.put_strategy(STRATEGY, (REPO_ROOT / "strategies" / f"{STRATEGY}.yaml").read_text())
    return stack


def children(stack: Stack, parent_id: str) -> dict[str, dict[str, Any]]:
    body = stack.get(f"/operations/{parent_id}/children")
    return {child["child_key"]: child for child in body["children"]}


def run_parent(stack: Stack, path: str, body: dict[str, Any], timeout_s: float) -> dict:
    started = time.monotonic()
    parent_id = stack.post(path, body)["operation_id"]
    done = stack.wait_status(parent_id, "completed", "failed", "cancelled", timeout_s=timeout_s)
    done["wall_s"] = time.monotonic() - started
    return done


def walkforward_body(folds: int, workers: int) -> dict[str, Any]:
    return {"strategy_name": STRATEGY, "folds": folds, "max_parallel": max(workers, 1)}


def sweep_body(trials: int, workers: int) -> dict[str, Any]:
    space = yaml.safe_load(SPACE_FILE.read_text())["params"]
    return {
        "strategy_name": STRATEGY,
        "space": space,
        "trials": trials,
        "objective": "sharpe_ratio",
        "parallel": workers,
        "seed": 42,
    }


def _print_outcome(kind: str, done: dict[str, Any]) -> bool:
    """The run's status and wall time (its error if it failed); True if it completed."""
    print(f"  {kind}: {done['status']} in {done['wall_s']:.1f} s")
    if done["status"] != "completed":
        print(f"    error: {done['error']}")
        return False
    return True


def print_walkforward(done: dict[str, Any]) -> None:
    if not _print_outcome("walk-forward", done):
        return
    result = done["result"]
    for row in result["folds"]:
        m = row["metrics"]
        print(
            f"    fold {row['fold']}: test {row['test']['start'][:10]}..{row['test']['end'][:10]}"
            f" return {m.get('total_return'):+.3f} sharpe {m.get('sharpe_ratio'):.2f}"
            f" (buy and hold {row['benchmark_return']:+.3f})"
        )
    stitched = result["stitched"]
    print(
        f"    stitched over {stitched['bars']} bars: return "
        f"{stitched['metrics']['total_return']:+.3f}, sharpe "
        f"{stitched['metrics']['sharpe_ratio']:.2f}, max drawdown "
        f"{stitched['metrics']['max_drawdown']:.3f}; buy and hold "
        f"{stitched['benchmark']['total_return']:+.3f}"
    )


def print_sweep(done: dict[str, Any]) -> None:
    if not _print_outcome("sweep", done):
        return
    result = done["result"]
    counts = result["counts"]
    print(
        f"    trials: {counts['complete']} complete, {counts['pruned']} pruned, "
        f"{counts['fail']} failed (of {result['trials_requested']})"
    )
    best = result["best"]
    if best is None:
        print("    no complete trial")
        return
    print(f"    best trial #{best['number']}: validation {result['objective']} {best['value']:.3f}")
    print(f"      values: {best['values']}")
    test = best["test_backtest"]
    if test:
        m = test["metrics"]
        print(
            f"      test split: return {m['total_return']:+.3f}, sharpe "
            f"{m['sharpe_ratio']:.2f}, max drawdown {m['max_drawdown']:.3f}, "
            f"{m['num_trades']} trades; buy and hold {test['benchmark']['total_return']:+.3f}"
        )
    else:
        print(f"      test split: {best['test_error']}")
    print(f"      saved as strategy {best['strategy_name']}")


def drill(stack: Stack, kind: str, timeout_s: float) -> None:
    """Kill the worker of a running training child; the parent must still complete."""
    if kind == "walkforward":
        path, body = "/walkforward/start", walkforward_body(3, 2)
    else:
        path, body = "/sweeps/start", {**sweep_body(4, 2), "pruning": False}
    parent_id = stack.post(path, body)["operation_id"]
    victim = wait_for(
        lambda: next(
            (
                kid
                for key, kid in children(stack, parent_id).items()
                if key.endswith("-train")
                and kid["status"] == "running"
                and kid["worker_id"] == "trainer-1"
            ),
            None,
        ),
        timeout_s=timeout_s,
        interval_s=0.1,
    )
    stack.stop("trainer-1", signal.SIGKILL)
    killed = time.monotonic()
    again = wait_for(
        lambda: (
            (op := stack.operation(victim["id"]))["attempts"] >= 1
            and op["status"] in {"running", "completed"}
            and op
        ),
        timeout_s=timeout_s,
        interval_s=0.1,
    )
    requeued_s = time.monotonic() - killed
    done = stack.wait_status(parent_id, "completed", "failed", timeout_s=timeout_s)
    kids = children(stack, parent_id)
    final = stack.operation(victim["id"])
    print(
        f"  drill ({kind}): trainer-1 killed during {victim['child_key']}; running again on "
        f"{again['worker_id']} after {requeued_s:.1f} s; child {final['status']} with "
        f"{final['attempts']} re-queue(s); parent {done['status']}; {len(kids)} children "
        f"({len(set(kids))} distinct keys)"
    )
    stack.start_worker("trainer-1", "training")  # back to W workers for what follows
    stack.wait_for_workers(training=2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--drills", action="store_true")
    args = parser.parse_args()
    walls: dict[int, dict[str, float]] = {}
    for workers in args.workers:
        print(f"W={workers}: {workers} training + {workers} backtest worker(s), 1 research worker")
        stack = start_stack(workers)
        try:
            wf = run_parent(
                stack, "/walkforward/start", walkforward_body(args.folds, workers), args.timeout
            )
            print_walkforward(wf)
            sweep = run_parent(
                stack, "/sweeps/start", sweep_body(args.trials, workers), args.timeout
            )
            print_sweep(sweep)
            walls[workers] = {"walkforward": wf["wall_s"], "sweep": sweep["wall_s"]}
            if args.drills and workers >= 2:
                for kind in ("walkforward", "sweep"):
                    drill(stack, kind, args.timeout)
        finally:
            stack.stop_all()
    if 1 in walls:
        for workers, wall in sorted(walls.items()):
            if workers != 1:
                print(
                    f"speed-up W=1 -> W={workers}: walk-forward "
                    f"{walls[1]['walkforward'] / wall['walkforward']:.2f}x, sweep "
                    f"{walls[1]['sweep'] / wall['sweep']:.2f}x"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
