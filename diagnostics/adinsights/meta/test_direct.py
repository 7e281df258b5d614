"""The direct read APIs, walked accounts -> campaigns -> ad sets -> ads, plus insights,
for each test tenant."""

import pytest

from diagnostics.adinsights.meta.conftest import DIRECT, PAGE_KEYS
from fixtures.catalog import check
from fixtures.expect import expect


@pytest.mark.parametrize("resource", list(DIRECT))
@check("adinsights.meta.direct.read", severity="high", runbook="meta.md#direct-read-apis",
       needs=("api", "tenant"), category="contract violation")
def test_direct_read(direct_read, resource):
    expect("[STATUS]", direct_read.outcome, "==", "200")
    body = direct_read.json
    expect("[BODY] keys", sorted(body) if isinstance(body, dict) else type(body).__name__,
           "==", sorted(PAGE_KEYS), note="the paginated list shape")
    rows = body["results"]
    expect("[BODY].results", len(rows) if isinstance(rows, list) else rows, ">", 0)
    fields = DIRECT[resource][2]
    incomplete = [str(row.get("id", n)) for n, row in enumerate(rows)
                  if not all(row.get(f) not in (None, "") for f in fields)]
    expect(f"rows lacking one of {', '.join(fields)}", incomplete, "is empty")
