"""The worker runtime against the real backend app (not the fake), both on real HTTP."""

from __future__ import annotations

from pathlib import Path

from ktrdr.control.api.app import create_app
from ktrdr.core.enums import WorkerType
from ktrdr.core.settings import Settings
from ktrdr.workers.runtime import create_worker_app
from tests.support.fake_backend import ThreadServer, free_port, wait_for
from tests.support.http import HTTP
from tests.support.stack import canary_strategy
from tests.unit.workers.conftest import TEST_CAPABILITIES
from tests.unit.workers.test_worker_runtime import quick_job


def test_a_worker_registers_takes_a_dispatch_and_its_report_is_accepted(tmp_path: Path) -> None:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "canary_smoke.yaml").write_text(canary_strategy())
    backend_port, worker_port = free_port(), free_port()
    backend_settings = Settings(home=tmp_path / "home", strategies_dir=strategies)
    worker_settings = Settings(
        home=tmp_path / "home",
        api_url=f"http://127.0.0.1:{backend_port}",
        worker_id="real-bt",
        worker_host="127.0.0.1",
        worker_port=worker_port,
        worker_heartbeat_s=0.2,
    )
    worker = create_worker_app(
        WorkerType.BACKTESTING, quick_job, worker_settings, capabilities=TEST_CAPABILITIES
    )
    with (
        ThreadServer(create_app(backend_settings), backend_port) as backend,
        ThreadServer(worker, worker_port),
    ):
        api = f"{backend.url}/api/v1"
        wait_for(lambda: HTTP.get(f"{api}/workers").json(), timeout_s=15)
        started = HTTP.post(
            f"{api}/backtests/start", json={"strategy_name": "canary_smoke", "symbol": "IBM"}
        ).json()
        done = wait_for(
            lambda: (
                (op := HTTP.get(f"{api}/operations/{started['operation_id']}").json())["status"]
                == "completed"
                and op
            ),
            timeout_s=15,
        )
        assert done["worker_id"] == "real-bt"
        assert done["result"] == {"echo": {"symbol": "IBM"}, "answer": 42}
        assert done["progress"]["percent"] == 100.0
        assert done["progress"]["message"] == "completed"
        (registered,) = HTTP.get(f"{api}/workers").json()
        assert registered["status"] == "idle"
