"""The API's structured access log: the stream the runbook ships to the log platform."""

from fixtures.catalog import check
from fixtures.expect import expect

# What an access line needs so an incident can be reconstructed from it.
ACCESS_FIELDS = ("method", "path", "status_code", "duration_ms", "correlation_id")
NEWEST = 50


@check("adinsights.health.logs.api_access", severity="medium",
       runbook="health.md#api-access-log")
def test_api_access_log(backend_log):
    lines = backend_log("api.access")
    expect("api.access lines in the API log", len(lines), ">", 0)
    gaps = sorted({f for line in lines[-NEWEST:] for f in ACCESS_FIELDS
                   if line.get(f) in (None, "")})
    expect(f"fields missing from the newest {NEWEST} api.access lines", gaps, "is empty")
    durations = [line["duration_ms"] for line in lines[-NEWEST:]]
    expect("every duration_ms is a number",
           all(isinstance(d, int | float) for d in durations), "==", True)
