"""CORS: approved origins are allowed, others get nothing, never with credentials."""

from fixtures.catalog import check
from fixtures.expect import expect

from .conftest import cors_headers


@check("adinsights.edge.cors.approved", severity="high", runbook="edge.md#cors-approved-origin",
       needs=("api",))
def test_approved_origin(preflight, edge_settings):
    origin = edge_settings["approved_origin"]
    answer = preflight(origin)
    expect("[STATUS] of the preflight", answer.outcome, "in", ("200", "204"))
    expect("[HEADER] Access-Control-Allow-Origin", answer.header("access-control-allow-origin"),
           "==", origin)


@check("adinsights.edge.cors.unapproved",
       severity="critical", runbook="edge.md#cors-unapproved-origin",
       needs=("api",))
def test_unapproved_origin(preflight, simple_get, edge_settings):
    origin = edge_settings["unapproved_origin"]
    answer = preflight(origin)
    expect("[STATUS] of the preflight", answer.outcome, "==", "403")
    expect("CORS headers on the preflight", sorted(cors_headers(answer)), "is empty")
    expect("CORS headers on a simple GET", sorted(cors_headers(simple_get(origin))), "is empty")


@check("adinsights.edge.cors.credentials", severity="critical", runbook="edge.md#cors-credentials",
       needs=("api",))
def test_no_wildcard_with_credentials(preflight, edge_settings):
    for origin in (edge_settings["approved_origin"], edge_settings["unapproved_origin"]):
        answer = preflight(origin)
        expect(f"a CORS answer to the preflight from {origin}", answer.outcome, "in",
               ("204", "403") if not cors_headers(answer) else (answer.outcome,),
               note="without one, credentials cannot be judged safe")
        allowed = answer.header("access-control-allow-origin")
        credentials = answer.header("access-control-allow-credentials").lower() == "true"
        risky = credentials and (allowed == "*" or
                                 (allowed == origin != edge_settings["approved_origin"]))
        expect(f"credentials allowed for origin {origin}", allowed if risky else None, "==",
               None, note="a wildcard or reflected origin together with credentials")
