"""The real parts every system's stand-in shares in one run: one request log, one
PostgreSQL cluster, one container engine, one moto server and one DNS server.

Each part starts once, on first use, whichever stand-in asks first, and the others get
the same one: two systems' databases live side by side in one cluster, and a second
system's AWS overrides and seeds are added to the running moto server. A part may also
be warmed (started in the background) so a slow boot overlaps other work: the engine
starts while PostgreSQL builds its databases.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Generic, TypeVar

from sandbox.parts import images, postgres
from sandbox.parts.aws import AwsServer, Override
from sandbox.parts.dns import DnsServer, Record
from sandbox.parts.engine import Engine
from sandbox.parts.http import RequestLog
from sandbox.parts.lifecycle import Managed
from sandbox.parts.standin import Workdir

PartT = TypeVar("PartT", bound=Managed)
Seed = Callable[[AwsServer], None]
# How long stopping waits for a start still in progress before stopping what it made.
START_WAIT = 60


class Unavailable(RuntimeError):
    """A part that cannot run on this machine or did not start; the message is the one
    line the profile shows for the checks that needed it."""


class _Once(Generic[PartT]):
    """One part, started at most once, in its own thread, however many ask."""

    def __init__(self, name: str, make: Callable[[], PartT]) -> None:
        self._name = name
        self._make = make
        self._lock = threading.Lock()
        self._future: Future[PartT] | None = None
        self._made: PartT | None = None

    def warm(self) -> Future[PartT]:
        with self._lock:
            if self._future is None:
                self._future = Future()
                threading.Thread(target=self._run, name=f"sandbox-{self._name}",
                                 daemon=True).start()
            return self._future

    def get(self) -> PartT:
        return self.warm().result()

    def running(self) -> PartT | None:
        """The part if it started, without starting or waiting for it."""
        future = self._future
        if future is None or not future.done() or future.exception() is not None:
            return None
        return future.result()

    def _run(self) -> None:
        future = self._future
        assert future is not None
        try:
            self._made = self._make()
            future.set_result(self._made.start())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
            future.set_exception(exc)

    def stop(self) -> None:
        """Let a start in progress finish, then stop whatever it made (even half-made)."""
        with self._lock:
            future, self._future = self._future, None
        if future is None:
            return
        with contextlib.suppress(BaseException):
            future.result(timeout=START_WAIT)
        made, self._made = self._made, None
        if made is not None:
            with contextlib.suppress(Exception):
                made.stop()


class _Image(Managed):
    """The containers' image, built on the engine as soon as it is up."""

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self._engine = engine

    def start(self) -> _Image:
        images.ensure_image(self._engine())
        return self

    def stop(self) -> None:
        """The image goes with the engine's storage."""


class Parts:
    """Thread-safe and lazily started; ``stop()`` is safe twice and after failures."""

    def __init__(self, workdir: Path | str | None = None) -> None:
        self.log = RequestLog()
        self._dir = Workdir(workdir, "sandbox-parts-")
        self._postgres = _Once("postgres", self._make_postgres)
        self._engine = _Once("engine", lambda: Engine(self._dir.open() / "engine"))
        self._image = _Once("image", lambda: _Image(self._engine.get))
        self._aws = _Once("aws", lambda: AwsServer(self.log))
        self._dns = _Once("dns", lambda: DnsServer([], self.log))
        self._log_mark = 0

    def _make_postgres(self) -> postgres.Postgres:
        ok, reason = postgres.available()
        if not ok:
            raise Unavailable(f"no PostgreSQL server here ({reason})")
        return postgres.Postgres(self._dir.open() / "postgres")

    def postgres(self) -> postgres.Postgres:
        """The one cluster; raises Unavailable saying why there is none."""
        try:
            return self._postgres.get()
        except Unavailable:
            raise
        except Exception as exc:
            raise Unavailable(f"the sandbox's PostgreSQL did not start ({exc})") from exc

    def warm_engine(self) -> None:
        """Start the engine in the background, then build the containers' image on it:
        ``engine()`` waits for the engine, and ``images.ensure_image`` finds the image
        built. The build (about 1 s) no longer waits for what the containers need from
        other parts, such as PostgreSQL's port."""
        self._engine.warm()
        self._image.warm()

    def engine(self) -> Engine:
        """The podman engine; raises what its start raised (EngineUnavailable when no
        engine can run here)."""
        return self._engine.get()

    def aws(self, overrides: Iterable[Override] = (), seeds: Iterable[Seed] = (),
            outages: Iterable[Override] = ()) -> AwsServer:
        """The moto server, with the caller's overrides in front of it (its outages in
        front of every system's overrides) and its seeds applied (through HTTP, before
        the request log starts)."""
        server = self._aws.get()
        server.add_overrides(overrides)
        server.add_outages(outages)
        for seed in seeds:
            seed(server)
        return server

    def dns(self, records: Iterable[Record]) -> DnsServer:
        """The DNS server, serving the caller's records as well."""
        server = self._dns.get()
        server.add(records)
        return server

    def seal(self) -> None:
        """Every system is up: from now on the request log shows AWS calls, and the query
        log shows only what the databases receive after boot."""
        aws = self._aws.running()
        if aws is not None:
            aws.start_logging()
        pg = self._postgres.running()
        self._log_mark = pg.log_mark() if pg is not None else 0

    def statements(self) -> list[tuple[str, str]]:
        """(role, statement) the cluster received since ``seal()``."""
        pg = self._postgres.running()
        return pg.statements(self._log_mark) if pg is not None else []

    def stop(self) -> None:
        """The parts share nothing, so they stop side by side: the run's teardown waits
        for the slowest (PostgreSQL's shutdown) rather than for their sum."""
        self._image.stop()  # a build still running would find its engine gone
        parts = (self._dns, self._aws, self._engine, self._postgres)
        with ThreadPoolExecutor(len(parts), thread_name_prefix="sandbox-stop") as pool:
            list(pool.map(lambda part: part.stop(), parts))
        self._dir.remove()
