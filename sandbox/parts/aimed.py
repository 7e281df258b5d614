"""The sandbox profile re-aimed at one address: every URL, DSN, socket and nameserver
points there, every path is left empty, and nothing is embedded.

The hostile-target self-test and the all-upstreams-down benchmark both need "the whole
profile, but every upstream is this one bad place"; deriving it from the real sandbox
profile keeps them covering every upstream that an area adds.
"""

from __future__ import annotations

import re
from pathlib import Path

SANDBOX_PROFILE = Path(__file__).resolve().parents[2] / "targets" / "sandbox.toml"
_PLACEHOLDER = re.compile(r'"\{sandbox\.([a-z_]+)\}"')


def aimed_profile(url: str, port: int, *, name: str = "aimed",
                  timeouts: tuple[float, float, float] = (1.0, 1.0, 2.0),
                  extra_tenants: int = 0) -> str:
    """``url`` for HTTP upstreams (and AWS); ``port`` on 127.0.0.1 for the rest. The
    extra tenants join every system whose section names tenants."""
    out, table, with_tenants = [], "", []
    for line in SANDBOX_PROFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            table = stripped.strip("[]")
            if table.endswith(".tenants") and table not in with_tenants:
                with_tenants.append(table)
        if table == "timeouts" or stripped.startswith("embedded") or (
                not table and stripped.startswith("name =")):
            continue
        kind = table.rsplit(".", 1)[-1]
        out.append(_PLACEHOLDER.sub(
            lambda m, t=kind, s=stripped: _value(m.group(1), t, s, url, port), line))
    connect, read, total = timeouts
    tenants = "".join(f'\n[[{array}]]\nname = "fleet{n:04d}"\n'
                      f'token_env = "DIAG_AIMED_FLEET{n:04d}_TOKEN"\n'
                      for array in with_tenants for n in range(1, extra_tenants + 1))
    return (f'name = "{name}"\n' + "\n".join(line for line in out if line != "[timeouts]")
            + f"\n[timeouts]\nconnect = {connect}\nread = {read}\ntotal = {total}\n"
            + tenants)


def _value(key: str, table: str, line: str, url: str, port: int) -> str:
    if key.endswith("_unavailable") or table == "paths":
        return '""'
    if table == "urls" or line.startswith("endpoint_url"):
        return f'"{url}"'
    if table == "dsn":
        return f'"postgresql://diagnostics@127.0.0.1:{port}/diagnostics"'
    if table == "sockets":
        return f'"tcp://127.0.0.1:{port}"'
    if key.endswith("_port"):
        return f'"{port}"'
    if key.endswith("_host"):
        return '"127.0.0.1"'
    return '""'
