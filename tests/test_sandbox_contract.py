"""The sandbox must honour the observed ADinsights contract, or checks proven against it
prove nothing. These tests talk real HTTP to a running sandbox, as the checks do."""

from __future__ import annotations

import base64
import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sandboxes import Sandbox

from sandbox import all_faults
from sandbox.adinsights import Account

FAULTS = all_faults()

ACME = Account(name="acme", username="ops@acme.test", password="pw1")
GLOBEX = Account(name="globex", token="tok2")


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as http:
        yield http


@contextmanager
def running(*faults: str, workdir: Path | None = None) -> Iterator[Sandbox]:
    with Sandbox(accounts=[ACME, GLOBEX], faults=faults, workdir=workdir) as sb:
        yield sb


def login(client: httpx.Client, sb: Sandbox) -> dict[str, str]:
    response = client.post(
        f"{sb.urls['api']}/api/auth/login/", json={"username": "ops@acme.test", "password": "pw1"}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access']}"}


GLOBEX_AUTH = {"Authorization": "Bearer tok2"}


def artifact(sb: Sandbox, name: str) -> dict:
    return json.loads((Path(sb.paths["dbt_target"]) / name).read_text())


def test_boots_and_exposes_loopback_urls_and_artifacts() -> None:
    with running() as sb:
        assert {"api", "superset"} <= set(sb.urls)  # Airbyte's are pinned in their own tests
        assert all(url.startswith("http://127.0.0.1:") for url in sb.urls.values())
        target = Path(sb.paths["dbt_target"])
        assert target.is_absolute()
        assert {p.name for p in target.iterdir()} == {"run_results.json", "sources.json"}
        assert [t.name for t in sb.tenants] == ["acme", "globex"]
        assert len({t.tenant_id for t in sb.tenants}) == 2


def test_tenant_ids_are_deterministic() -> None:
    first = [t.tenant_id for t in Sandbox(accounts=[ACME, GLOBEX]).tenants]
    assert first == [t.tenant_id for t in Sandbox(accounts=[ACME, GLOBEX]).tenants]


def test_stop_releases_ports_and_temp_workdir(client: httpx.Client) -> None:
    sb = Sandbox(accounts=[ACME, GLOBEX]).start()
    urls = dict(sb.urls)
    target = Path(sb.paths["dbt_target"])
    assert client.get(f"{urls['api']}/api/health/").status_code == 200  # keep-alive open
    sb.stop()
    sb.stop()  # idempotent
    assert not target.exists()
    for url in urls.values():
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/", timeout=2)
        port = int(url.rsplit(":", 1)[1])
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))


def test_explicit_workdir_is_kept(tmp_path: Path) -> None:
    with running(workdir=tmp_path) as sb:
        assert sb.paths["dbt_target"] == str(tmp_path / "dbt" / "target")
    assert (tmp_path / "dbt" / "target" / "run_results.json").exists()


def test_unknown_and_conflicting_faults_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"unknown sandbox fault 'nope'; known: .*api_down"):
        Sandbox(accounts=[ACME], faults=["nope"])
    with pytest.raises(ValueError, match="cannot be combined"):
        Sandbox(accounts=[ACME], faults=["airbyte_stale", "airbyte_sync_failed"])


def test_public_endpoints_healthy(client: httpx.Client) -> None:
    with running() as sb:
        api = sb.urls["api"]
        assert client.get(f"{api}/api/health/").json() == {"status": "ok"}
        assert client.get(f"{api}/api/health/version/").json() == {"version": "1.4.2"}
        assert client.get(f"{api}/api/timezone/").json() == {"timezone": "America/Jamaica"}
        superset = client.get(f"{sb.urls['superset']}/health")
        assert (superset.status_code, superset.text) == (200, "OK")
        assert superset.headers["content-type"].startswith("text/plain")


def test_error_envelopes_methods_and_correlation_ids(client: httpx.Client) -> None:
    with running() as sb:
        api = sb.urls["api"]
        missing = client.get(f"{api}/api/nope/")
        assert missing.status_code == 404
        assert missing.json() == {
            "error": {
                "code": "not_found",
                "message": "The requested resource was not found.",
                "path": "/api/nope/",
            }
        }
        assert client.post(f"{api}/api/health/").status_code == 405
        assert client.get(f"{api}/api/auth/login/").status_code == 405
        for response in (missing, client.get(f"{api}/api/health/")):
            assert response.headers["X-Correlation-Id"]
        assert ("POST", "/api/health/") in sb.request_log


def test_login_and_bearer_errors(client: httpx.Client) -> None:
    with running() as sb:
        api = sb.urls["api"]
        body = client.post(
            f"{api}/api/auth/login/", json={"email": "ops@acme.test", "password": "pw1"}
        ).json()
        assert set(body) == {"access", "refresh", "tenant_id", "user"}
        assert body["user"]["roles"] == ["ADMIN"]
        assert body["user"]["tenant"] == body["tenant_id"] == sb.tenants[0].tenant_id
        payload = body["access"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert {"token_type", "exp", "iat", "jti", "user_id", "tenant_id"} <= set(claims)

        bad = client.post(
            f"{api}/api/auth/login/", json={"username": "ops@acme.test", "password": "x"}
        )
        assert (bad.status_code, bad.json()) == (
            401,
            {"detail": "No active account found with the given credentials"},
        )
        anonymous = client.get(f"{api}/api/me/")
        assert (anonymous.status_code, anonymous.json()) == (
            401,
            {"detail": "Authentication credentials were not provided."},
        )
        forged = client.get(f"{api}/api/me/", headers={"Authorization": "Bearer nope"})
        assert forged.status_code == 401
        assert forged.json()["code"] == "token_not_valid"
        assert forged.json()["detail"] == "Given token not valid for any token type"


def test_login_rejected_spares_bearer_accounts(client: httpx.Client) -> None:
    with running("login_rejected") as sb:
        api = sb.urls["api"]
        rejected = client.post(
            f"{api}/api/auth/login/", json={"username": "ops@acme.test", "password": "pw1"}
        )
        assert rejected.status_code == 401
        assert client.get(f"{api}/api/me/", headers=GLOBEX_AUTH).status_code == 200


def _ids(tenant) -> set[str]:
    connection = tenant.connections[0]
    return {tenant.tenant_id, connection.id, connection.connection_id, tenant.ad_account_id}


def test_tenant_scoping(client: httpx.Client) -> None:
    with running() as sb:
        api = sb.urls["api"]
        acme, globex = sb.tenants
        for auth, own, other in ((login(client, sb), acme, globex), (GLOBEX_AUTH, globex, acme)):
            me = client.get(f"{api}/api/me/", headers=auth).json()
            assert me["tenant_id"] == own.tenant_id
            sync = client.get(f"{api}/api/ops/sync-health/", headers=auth).json()
            assert [row["id"] for row in sync["rows"]] == [own.connections[0].id]
            social = client.get(f"{api}/api/integrations/social/status/", headers=auth).json()
            meta = social["platforms"][0]["metadata"]
            assert meta["credential_account_id"] == own.ad_account_id
            assert meta["connection_id"] == own.connections[0].id
            for path in ("ops/sync-health", "integrations/social/status", "analytics/web/ga4"):
                text = client.get(f"{api}/api/{path}/", headers=auth).text
                assert not any(value in text for value in _ids(other)), path
        assert acme.ad_account_id != globex.ad_account_id


AIRBYTE_STATES = [
    ((), 200, "ok"),
    (("airbyte_status_store_unavailable",), 503, "status_store_unavailable"),
    (("airbyte_misconfigured",), 503, "misconfigured"),
    (("airbyte_no_recent_sync",), 503, "no_recent_sync"),
    (("airbyte_stale",), 503, "stale"),
    (("airbyte_sync_failed",), 502, "sync_failed"),
    (("airbyte_running_stale",), 503, "running_stale"),
    (("tenant_sync_stale",), 200, "ok"),
    (("tenant_sync_failed",), 200, "ok"),
    (("tenant_sync_missing",), 200, "ok"),
]


@pytest.mark.parametrize(("faults", "code", "status"), AIRBYTE_STATES)
def test_airbyte_health_states(client: httpx.Client, faults, code: int, status: str) -> None:
    with running(*faults) as sb:
        response = client.get(f"{sb.urls['api']}/api/health/airbyte/")
        body = response.json()
        assert (response.status_code, body["status"]) == (code, status)
        assert ("recent_jobs" in body) == (status == "ok")
        assert ("latest_snapshot_generated_at" in body) == (status == "ok")
        if status == "ok":
            assert body["last_sync"]["tenant_id"] == sb.tenants[-1 if faults else 0].tenant_id
            assert body["job_summary"]["job_count"] == len(body["recent_jobs"])
        if status == "sync_failed":
            assert body["error"] and body["detail"] == (
                "Latest Airbyte sync finished with status 'failed'."
            )
        if status == "running_stale":
            assert body["running_age_seconds"] >= 10800
        if status == "misconfigured":
            assert body["configured"] is False
        if status == "no_recent_sync":
            assert body["last_sync"] is None


SYNC_STATES = [
    ((), "fresh"),
    (("tenant_sync_stale",), "stale"),
    (("tenant_sync_failed",), "failed"),
    (("tenant_sync_missing",), "missing"),
    (("airbyte_sync_failed",), "failed"),
    (("airbyte_running_stale",), "stale"),
]


@pytest.mark.parametrize(("faults", "state"), SYNC_STATES)
def test_sync_health_states(client: httpx.Client, faults, state: str) -> None:
    with running(*faults) as sb:
        api = sb.urls["api"]
        first = client.get(f"{api}/api/ops/sync-health/", headers=login(client, sb)).json()
        assert first["stale_after_minutes"] == 60
        assert [row["state"] for row in first["rows"]] == [state]
        assert first["counts"][state] == first["counts"]["total"] == 1
        second = client.get(f"{api}/api/ops/sync-health/", headers=GLOBEX_AUTH).json()
        expected = state if faults and faults[0].startswith("airbyte_") else "fresh"
        assert [row["state"] for row in second["rows"]] == [expected]


DBT_STATES = [
    ((), 200, "ok"),
    (("dbt_missing_run_results",), 503, "missing_run_results"),
    (("dbt_invalid_run_results",), 500, "invalid_run_results"),
    (("dbt_failing",), 502, "failing"),
    (("dbt_stale",), 503, "stale"),
    (("dbt_failing", "dbt_stale"), 502, "failing"),
]


@pytest.mark.parametrize(("faults", "code", "status"), DBT_STATES)
def test_dbt_health_states(client: httpx.Client, faults, code: int, status: str) -> None:
    with running(*faults) as sb:
        response = client.get(f"{sb.urls['api']}/api/health/dbt/")
        body = response.json()
        assert (response.status_code, body["status"]) == (code, status)
        assert body["run_results_path"] == str(Path(sb.paths["dbt_target"]) / "run_results.json")
        if status == "failing":
            assert body["failing_models"] == ["model.adinsights.stg_meta_ads"]
            detail = body["failing_models_detail"][0]
            assert detail["status"] == "error" and detail["message"]
            assert "detail" not in body and "stale" not in body
        if status == "invalid_run_results":
            assert body["detail"].startswith("Expecting property name enclosed in double quotes")
        if status == "ok":
            assert body["generated_at"].endswith("Z") and body["stale"] is False


def test_dbt_health_rereads_the_file_and_flags_passing_tests(client: httpx.Client) -> None:
    with running() as sb:
        path = Path(sb.paths["dbt_target"]) / "run_results.json"
        document = json.loads(path.read_text())
        assert document["metadata"]["dbt_schema_version"].endswith("/run-results/v6.json")
        assert {r["status"] for r in document["results"]} == {"success", "skipped"}
        document["results"].append({"unique_id": "test.adinsights.not_null_x", "status": "pass"})
        path.write_text(json.dumps(document))
        body = client.get(f"{sb.urls['api']}/api/health/dbt/").json()
        assert body["status"] == "failing"
        assert body["failing_models"] == ["test.adinsights.not_null_x"]


@pytest.mark.parametrize(
    ("fault", "status"),
    [(None, "pass"), ("dbt_source_warn", "warn"), ("dbt_source_error", "error")],
)
def test_sources_freshness(fault: str | None, status: str) -> None:
    with running(*([fault] if fault else [])) as sb:
        document = artifact(sb, "sources.json")
        assert document["metadata"]["dbt_schema_version"].endswith("/sources/v3.json")
        assert [r["status"] for r in document["results"]] == [status, "pass"]
        assert document["results"][0]["criteria"]["warn_after"] == {"count": 2, "period": "hour"}


def test_sources_runtime_error_shape() -> None:
    with running("dbt_source_runtime_error") as sb:
        document = artifact(sb, "sources.json")
        assert set(document["results"][0]) == {"unique_id", "error", "status"}
        assert document["results"][0]["status"] == "runtime error"


@pytest.mark.parametrize(
    ("faults", "overall", "cards"),
    [
        ((), "ok", {"api": 200, "airbyte": 200, "dbt": 200, "timezone": 200}),
        (("airbyte_sync_failed",), "error", {"api": 200, "airbyte": 502, "dbt": 200}),
        (("api_error", "dbt_stale"), "error", {"api": 500, "dbt": 503}),
    ],
)
def test_health_overview_roll_up(client: httpx.Client, faults, overall: str, cards) -> None:
    with running(*faults) as sb:
        api = sb.urls["api"]
        body = client.get(f"{api}/api/ops/health-overview/", headers=GLOBEX_AUTH).json()
        assert body["overall_status"] == overall
        by_key = {card["key"]: card for card in body["cards"]}
        assert list(by_key) == ["api", "airbyte", "dbt", "timezone"]
        for key, code in cards.items():
            assert by_key[key]["http_status"] == code
        for key, path in (("airbyte", "health/airbyte"), ("dbt", "health/dbt")):
            direct = client.get(f"{api}/api/{path}/")
            assert by_key[key]["http_status"] == direct.status_code
            assert by_key[key]["status"] == direct.json()["status"]


def test_version_and_api_faults(client: httpx.Client) -> None:
    with running("version_throttled", "api_error") as sb:
        api = sb.urls["api"]
        throttled = client.get(f"{api}/api/health/version/")
        assert throttled.status_code == 429
        assert throttled.headers["Retry-After"] == "57"
        assert throttled.json()["detail"].endswith("57 seconds.")
        failed = client.get(f"{api}/api/health/")
        assert failed.status_code == 500
        assert failed.json()["error"]["code"] == "server_error"
    with running("version_unset") as sb:
        version = client.get(f"{sb.urls['api']}/api/health/version/").json()
        assert version == {"version": "0.0.0-dev"}


def test_down_services_refuse_connections(client: httpx.Client) -> None:
    with running("api_down", "superset_down") as sb:
        for name in ("api", "superset"):
            with pytest.raises(httpx.ConnectError):
                client.get(f"{sb.urls[name]}/")
    with running("superset_unhealthy") as sb:
        assert client.get(f"{sb.urls['superset']}/health").status_code == 503


@pytest.mark.parametrize(
    ("fault", "meta", "instagram"),
    [
        (None, ("active", "active_direct_sync"), ("active", "instagram_active_via_meta")),
        (
            "social_not_connected",
            ("not_connected", "missing_meta_credential"),
            ("not_connected", "missing_meta_credential"),
        ),
        (
            "social_reauth_required",
            ("started_not_complete", "credential_reauth_required"),
            ("complete", "instagram_linked_waiting_meta_active"),
        ),
        (
            "social_complete",
            ("complete", "awaiting_recent_successful_sync"),
            ("complete", "instagram_linked_waiting_meta_active"),
        ),
    ],
)
def test_social_states(client: httpx.Client, fault, meta, instagram) -> None:
    with running(*([fault] if fault else [])) as sb:
        api = sb.urls["api"]
        body = client.get(f"{api}/api/integrations/social/status/", headers=login(client, sb))
        platforms = body.json()["platforms"]
        got = [(p["status"], p["reason"]["code"]) for p in platforms]
        assert got == [meta, instagram]
        other = client.get(f"{api}/api/integrations/social/status/", headers=GLOBEX_AUTH).json()
        assert other["platforms"][0]["status"] == "active"


def test_web_analytics(client: httpx.Client) -> None:
    with running("ga4_unavailable") as sb:
        api = sb.urls["api"]
        ga4 = client.get(f"{api}/api/analytics/web/ga4/", headers=GLOBEX_AUTH)
        assert (ga4.status_code, ga4.json()) == (
            200,
            {"source": "ga4", "status": "unavailable", "detail": "Query failed.", "rows": []},
        )
        console = client.get(f"{api}/api/analytics/web/search-console/", headers=GLOBEX_AUTH)
        assert console.json()["status"] == "ok" and console.json()["rows"]


def test_metrics_exposition(client: httpx.Client) -> None:
    families = [
        "python_info",
        "process_cpu_seconds_total",
        "celery_task_executions_total",
        "airbyte_sync_latency_seconds",
        "airbyte_sync_rows_total",
        "dbt_run_duration_seconds",
        "combined_metrics_requests_total",
        "meta_graph_throttle_events_total",
    ]
    with running() as sb:
        response = client.get(f"{sb.urls['api']}/metrics/app/")
        assert response.headers["content-type"] == "text/plain; version=1.0.0; charset=utf-8"
        for name in families:
            assert f"# TYPE {name} " in response.text
        assert "python_info{" in response.text
    with running("metrics_missing_series") as sb:
        text = client.get(f"{sb.urls['api']}/metrics/app/").text
        assert "dbt_run_duration_seconds" not in text
        assert "# TYPE airbyte_sync_rows_total counter" in text


def test_every_fault_boots() -> None:
    for name in FAULTS:
        with running(name) as sb:
            assert sb.urls


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_rejects_unknown_fault() -> None:
    process = _cli("--fault", "nope")
    out, err = process.communicate(timeout=10)
    assert process.returncode == 2
    assert err.count("\n") == 1 and "unknown sandbox fault 'nope'" in err


def test_cli_serves_until_sigterm(client: httpx.Client) -> None:
    process = _cli("--fault", "dbt_stale", "--tenants", "3")
    lines: list[str] = []
    try:
        while not lines or not lines[-1].startswith("Ctrl-C"):
            lines.append(process.stdout.readline())
        api = lines[1].split()[1]
        assert client.get(f"{api}/api/health/dbt/").json()["status"] == "stale"
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    accounts = [line.split()[0] for line in lines if "tenant " in line]
    assert accounts == ["tenant01", "tenant02", "tenant03"]
    logins = [line.split()[3] for line in lines if "tenant " in line]
    assert logins == ["login", "login", "bearer"]
