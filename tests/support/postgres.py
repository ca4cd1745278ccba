"""A throw-away PostgreSQL server for tests: initdb in a temporary folder, one per session.

Uses the PostgreSQL binaries installed on the machine (Debian's ``postgresql-15``, in
``/usr/lib/postgresql/15/bin``; ``KTRDR_PG_BIN`` names another folder). PostgreSQL refuses
to run as root, so under root (CI) every server command runs as the ``postgres`` system
user, in a folder it owns. Without the binaries the tests that need the server are skipped.

    from tests.support.postgres import postgres_server, postgres_url  # noqa: F401

    def test_something(postgres_url: str) -> None:   # .../ktrdr, shared by the session
        ...

    def test_isolated(postgres_server: PostgresServer) -> None:
        url = postgres_server.create_database()      # a new, empty database
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.fake_backend import free_port

PG_BIN = Path(os.environ.get("KTRDR_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "postgres"  # the database role; also the system user the server runs as
DATABASE = "ktrdr"
_START_ATTEMPTS = 3  # the free port can be taken between choosing it and binding it


@dataclass
class PostgresServer:
    root: Path  # owned by the server's system user; the data dir and socket live here
    port: int
    run_as: str | None  # system user for the server commands (None: the current user)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str = DATABASE, driver: str = "+psycopg") -> str:
        return f"postgresql{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new, empty database (a unique name by default); returns its URL."""
        name = name or f"test_{uuid.uuid4().hex[:12]}"
        self._client("createdb", name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._client("dropdb", "--force", "--if-exists", name)

    def start(self) -> None:
        options = " ".join(
            [
                f"-p {self.port}",
                f"-k {self.root}",  # the Unix socket, away from /var/run/postgresql
                "-c listen_addresses=127.0.0.1",
                # A test server: durability does not matter, speed does.
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
            ]
        )
        _run(
            [
                PG_BIN / "pg_ctl",
                *("-D", self.data_dir, "-l", self.log_file, "-o", options),
                *("-w", "-t", "60", "start"),
            ],
            self.run_as,
            cwd=self.root,
        )

    def stop(self) -> None:
        _run(
            [PG_BIN / "pg_ctl", "-D", self.data_dir, "-m", "fast", "-w", "stop"],
            self.run_as,
            cwd=self.root,
            check=False,
        )

    def server_log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return ""

    def _client(self, program: str, *args: str) -> None:
        # Client programs connect over TCP as the superuser role (trust auth): any OS
        # user may run them, root included.
        _run(
            [PG_BIN / program, "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, *args],
            None,
            cwd=self.root,
        )


def postgres_unavailable_reason() -> str | None:
    """Why no test server can be started here, or None when it can."""
    missing = [p for p in ("initdb", "pg_ctl", "postgres", "createdb") if not (PG_BIN / p).exists()]
    if missing:
        return (
            f"PostgreSQL server binaries not found in {PG_BIN} (missing {', '.join(missing)}): "
            "install Debian's postgresql-15 or set KTRDR_PG_BIN"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError:
            return f"running as root and there is no {SUPERUSER!r} system user to run PostgreSQL"
        if shutil.which("runuser") is None:
            return "running as root and runuser is not available to drop to the postgres user"
    return None


def start_postgres() -> PostgresServer:
    """initdb and start a server on a free port; the caller must :meth:`stop` it."""
    reason = postgres_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    run_as = SUPERUSER if os.geteuid() == 0 else None
    # Not under pytest's tmp_path: that is private to root (0700), out of the postgres
    # user's reach.
    root = Path(tempfile.mkdtemp(prefix="ktrdr-pg-"))
    try:
        if run_as is not None:
            user = pwd.getpwnam(run_as)
            os.chown(root, user.pw_uid, user.pw_gid)
        _run(
            [
                PG_BIN / "initdb",
                *("-D", root / "data", "-U", SUPERUSER, "--auth=trust"),
                *("-E", "UTF8", "--locale=C", "--no-sync"),
            ],
            run_as,
            cwd=root,
        )
        server = _start_on_a_free_port(root, run_as)
        try:
            server.create_database(DATABASE)
        except BaseException:
            server.stop()
            raise
        return server
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def stop_postgres(server: PostgresServer) -> None:
    try:
        server.stop()
    finally:
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throw-away PostgreSQL 15 server for the whole test session."""
    server = start_postgres()
    try:
        yield server
    finally:
        stop_postgres(server)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """``postgresql+psycopg://postgres@127.0.0.1:<port>/ktrdr`` on the session's server."""
    return postgres_server.url(DATABASE)


def _start_on_a_free_port(root: Path, run_as: str | None) -> PostgresServer:
    for attempt in range(1, _START_ATTEMPTS + 1):
        server = PostgresServer(root=root, port=free_port(), run_as=run_as)
        try:
            server.start()
            return server
        except subprocess.CalledProcessError as error:
            if attempt == _START_ATTEMPTS:
                raise RuntimeError(
                    f"PostgreSQL did not start: {error.stderr or error.stdout}\n"
                    f"server log:\n{server.server_log()}"
                ) from error
    raise AssertionError("unreachable")


def _run(
    command: list[str | Path],
    run_as: str | None,
    *,
    cwd: Path,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    args = [str(part) for part in command]
    if run_as is not None:
        args = ["runuser", "-u", run_as, "--", *args]
    # LC_ALL=C: initdb and the server must not depend on the caller's locale settings.
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    for variable in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGDATA"):
        env.pop(variable, None)
    return subprocess.run(
        args, cwd=cwd, env=env, check=check, capture_output=True, text=True, timeout=120
    )
