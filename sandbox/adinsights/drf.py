"""Conventions of the backend's DRF views: local-time timestamps, page-number pagination,
request parsing and field errors, reproduced so that checks parsing them meet what the
real backend sends."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlencode

from sandbox.parts.http import Request

# TIME_ZONE is America/Jamaica, which keeps -05:00 all year (no daylight saving).
LOCAL_TIME = timezone(timedelta(hours=-5), "America/Jamaica")
INVALID_PAGE = {"detail": "Invalid page."}
REQUIRED = ["This field is required."]


class ParseError(ValueError):
    """A body DRF's parsers refuse; `body` is the 400 answer."""

    def __init__(self, body: dict) -> None:
        super().__init__(body)
        self.body = body


def request_data(request: Request) -> dict:
    """`request.data` of a JSON or form-encoded POST, as DRF's parsers produce it."""
    if "application/x-www-form-urlencoded" in request.headers.get("Content-Type", ""):
        return {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8")).items()}
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError({"detail": f"JSON parse error - {exc}"}) from None
    if not isinstance(data, dict):
        raise ParseError({"non_field_errors": ["Invalid data. Expected a dictionary."]})
    return data


def missing_fields(values: Mapping[str, object]) -> dict[str, list[str]]:
    """Serializer errors for required fields that are absent or blank."""
    return {name: REQUIRED for name, value in values.items() if not value}


def drf_time(moment: datetime | None) -> str | None:
    """DateTimeField output: the TIME_ZONE offset and microseconds kept."""
    return None if moment is None else moment.astimezone(LOCAL_TIME).isoformat()


def _positive(text: str | None) -> int | None:
    try:
        number = int(text or "")
    except ValueError:
        return None
    return number if number > 0 else None


def _link(request: Request, query: dict[str, list[str]], page: int) -> str:
    """Like DRF's replace_query_param: page 1 drops the parameter, keys come out sorted."""
    query = {key: values for key, values in query.items() if key != "page"}
    if page > 1:
        query["page"] = [str(page)]
    host = request.headers.get("Host", "testserver")
    encoded = urlencode(sorted(query.items()), doseq=True)
    return f"http://{host}{request.path}" + (f"?{encoded}" if encoded else "")


def paginate(
    request: Request, rows: list, page_size: int, max_page_size: int = 100
) -> tuple[int, dict]:
    """PageNumberPagination with `?page_size=` capped at max_page_size; a bad page size
    falls back to the default, a bad page number is a 404, as in DRF."""
    query = parse_qs(request.query, keep_blank_values=True)
    requested = _positive((query.get("page_size") or [""])[-1])
    size = min(requested, max_page_size) if requested else page_size
    pages = max(1, -(-len(rows) // size))
    raw = (query.get("page") or ["1"])[-1]
    page = pages if raw == "last" else _positive(raw)
    if page is None or page > pages:
        return 404, INVALID_PAGE
    return 200, {
        "count": len(rows),
        "next": _link(request, query, page + 1) if page < pages else None,
        "previous": _link(request, query, page - 1) if page > 1 else None,
        "results": rows[(page - 1) * size : page * size],
    }
