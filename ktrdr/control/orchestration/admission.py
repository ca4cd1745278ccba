"""Who may register as a worker: an endpoint in the allowed networks, and an id not taken.

The registration's URL already has its shape checked (``check_endpoint_url``: scheme,
host and port only). Here its host must resolve into ``KTRDR_WORKER_NETWORKS``, since
the backend will call it with the worker secret attached. And a registration cannot
take over a live worker's id: without that worker's own token it succeeds only when the
registered endpoint no longer answers as the old process (a worker restarted in place
answers with the new process's instance id, the registrant's own).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from ktrdr.control.orchestration.registry import WorkerRegistry
from ktrdr.control.orchestration.worker_client import WorkerCallError, WorkerClient
from ktrdr.core.auth import same_secret
from ktrdr.core.errors import ConflictError, InvalidInputError
from ktrdr.core.protocol import WorkerRegistration

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
PROBE_TIMEOUT_S = 2.0


def check_network(endpoint_url: str, networks: Sequence[Network]) -> None:
    """Every address the host resolves to lies in one of ``networks``."""
    parts = urlsplit(endpoint_url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise InvalidInputError(
            f"cannot resolve the endpoint's host {host[:60]!r}", field="endpoint_url"
        ) from None
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if not any(address in network for network in networks):
            raise InvalidInputError(
                f"the endpoint's address {address} is outside the worker networks "
                "(KTRDR_WORKER_NETWORKS)",
                field="endpoint_url",
            )


def admit(
    registration: WorkerRegistration,
    token: str | None,
    registry: WorkerRegistry,
    client: WorkerClient,
    networks: Sequence[Network],
) -> None:
    """Raise InvalidInputError or ConflictError unless this registration may go ahead."""
    check_network(registration.endpoint_url, networks)
    previous = registry.get(registration.worker_id)
    if previous is None or same_secret(token, previous.token):
        return  # a new id, or the registered worker itself refreshing its registration
    name = registration.worker_id[:128]
    try:
        health = client.health(previous.endpoint_url, PROBE_TIMEOUT_S)
    except WorkerCallError:
        raise ConflictError(
            f"worker id {name!r} is registered at {previous.endpoint_url} and not given up "
            "yet; if that worker is gone, this registration succeeds once its health checks "
            "have failed (KTRDR_WORKER_FAILURE_THRESHOLD)",
            field="worker_id",
        ) from None
    if health.worker_id == registration.worker_id and (
        health.instance_id == registration.instance_id
    ):
        return  # the process at the registered endpoint is the one registering
    raise ConflictError(
        f"worker id {name!r} belongs to a running worker at {previous.endpoint_url}; "
        "give this worker its own KTRDR_WORKER_ID",
        field="worker_id",
    )
