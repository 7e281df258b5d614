"""Celery beat entries read from the backend's Django settings file, without running it.

The settings module imports Django, Celery and the environment, so it is read as a syntax
tree: `CELERY_BEAT_SCHEDULE`'s dict literal, each entry's task, schedule (`crontab(...)`,
`timedelta(...)` or seconds) and `enabled` flag, and `CELERY_TIMEZONE` followed through
a name (`= TIME_ZONE`) to `env("TIME_ZONE", default=...)`, which the backend's env file
decides.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


@dataclass(frozen=True)
class Entry:
    name: str
    task: str | None
    cadence: str
    enabled: bool


def _assignments(tree: ast.Module) -> dict[str, ast.expr]:
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value
    return found


def _value(node: ast.expr | None, names: dict[str, ast.expr], env: dict[str, str]):
    """A literal, a settings name, or `env(...)`/`env.str(...)` with its default."""
    if node is None:
        return None
    if isinstance(node, ast.Name) and node.id in names:
        return _value(names[node.id], names, env)
    if isinstance(node, ast.Call) and _callee(node) in ("env", "env.str"):
        key = _value(node.args[0], names, env) if node.args else None
        default = next((k.value for k in node.keywords if k.arg == "default"), None)
        return env.get(str(key), _value(default, names, env))
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _callee(call: ast.Call) -> str:
    return ast.unparse(call.func)


def cadence(node: ast.expr | None) -> str:
    """A schedule in words: `every 30 min`, `hourly 6-22`, `daily 02:15`, `weekly`."""
    if isinstance(node, ast.Call) and _callee(node).endswith("crontab"):
        given = {k.arg: str(ast.literal_eval(k.value)) for k in node.keywords if k.arg}
        fields = {f: given.get(f, "*") for f in CRON_FIELDS}
        return _cron_words(fields)
    if isinstance(node, ast.Call) and _callee(node).endswith("timedelta"):
        units = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
        seconds = sum(units.get(k.arg or "", 0) * ast.literal_eval(k.value) for k in node.keywords)
        return _interval_words(seconds)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return _interval_words(node.value)
    return ast.unparse(node) if node is not None else "none"


def _interval_words(seconds: float) -> str:
    if seconds == 604800:
        return "weekly"
    if seconds == 86400:
        return "daily"
    return f"every {seconds / 60:g} min"


def _cron_words(f: dict[str, str]) -> str:
    minute, hour, dom, month, dow = (f[k] for k in CRON_FIELDS)
    if minute.startswith("*/") and hour == dom == month == dow == "*":
        return f"every {minute[2:]} min"
    if minute.isdigit() and dom == month == "*":
        if hour == "*" and dow == "*":
            return "hourly"
        if "-" in hour and hour.replace("-", "").isdigit() and dow == "*":
            return f"hourly {hour}"
        if hour.isdigit() and dow == "*":
            return f"daily {int(hour):02d}:{int(minute):02d}"
        if hour.isdigit() and dow not in ("*", "") and "," not in dow and "-" not in dow:
            return "weekly"
    return " ".join(f.values())


def read(source: str, env: dict[str, str]) -> tuple[dict[str, Entry], str | None]:
    """The beat entries by name and the timezone they run in. Raises SyntaxError."""
    names = _assignments(ast.parse(source))
    schedule = names.get("CELERY_BEAT_SCHEDULE")
    entries = {}
    if isinstance(schedule, ast.Dict):
        for key, body in zip(schedule.keys, schedule.values, strict=True):
            if not isinstance(key, ast.Constant) or not isinstance(body, ast.Dict):
                continue
            fields = {k.value: v for k, v in zip(body.keys, body.values, strict=True)
                      if isinstance(k, ast.Constant)}
            options = _value(fields.get("options"), names, env) or {}
            enabled = _value(fields.get("enabled"), names, env)
            if enabled is None and isinstance(options, dict):
                enabled = options.get("enabled")
            entries[key.value] = Entry(key.value, _value(fields.get("task"), names, env),
                                       cadence(fields.get("schedule")), enabled is not False)
    timezone = _value(names.get("CELERY_TIMEZONE"), names, env)
    return entries, (str(timezone) if timezone is not None else None)
