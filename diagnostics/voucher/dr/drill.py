"""The tabletop's calendar: the first Tuesday of each quarter at 14:00 UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

TUESDAY = 1
HOUR = 14


def quarter(day: date) -> str:
    """``2026-Q4``: sorts the way quarters follow each other."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def drill(year: int, q: int) -> datetime:
    first = date(year, 3 * (q - 1) + 1, 1)
    day = first + timedelta(days=(TUESDAY - first.weekday()) % 7)
    return datetime(day.year, day.month, day.day, HOUR, tzinfo=UTC)


def _this(now: datetime) -> tuple[int, int]:
    return now.year, (now.month - 1) // 3 + 1


def _step(year: int, q: int, by: int) -> tuple[int, int]:
    index = year * 4 + (q - 1) + by
    return index // 4, index % 4 + 1


def last_drill(now: datetime) -> datetime:
    """The most recent scheduled drill that is already due."""
    this = drill(*_this(now))
    return this if now >= this else drill(*_step(*_this(now), -1))


def next_drill(now: datetime) -> datetime:
    """The next scheduled drill: this quarter's if it is still ahead, else next quarter's."""
    this = drill(*_this(now))
    return this if now < this else drill(*_step(*_this(now), 1))
