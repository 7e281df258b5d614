"""One ``with`` protocol for everything the sandbox starts, so each part only says how
it starts and stops."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Managed:
    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
