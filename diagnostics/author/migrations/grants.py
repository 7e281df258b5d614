"""The table grants a grants file declares, as the catalog can be asked about them."""

from __future__ import annotations

import re

_GRANT = re.compile(r"GRANT\s+(.+?)\s+ON\s+(TABLE\s+)?(.+?)\s+TO\s+(.+?)\s*;",
                    re.IGNORECASE | re.DOTALL)


def parse_grants(text: str) -> list[tuple[str, str, str]]:
    """(role, table, privilege) for each table grant of a grants file; schema, sequence
    and function grants are left to the migration itself."""
    text = re.sub(r"--[^\n]*", "", text)
    found = []
    for privileges, _, objects, roles in _GRANT.findall(text):
        if re.match(r"(SCHEMA|SEQUENCE|FUNCTION|ALL\s)", objects.strip(), re.IGNORECASE):
            continue
        for role in (r.strip().strip('"') for r in roles.split(",")):
            for table in (t.strip().strip('"') for t in objects.split(",")):
                for privilege in (p.strip().upper() for p in privileges.split(",")):
                    found.append((role, table, privilege))
    return found
