"""The sandbox's Airbyte side must honour the observed contracts (external-apis 1.1-1.8 and
the backend's telemetry, connections, webhook and audit endpoints), and one fault must
read the same from the backend, from Airbyte and from the deployment files."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import yaml
from sandboxes import Sandbox

from sandbox import all_faults
from sandbox.adinsights import Account

FAULTS = all_faults()

ACME = Account(name="acme", username="ops@acme.test", password="pw1")
GLOBEX = Account(name="globex", token="tok2")
GLOBEX_AUTH = {"Authorization": "Bearer tok2"}
SECRET = "hook-secret-1"
CREDENTIALS = ("airbyte", "proxy-pw")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as http:
        yield http


@contextmanager
def running(*faults: str, **options) -> Iterator[Sandbox]:
    options.setdefault("webhook_secret", SECRET)
    with Sandbox(accounts=[ACME, GLOBEX], faults=faults, **options) as sb:
        yield sb


def acme_auth(client: httpx.Client, sb: Sandbox) -> dict[str, str]:
    body = {"username": "ops@acme.test", "password": "pw1"}
    access = client.post(f"{sb.urls['api']}/api/auth/login/", json=body).json()["access"]
    return {"Authorization": f"Bearer {access}"}


def airbyte(client: httpx.Client, sb: Sandbox, path: str, body=None, **kwargs) -> httpx.Response:
    return client.post(f"{sb.urls['airbyte_api']}/api/v1/{path}", json=body or {}, **kwargs)


def jobs(client: httpx.Client, sb: Sandbox, connection_id: str, **extra) -> dict:
    body = {"configTypes": ["sync"], "configId": connection_id, **extra}
    response = airbyte(client, sb, "jobs/list", body)
    assert response.status_code == 200, response.text
    return response.json()


def backend(client: httpx.Client, sb: Sandbox, path: str, auth=GLOBEX_AUTH) -> httpx.Response:
    return client.get(f"{sb.urls['api']}/api/{path}", headers=auth)


def hook(client: httpx.Client, sb: Sandbox, body=None, secret=SECRET, **kwargs) -> httpx.Response:
    headers = {} if secret is None else {"X-Airbyte-Webhook-Secret": secret}
    return client.post(
        f"{sb.urls['api']}/api/airbyte/webhook/", json=body, headers=headers, **kwargs
    )


def env(sb: Sandbox) -> dict[str, str]:
    lines = Path(sb.paths["env_file"]).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def compose(sb: Sandbox) -> dict:
    return yaml.safe_load(Path(sb.paths["compose_file"]).read_text())


# --- services, files and the registry


def test_airbyte_urls_paths_and_workdir(tmp_path: Path) -> None:
    with running(workdir=tmp_path) as sb:
        assert {"airbyte_api", "airbyte_ui"} <= set(sb.urls)
        assert len({sb.urls["airbyte_api"], sb.urls["airbyte_ui"], sb.urls["api"]}) == 3
        assert sb.paths["env_file"] == str(tmp_path / "backend.env")
        assert sb.paths["compose_file"] == str(tmp_path / "docker-compose.yml")
    assert (tmp_path / "backend.env").exists()


def test_new_faults_are_registered_and_combined_sensibly() -> None:
    new = {
        "airbyte_api_down", "airbyte_port_collision", "airbyte_unavailable",
        "airbyte_proxy_auth_rejected", "airbyte_env_mismatch", "airbyte_compose_order",
        "airbyte_orphan_connection", "airbyte_webhook_silent", "airbyte_webhook_secret_unset",
        "airbyte_webhook_open", "airbyte_webhook_500", "airbyte_bootloader_failed",
        "airbyte_worker_mounts", "airbyte_source_config_missing", "airbyte_scheduler_silent",
        "airbyte_beat_entry_missing", "airbyte_db_empty_schema", "airbyte_metadata_missing",
    }  # fmt: skip
    assert new <= set(FAULTS) and all(FAULTS[name] for name in new)
    for pair in (
        ("airbyte_api_down", "airbyte_port_collision"),
        ("airbyte_unavailable", "airbyte_proxy_auth_rejected"),
        ("airbyte_webhook_secret_unset", "airbyte_webhook_open"),
        ("airbyte_webhook_secret_unset", "airbyte_webhook_500"),
    ):
        with pytest.raises(ValueError, match="cannot be combined"):
            Sandbox(accounts=[ACME], faults=pair)
    Sandbox(accounts=[ACME], faults=["airbyte_webhook_open", "airbyte_webhook_500"])
    with pytest.raises(ValueError, match="airbyte_auth"):
        Sandbox(accounts=[ACME], airbyte_auth=("", "x"))


def test_backend_env_file() -> None:
    with running() as sb:
        values = env(sb)
        assert values["AIRBYTE_API_URL"] == sb.urls["airbyte_api"]
        assert values["AIRBYTE_WEBHOOK_SECRET_REQUIRED"] == "1"
        assert values["AIRBYTE_WEBHOOK_SECRET"] == SECRET
        assert values["ENABLE_TENANCY"] == "1"
        assert values["AIRBYTE_USERNAME"] and values["AIRBYTE_PASSWORD"]
        assert values["AIRBYTE_DEFAULT_WORKSPACE_ID"] == sb.tenants[0].connections[0].workspace_id
    with running(airbyte_auth=CREDENTIALS, webhook_secret=None) as sb:
        values = env(sb)
        assert (values["AIRBYTE_USERNAME"], values["AIRBYTE_PASSWORD"]) == CREDENTIALS
        assert values["AIRBYTE_WEBHOOK_SECRET"] == ""


@pytest.mark.parametrize(
    ("fault", "key", "expected"),
    [
        ("airbyte_webhook_secret_unset", "AIRBYTE_WEBHOOK_SECRET", ""),
        ("airbyte_webhook_open", "AIRBYTE_WEBHOOK_SECRET_REQUIRED", "0"),
        ("airbyte_misconfigured", "AIRBYTE_PASSWORD", ""),
    ],
)
def test_backend_env_file_faults(fault: str, key: str, expected: str) -> None:
    with running(fault) as sb:
        assert env(sb)[key] == expected


def test_env_mismatch_points_at_another_loopback_port(client: httpx.Client) -> None:
    with running("airbyte_env_mismatch") as sb:
        url = env(sb)["AIRBYTE_API_URL"]
        assert url.startswith("http://127.0.0.1:") and url != sb.urls["airbyte_api"]
        with pytest.raises(httpx.ConnectError):
            client.get(f"{url}/api/v1/health")
        assert client.get(f"{sb.urls['airbyte_api']}/api/v1/health").status_code == 200


@pytest.mark.parametrize(
    ("faults", "condition"),
    [((), "service_completed_successfully"), (("airbyte_compose_order",), "service_started")],
)
def test_compose_file(faults, condition: str) -> None:
    with running(*faults) as sb:
        document = compose(sb)
        services = document["services"]
        assert set(services) == {"db", "bootloader", "server", "webapp", "worker", "temporal"}
        for name in ("server", "worker"):
            assert services[name]["depends_on"] == {
                "bootloader": {"condition": condition},
                "db": {"condition": "service_healthy"},
            }
        worker = services["worker"]["environment"]
        assert worker["WORKSPACE_DOCKER_MOUNT"] == "airbyte-workspace"
        assert worker["LOCAL_DOCKER_MOUNT"] == "airbyte-local"
        assert f"airbyte-workspace:{worker['WORKSPACE_ROOT']}" in services["worker"]["volumes"]
        assert all(volume["name"] == key for key, volume in document["volumes"].items())
        assert {"airbyte-workspace", "airbyte-local"} <= set(document["volumes"])
        port = sb.urls["airbyte_api"].rsplit(":", 1)[1]
        # the runbook's default in the file, the served port in the .env beside it
        assert services["server"]["ports"] == ["${AIRBYTE_SERVER_PORT:-18001}:8001"]
        dotenv = (Path(sb.paths["compose_file"]).parent / ".env").read_text()
        assert f"AIRBYTE_SERVER_PORT={port}\n" in dotenv
        assert services["server"]["image"] == "airbyte/server:0.50.22"


# --- the Airbyte server


def test_airbyte_health_and_ui(client: httpx.Client) -> None:
    with running() as sb:
        health = client.get(f"{sb.urls['airbyte_api']}/api/v1/health")
        assert (health.status_code, health.json()) == (200, {"available": True})
        page = client.get(f"{sb.urls['airbyte_ui']}/")
        assert page.status_code == 200 and "<title>Airbyte</title>" in page.text
        assert page.headers["content-type"].startswith("text/html")
        via_ui = client.get(f"{sb.urls['airbyte_ui']}/api/v1/health")
        assert via_ui.json() == {"available": True}


def test_config_api_is_post_only_with_micronaut_errors(client: httpx.Client) -> None:
    with running() as sb:
        wrong = client.get(f"{sb.urls['airbyte_api']}/api/v1/workspaces/list")
        assert (wrong.status_code, wrong.headers["Allow"]) == (405, "POST")
        assert wrong.json()["message"] == "Method Not Allowed"
        unknown = airbyte(client, sb, "nope/list")
        assert unknown.status_code == 404 and unknown.json()["message"] == "Not Found"
        assert client.post(f"{sb.urls['airbyte_api']}/api/v1/health").status_code == 405
        bad = client.post(f"{sb.urls['airbyte_api']}/api/v1/jobs/list", content=b"{nope")
        assert bad.status_code == 422 and bad.json()["message"].startswith("Invalid json")


def test_workspaces_and_connections(client: httpx.Client) -> None:
    with running() as sb:
        listed = airbyte(client, sb, "workspaces/list").json()["workspaces"]
        assert [w["name"] for w in listed] == ["acme", "globex"]
        for tenant in sb.tenants:
            own = tenant.connections[0]
            workspace = next(w for w in listed if w["workspaceId"] == own.workspace_id)
            assert workspace["initialSetupComplete"] is True
            body = {"workspaceId": own.workspace_id}
            connections = airbyte(client, sb, "connections/list", body).json()["connections"]
            assert [c["connectionId"] for c in connections] == [own.connection_id]
            assert connections[0]["status"] == "active"
            assert connections[0]["scheduleType"] == "basic"
            assert connections[0]["syncCatalog"]["streams"]
        missing = airbyte(client, sb, "connections/list", {})
        assert missing.status_code == 422
        assert missing.json()["validationErrors"][0]["propertyPath"].endswith("workspaceId")
        assert airbyte(client, sb, "connections/list", {"workspaceId": "x"}).status_code == 422


def test_jobs_list_contract(client: httpx.Client) -> None:
    with running() as sb:
        connection = sb.tenants[0].connections[0]
        body = jobs(client, sb, connection.connection_id)
        assert body["totalJobCount"] == 3
        listed = [row["job"] for row in body["jobs"]]
        assert [job["id"] for job in listed] == [1003, 1002, 1001]
        assert all(isinstance(job[k], int) for job in listed for k in ("createdAt", "updatedAt"))
        assert [j["createdAt"] for j in listed] == sorted(
            (j["createdAt"] for j in listed), reverse=True
        )
        assert {job["configId"] for job in listed} == {connection.connection_id}
        attempt = body["jobs"][0]["attempts"][0]
        assert attempt["status"] == "succeeded" and attempt["recordsSynced"] > 0

        page = jobs(
            client, sb, connection.connection_id, pagination={"pageSize": 1, "rowOffset": 1}
        )
        assert ([row["job"]["id"] for row in page["jobs"]], page["totalJobCount"]) == ([1002], 3)
        other = {"configTypes": ["reset_connection"], "configId": connection.connection_id}
        assert airbyte(client, sb, "jobs/list", other).json() == {"jobs": [], "totalJobCount": 0}
        assert jobs(client, sb, "no-such-connection")["jobs"] == []

        invalid = airbyte(client, sb, "jobs/list", {"configId": connection.connection_id})
        assert invalid.status_code == 422
        error = invalid.json()
        assert set(error) >= {"message", "exceptionClassName", "validationErrors"}
        assert [e["propertyPath"].rsplit(".", 1)[1] for e in error["validationErrors"]] == [
            "configTypes"
        ]
        both = airbyte(client, sb, "jobs/list", {"pagination": {"pageSize": 1}}).json()
        assert len(both["validationErrors"]) == 2
        typo = {"configTypes": ["synk"], "configId": connection.connection_id}
        assert airbyte(client, sb, "jobs/list", typo).status_code == 422


def test_last_replication_job_and_job_get(client: httpx.Client) -> None:
    with running() as sb:
        connection = sb.tenants[1].connections[0]
        body = {"connectionId": connection.connection_id}
        last = airbyte(client, sb, "jobs/get_last_replication_job", body).json()
        assert set(last) == {"job"} and last["job"]["id"] == 2003
        assert last["job"]["status"] == "succeeded"
        info = airbyte(client, sb, "jobs/get", {"id": 2003}).json()
        assert info["job"]["id"] == 2003 and info["attempts"][0]["logs"]["logLines"]
        assert info["attempts"][0]["attempt"]["status"] == "succeeded"
        unknown = airbyte(client, sb, "jobs/get", {"id": 99999})
        assert unknown.status_code == 404
        assert {"message", "exceptionClassName", "exceptionStack"} <= set(unknown.json())
        assert "rootCauseExceptionClassName" in unknown.json()
        assert airbyte(client, sb, "jobs/get", {}).status_code == 422
    with running("airbyte_no_recent_sync") as sb:
        body = {"connectionId": sb.tenants[0].connections[0].connection_id}
        none = airbyte(client, sb, "jobs/get_last_replication_job", body)
        assert (none.status_code, none.json()) == (200, {})


def test_web_backend_connections(client: httpx.Client) -> None:
    with running("airbyte_running_stale") as sb:
        connection = sb.tenants[0].connections[0]
        body = {"workspaceId": connection.workspace_id}
        items = airbyte(client, sb, "web_backend/connections/list", body).json()["connections"]
        assert items[0]["connectionId"] == connection.connection_id
        assert (items[0]["isSyncing"], items[0]["latestSyncJobStatus"]) == (True, "running")
        assert isinstance(items[0]["latestSyncJobCreatedAt"], int)
    with running("tenant_sync_missing") as sb:
        body = {"workspaceId": sb.tenants[0].connections[0].workspace_id}
        items = airbyte(client, sb, "web_backend/connections/list", body).json()["connections"]
        assert items[0]["latestSyncJobCreatedAt"] is None
        assert items[0]["latestSyncJobStatus"] is None


@pytest.mark.parametrize(
    ("fault", "status", "state"),
    [
        (None, "succeeded", "fresh"),
        ("airbyte_stale", "succeeded", "stale"),
        ("airbyte_sync_failed", "failed", "fresh"),
        ("airbyte_running_stale", "running", "stale"),
        ("airbyte_no_recent_sync", None, "missing"),
        ("tenant_sync_failed", "failed", "stale"),
        ("tenant_sync_stale", "succeeded", "stale"),
    ],
)
def test_one_fault_reads_the_same_on_both_sides(client: httpx.Client, fault, status, state) -> None:
    """Airbyte's latest job, the backend's telemetry and its health endpoint agree."""
    with running(*([fault] if fault else [])) as sb:
        auth = acme_auth(client, sb)
        connection = sb.tenants[0].connections[0]
        listed = jobs(client, sb, connection.connection_id)["jobs"]
        latest = listed[0]["job"] if listed else None
        assert (latest["status"] if latest else None) == status
        telemetry = backend(client, sb, "airbyte/telemetry/", auth).json()
        assert telemetry["sync_status_state"] == state
        ids = [row["job_id"] for row in telemetry["results"]]
        assert ids == [str(row["job"]["id"]) for row in listed]
        if latest:
            assert telemetry["sync_status"]["last_job_id"] == str(latest["id"])
            assert telemetry["sync_status"]["last_job_status"] == latest["status"]
        health = client.get(f"{sb.urls['api']}/api/health/airbyte/").json()
        if health.get("last_sync") and health["last_sync"]["tenant_id"] == sb.tenants[0].tenant_id:
            assert health["last_sync"]["last_job_id"] == str(latest["id"])


# --- faults on the Airbyte ports


def test_basic_auth_guards_every_path(client: httpx.Client) -> None:
    with running(airbyte_auth=CREDENTIALS) as sb:
        api, ui = sb.urls["airbyte_api"], sb.urls["airbyte_ui"]
        calls = [
            ("GET", f"{api}/api/v1/health"),
            ("POST", f"{api}/api/v1/workspaces/list"),
            ("POST", f"{api}/api/v1/nope"),
            ("GET", f"{ui}/"),
            ("GET", f"{ui}/api/v1/health"),
        ]
        for method, url in calls:
            for auth in (None, ("airbyte", "wrong"), ("other", CREDENTIALS[1])):
                denied = client.request(method, url, json={}, auth=auth)
                assert denied.status_code == 401, (url, auth)
                assert denied.headers["content-type"].startswith("text/html")
                assert denied.headers["WWW-Authenticate"].startswith("Basic realm=")
                assert "<html" in denied.text.lower()
            allowed = client.request(method, url, json={}, auth=CREDENTIALS)
            assert allowed.status_code != 401
        assert client.get(f"{api}/api/v1/health", auth=CREDENTIALS).json() == {"available": True}


@pytest.mark.parametrize("auth", [None, CREDENTIALS])
def test_proxy_auth_rejected_refuses_every_credential(client: httpx.Client, auth) -> None:
    with running("airbyte_proxy_auth_rejected", airbyte_auth=auth) as sb:
        for url in (f"{sb.urls['airbyte_api']}/api/v1/health", f"{sb.urls['airbyte_ui']}/"):
            assert client.get(url).status_code == 401
            assert client.get(url, auth=CREDENTIALS).status_code == 401


def test_unavailable_reports_false_and_fails_config_calls(client: httpx.Client) -> None:
    with running("airbyte_unavailable") as sb:
        health = client.get(f"{sb.urls['airbyte_api']}/api/v1/health")
        assert (health.status_code, health.json()) == (200, {"available": False})
        failed = airbyte(client, sb, "workspaces/list")
        assert failed.status_code == 500 and failed.json()["exceptionClassName"]


def test_api_down_refuses_while_the_ui_answers(client: httpx.Client) -> None:
    with running("airbyte_api_down") as sb:
        with pytest.raises(httpx.ConnectError):
            client.get(f"{sb.urls['airbyte_api']}/api/v1/health")
        assert client.get(f"{sb.urls['airbyte_ui']}/").status_code == 200
        assert client.get(f"{sb.urls['airbyte_ui']}/api/v1/health").status_code == 502
        assert env(sb)["AIRBYTE_API_URL"] == sb.urls["airbyte_api"]


def test_port_collision_serves_a_foreign_app(client: httpx.Client) -> None:
    with running("airbyte_port_collision", airbyte_auth=CREDENTIALS) as sb:
        health = client.get(f"{sb.urls['airbyte_api']}/api/v1/health")
        assert health.status_code == 404
        assert health.headers["content-type"].startswith("text/html")
        assert "Cannot GET /api/v1/health" in health.text
        assert airbyte(client, sb, "workspaces/list").status_code == 404
        page = client.get(f"{sb.urls['airbyte_ui']}/")
        assert page.status_code == 200 and "<title>Airbyte</title>" not in page.text


def test_orphan_connection_on_both_sides(client: httpx.Client) -> None:
    with running("airbyte_orphan_connection") as sb:
        auth = acme_auth(client, sb)
        workspace = sb.tenants[0].connections[0].workspace_id
        rows = backend(client, sb, "airbyte/connections/", auth).json()
        in_backend = {row["connection_id"] for row in rows}
        listed = airbyte(client, sb, "connections/list", {"workspaceId": workspace}).json()
        in_airbyte = {c["connectionId"] for c in listed["connections"]}
        assert len(in_backend - in_airbyte) == len(in_airbyte - in_backend) == 1
        assert len(in_backend & in_airbyte) == 1
        orphan = (in_backend - in_airbyte).pop()
        assert jobs(client, sb, orphan)["jobs"] == []
        sync = backend(client, sb, "ops/sync-health/", auth).json()
        assert [row["state"] for row in sync["rows"]] == ["fresh", "fresh"]
        globex = backend(client, sb, "airbyte/connections/").json()
        assert len(globex) == 1


# --- the backend's Airbyte endpoints


def test_telemetry_contract_and_audit_row(client: httpx.Client) -> None:
    with running("airbyte_orphan_connection") as sb:
        auth = acme_auth(client, sb)
        assert backend(client, sb, "airbyte/telemetry/", {}).status_code == 401
        first = backend(client, sb, "airbyte/telemetry/", auth)
        assert first.headers["X-Correlation-Id"]
        body = first.json()
        assert (body["count"], len(body["results"]), body["previous"]) == (6, 5, None)
        assert body["next"].endswith("/api/airbyte/telemetry/?page=2")
        row = body["results"][0]
        assert set(row) == {
            "job_id", "status", "started_at", "duration_seconds", "records_synced",
            "bytes_synced", "api_cost", "connection",
        }  # fmt: skip
        assert row["started_at"].endswith("-05:00")
        assert set(row["connection"]) == {"id", "name", "connection_id", "workspace_id", "provider"}
        assert body["sync_status_state"] == "fresh" and body["sync_status_age_minutes"] == 10
        assert body["sync_status"]["tenant_id"] == sb.tenants[0].tenant_id
        assert body["sync_status"]["connection"]["id"]
        assert "snapshot_generated_at" in body
        second = backend(client, sb, "airbyte/telemetry/?page=2", auth).json()
        assert len(second["results"]) == 1 and second["next"] is None
        assert second["previous"].endswith("/api/airbyte/telemetry/")
        assert (
            len(backend(client, sb, "airbyte/telemetry/?page_size=2", auth).json()["results"]) == 2
        )
        capped = backend(client, sb, "airbyte/telemetry/?page_size=500", auth).json()
        assert len(capped["results"]) == 6
        assert backend(client, sb, "airbyte/telemetry/?page=9", auth).status_code == 404
        viewed = backend(client, sb, "audit-logs/?action=airbyte_telemetry_viewed", auth).json()
        assert viewed["count"] == 4  # one per page served; the invalid page wrote none
        assert viewed["results"][0]["user"]["id"] == sb.tenants[0].user_id


def test_telemetry_states_and_scoping(client: httpx.Client) -> None:
    with running("tenant_sync_missing") as sb:
        missing = backend(client, sb, "airbyte/telemetry/", acme_auth(client, sb)).json()
        assert (missing["count"], missing["sync_status"]) == (0, None)
        assert missing["sync_status_state"] == "missing"
        assert "sync_status_age_minutes" not in missing and "snapshot_generated_at" not in missing
        other = backend(client, sb, "airbyte/telemetry/").json()
        assert other["sync_status_state"] == "fresh"
        assert {row["job_id"] for row in other["results"]} == {"2001", "2002", "2003"}
        assert other["sync_status"]["tenant_id"] == sb.tenants[1].tenant_id
    with running("airbyte_stale") as sb:
        stale = backend(client, sb, "airbyte/telemetry/").json()
        assert stale["sync_status_state"] == "stale" and stale["sync_status_age_minutes"] == 180


def test_connections_endpoints_are_tenant_scoped(client: httpx.Client) -> None:
    with running("tenant_sync_failed") as sb:
        acme, globex = sb.tenants
        auth = acme_auth(client, sb)
        rows = backend(client, sb, "airbyte/connections/", auth).json()
        assert [row["id"] for row in rows] == [acme.connections[0].id]
        row = rows[0]
        assert row["connection_id"] == acme.connections[0].connection_id
        assert (row["last_job_id"], row["last_job_status"]) == ("1003", "failed")
        assert row["last_job_error"] and row["schedule_type"] == "interval"
        assert {"cron_expression", "last_job_created_at", "last_job_completed_at"} <= set(row)
        detail = backend(client, sb, f"airbyte/connections/{acme.connections[0].id}/", auth)
        assert (detail.json()["id"], set(detail.json())) == (row["id"], set(row))
        foreign = backend(client, sb, f"airbyte/connections/{globex.connections[0].id}/", auth)
        assert (foreign.status_code, foreign.json()) == (
            404,
            {"detail": "No AirbyteConnection matches the given query."},
        )
        assert backend(client, sb, "airbyte/connections/nope/", auth).status_code == 404
        summary = backend(client, sb, "airbyte/connections/summary/", auth).json()
        assert summary["total"] == summary["active"] == 1 and summary["inactive"] == 0
        assert summary["by_provider"] == {"META": 1} and summary["due"] == 1
        assert summary["latest_sync"]["tenant_id"] == acme.tenant_id
        text = backend(client, sb, "airbyte/connections/summary/").text
        assert acme.tenant_id not in text and globex.tenant_id in text


def test_audit_log_seed_filters_and_scoping(client: httpx.Client) -> None:
    with running() as sb:
        body = backend(client, sb, "audit-logs/").json()
        rows = body["results"]
        assert {"login", "role_assigned", "airbyte_connection_created", "airbyte_job_webhook"} <= {
            row["action"] for row in rows
        }
        assert {row["tenant"] for row in rows} == {sb.tenants[1].tenant_id}
        assert set(rows[0]) == {
            "id", "tenant", "user", "action", "resource_type", "resource_id", "metadata",
            "created_at",
        }  # fmt: skip
        hooks = backend(client, sb, "audit-logs/?action=airbyte_job_webhook").json()["results"]
        assert [row["metadata"]["job_id"] for row in hooks] == ["2003", "2002", "2001"]
        assert all(row["user"] is None for row in hooks)
        assert minutes_ago(hooks[0]["created_at"]) == pytest.approx(5, abs=1)
        by_type = backend(client, sb, "audit-logs/?resource_type=user_role").json()["results"]
        assert [row["action"] for row in by_type] == ["role_assigned"]
        auth = acme_auth(client, sb)  # a login writes a row of its own
        logins = backend(client, sb, "audit-logs/?action=login", auth).json()["results"]
        assert len(logins) == 2 and minutes_ago(logins[0]["created_at"]) < 1
        assert body["count"] <= 50 and body["next"] is None


def test_webhook_silent_leaves_a_three_hour_gap(client: httpx.Client) -> None:
    with running("airbyte_webhook_silent") as sb:
        hooks = backend(client, sb, "audit-logs/?action=airbyte_job_webhook").json()["results"]
        assert minutes_ago(hooks[0]["created_at"]) == pytest.approx(180, abs=1)
        latest = jobs(client, sb, sb.tenants[1].connections[0].connection_id)["jobs"][0]
        assert latest["job"]["status"] == "succeeded"


def minutes_ago(stamp: str) -> float:
    moment = datetime.fromisoformat(stamp)
    return (datetime.now(moment.tzinfo) - moment).total_seconds() / 60


# --- the webhook


def report(connection_id: str, job_id: int = 2004, status: str = "succeeded", at=None) -> dict:
    """A job report as the backend's webhook takes it, the job ending a minute after it began."""
    ended = int(time.time()) if at is None else at
    job = {
        "id": job_id,
        "status": status,
        "createdAt": ended - 60,
        "updatedAt": ended,
        "attempts": [{"metrics": {"recordsSynced": 10, "bytesSynced": 400}}],
    }
    return {"connectionId": connection_id, "job": job}


def test_webhook_success_side_effects(client: httpx.Client) -> None:
    with running() as sb:
        connection = sb.tenants[1].connections[0]
        accepted = hook(client, sb, report(connection.connection_id))
        assert accepted.status_code == 200 and accepted.headers["X-Correlation-Id"]
        reply = accepted.json()
        assert set(reply) == {"connection_id", "job_id", "status", "received_at"}
        assert (reply["connection_id"], reply["job_id"], reply["status"]) == (
            connection.connection_id,
            "2004",
            "succeeded",
        )
        datetime.fromisoformat(reply["received_at"])
        telemetry = backend(client, sb, "airbyte/telemetry/").json()
        assert telemetry["results"][0]["job_id"] == "2004"
        assert telemetry["results"][0]["records_synced"] == 10
        assert telemetry["sync_status"]["last_job_id"] == "2004"
        assert telemetry["sync_status_age_minutes"] == 0
        audit = backend(client, sb, "audit-logs/?action=airbyte_job_webhook").json()["results"][0]
        assert audit["user"] is None
        assert audit["metadata"] == {
            "connection_id": connection.connection_id,
            "job_id": "2004",
            "status": "succeeded",
            "records_synced": 10,
            "duration_seconds": 60,
            "error": None,
        }
        failed = report(connection.connection_id, 2005, "failed", at=int(time.time()) + 1)
        failed["job"]["attempts"][0]["failureSummary"] = {"failures": [{"externalMessage": "x"}]}
        assert hook(client, sb, failed).status_code == 202
        rows = backend(client, sb, "ops/sync-health/").json()["rows"]
        assert (rows[0]["last_job_status"], rows[0]["last_job_error"]) == ("failed", "x")
        assert sb.tenants[1].connections[0].jobs[0].job_id == "2003"  # the seed stays put


@pytest.mark.parametrize(
    ("body", "code", "detail"),
    [
        ({"text": "Your connection Meta sync just failed..."}, 400, "connection_id missing"),
        ({"connectionId": "not-a-uuid"}, 400, "invalid connection_id"),
        (report("00000000-0000-0000-0000-000000000000"), 404, "connection not found"),
    ],
)
def test_webhook_rejections(client: httpx.Client, body: dict, code: int, detail: str) -> None:
    with running() as sb:
        response = hook(client, sb, body)
        assert (response.status_code, response.json()) == (code, {"detail": detail})
        assert response.headers["X-Correlation-Id"]


def test_webhook_bad_json_and_id_placement(client: httpx.Client) -> None:
    with running() as sb:
        bad = hook(client, sb, content=b"{nope", secret=SECRET)
        assert bad.status_code == 400
        assert bad.json()["detail"].startswith("JSON parse error - ")
        connection = sb.tenants[0].connections[0]
        nested = report("", job_id=1004)
        del nested["connectionId"]
        nested["job"]["connection_id"] = connection.connection_id
        assert hook(client, sb, nested).status_code == 200
        flat = {"connection_id": connection.connection_id, "jobId": 1005, "status": "cancelled"}
        response = hook(client, sb, flat)
        assert (response.status_code, response.json()["status"]) == (202, "cancelled")
        assert client.get(f"{sb.urls['api']}/api/airbyte/webhook/").status_code == 405


def test_webhook_secret_cases(client: httpx.Client) -> None:
    with running() as sb:
        body = report(sb.tenants[0].connections[0].connection_id)
        for secret in (None, "wrong"):
            denied = hook(client, sb, body, secret=secret)
            assert (denied.status_code, denied.json()) == (
                403,
                {"detail": "invalid webhook secret"},
            )
    for options, faults in (
        ({"webhook_secret": None}, ()),
        ({}, ("airbyte_webhook_secret_unset",)),
    ):
        with running(*faults, **options) as sb:
            body = report(sb.tenants[0].connections[0].connection_id)
            for secret in (None, SECRET):
                refused = hook(client, sb, body, secret=secret)
                assert (refused.status_code, refused.json()) == (
                    503,
                    {"detail": "webhook secret not configured"},
                )
    with running("airbyte_webhook_open") as sb:
        body = report(sb.tenants[0].connections[0].connection_id)
        assert hook(client, sb, body, secret=None).status_code == 200
        assert hook(client, sb, body, secret="wrong").status_code == 200


def test_webhook_500_for_unknown_connection(client: httpx.Client) -> None:
    with running("airbyte_webhook_500") as sb:
        response = hook(client, sb, report("00000000-0000-0000-0000-000000000000"))
        assert response.status_code == 500
        assert response.json() == {
            "error": {
                "code": "server_error",
                "message": "An unexpected error occurred. Please try again later.",
                "path": "/api/airbyte/webhook/",
            }
        }
        assert response.headers["X-Correlation-Id"]
        known = report(sb.tenants[0].connections[0].connection_id, job_id=1004)
        assert hook(client, sb, known).status_code == 200


def test_ids_are_uuids_and_deterministic() -> None:
    first = Sandbox(accounts=[ACME, GLOBEX], faults=["airbyte_orphan_connection"]).tenants
    again = Sandbox(accounts=[ACME, GLOBEX], faults=["airbyte_orphan_connection"]).tenants
    assert [c.connection_id for t in first for c in t.connections] == [
        c.connection_id for t in again for c in t.connections
    ]
    assert all(UUID.match(c.connection_id) for t in first for c in t.connections)
