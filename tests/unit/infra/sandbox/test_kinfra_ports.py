"""The port scheme: no published port shared by two slots, none a local default."""

from __future__ import annotations

from itertools import combinations

import pytest

from ktrdr.infra.sandbox.ports import LOCAL_DEFAULT_PORTS, SLOTS, ports


def test_slot_one_follows_the_documented_scheme() -> None:
    p = ports(1)
    assert (p.api, p.mcp, p.db, p.prometheus) == (8101, 8201, 5501, 9101)
    assert p.backtest_workers == (5011, 5012, 5013, 5014)
    assert p.training_workers == (5015, 5016, 5017, 5018)
    assert p.published() == {
        "api": 8101,
        "mcp": 8201,
        "db": 5501,
        "prometheus": 9101,
        "backtest_worker": 5011,
        "training_worker": 5015,
    }


@pytest.mark.parametrize("slot", list(SLOTS))
def test_slot_ports_avoid_the_local_defaults_and_each_other(slot: int) -> None:
    reserved = ports(slot).reserved()
    assert not reserved & LOCAL_DEFAULT_PORTS
    assert len(reserved) == 4 + 4 + 4  # no two services of a slot share a port
    assert all(1024 < port < 65536 for port in reserved)


def test_no_two_slots_share_a_port() -> None:
    for a, b in combinations(SLOTS, 2):
        assert not ports(a).reserved() & ports(b).reserved(), (a, b)


@pytest.mark.parametrize("slot", [0, 10, -1])
def test_slots_outside_one_to_nine_are_refused(slot: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.9"):
        ports(slot)
