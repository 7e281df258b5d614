"""What every system's stand-in does the same way: keep its files in a directory it is
given or makes, and run its HTTP stand-ins, publishing each one's URL by name."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path
from typing import Protocol


class Service(Protocol):
    name: str

    def start(self) -> str: ...

    def stop(self) -> None: ...


class Workdir:
    """The given directory, or a temporary one that ``remove()`` deletes again.

    Shared parts start in threads of their own and open the same Workdir at the same
    moment (the engine and PostgreSQL do, at every boot): without the lock each could make
    a directory, and ``remove()`` would only know the one kept, leaving the other behind."""

    def __init__(self, given: Path | str | None, prefix: str) -> None:
        self._given = Path(given).resolve() if given is not None else None
        self._prefix = prefix
        self._made: Path | None = None
        self._lock = threading.Lock()

    def open(self) -> Path:
        if self._given is not None:
            return self._given
        with self._lock:
            if self._made is None:
                self._made = Path(tempfile.mkdtemp(prefix=self._prefix))
            return self._made

    def remove(self) -> None:
        with self._lock:
            made, self._made = self._made, None
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


class Services:
    """Started services, stopped in reverse; ``stop()`` only undoes what started."""

    def __init__(self) -> None:
        self._started: list[Service] = []

    def start(self, service: Service) -> str:
        self._started.append(service)
        return service.start()

    def stop(self) -> None:
        started, self._started = self._started, []
        for service in reversed(started):
            service.stop()
