"""One run's systems, booted on shared parts and torn down again.

The Stack knows no system by name: it is handed stand-ins, starts one set of shared parts
for them, starts every stand-in beside the others (their slow parts, the database builds
and the container boot, overlap), and stops them in reverse before the parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, Self

from sandbox.parts.lifecycle import Managed
from sandbox.parts.shared import Parts


class StandIn(Protocol):
    """What a system offers the Stack; `faults` are the ones it was built with."""

    faults: frozenset[str]

    def start(self, parts: Parts) -> None: ...

    def stop(self) -> None: ...

    def placeholders(self) -> dict[str, str]: ...


class Stack(Managed):
    """`workdir` holds the shared parts' files (a temporary directory when None)."""

    def __init__(self, stand_ins: Sequence[StandIn], workdir: Path | str | None = None) -> None:
        self.stand_ins = tuple(stand_ins)
        self._workdir = workdir
        self.parts: Parts | None = None

    @property
    def request_log(self) -> list[tuple[str, str]]:
        """(method, path) every stand-in's HTTP services, AWS and DNS received."""
        return self.parts.log.entries if self.parts is not None else []

    @property
    def query_log(self) -> list[tuple[str, str]]:
        """(role, statement) the databases received after boot: the proof, beside the
        request log, that a run stayed read-only."""
        return self.parts.statements() if self.parts is not None else []

    def placeholders(self) -> dict[str, str]:
        """The union of every stand-in's placeholders (a shared part, such as the moto
        URL, may appear in more than one, with the same value)."""
        merged: dict[str, str] = {}
        for stand_in in self.stand_ins:
            merged |= stand_in.placeholders()
        return merged

    def start(self) -> Self:
        if self.parts is not None:
            raise RuntimeError("stack already started")
        self.parts = parts = Parts(self._workdir)
        # Stand-ins share nothing but the parts, which are thread-safe.
        pool = ThreadPoolExecutor(max(len(self.stand_ins), 1), thread_name_prefix="sandbox-start")
        try:
            starts = [pool.submit(s.start, parts) for s in self.stand_ins]
            for started in starts:
                started.result()
            parts.seal()
        except BaseException:
            # An interrupt (Ctrl-C, SIGTERM) can land while stand-ins are still starting:
            # let them finish first, or stop() would miss what they start afterwards.
            pool.shutdown(wait=True, cancel_futures=True)
            self.stop()
            raise
        finally:
            pool.shutdown(wait=True)
        return self

    def stop(self) -> None:
        """Safe to call twice or after a failed start: each stand-in only undoes what it
        started, then the parts go."""
        parts, self.parts = self.parts, None
        if parts is None:
            return
        failure: Exception | None = None
        for stand_in in reversed(self.stand_ins):
            try:
                stand_in.stop()
            except Exception as exc:  # noqa: BLE001 - the others and the parts still stop
                failure = failure or exc
        parts.stop()
        if failure is not None:
            raise failure
