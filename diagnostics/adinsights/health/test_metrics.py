"""The Prometheus exposition at ``/metrics/app/`` carries the series alerts depend on."""

import re

from fixtures.catalog import check
from fixtures.expect import expect

_TYPE = re.compile(r"^# TYPE (\S+) ", re.MULTILINE)


@check("adinsights.health.metrics.series",
       severity="medium", runbook="health.md#prometheus-metrics",
       needs=("api",))
def test_required_series(app_metrics, diag):
    expect("[STATUS]", app_metrics.outcome, "==", "200")
    expect("[CONTENT-TYPE]", app_metrics.header("content-type"), "contains", "text/plain")
    declared = set(_TYPE.findall(app_metrics.text))
    required = diag.profile.health.get("required_metrics", [])
    expect("required metric families missing", [m for m in required if m not in declared],
           "is empty")
