"""The sandbox's tenancy, cache and edge surfaces must honour the observed contract
(reference §1, §3.8, §3.13, §4) and the runbook's tenant-safety, snapshot and cache
sections, and each of their faults must break exactly the promise it names."""

from __future__ import annotations

import base64
import json
import re
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from sandboxes import Sandbox

from sandbox import all_faults
from sandbox.adinsights import Account
from sandbox.adinsights.metrics_cache import BEAT_CADENCE, WAREHOUSE_QUERY_DELAY, Snapshot
from sandbox.adinsights.state import Tenant
from sandbox.adinsights.tokens import TokenPairs

FAULTS = all_faults()

ACME = Account(name="acme", username="ops@acme.test", password="pw1")
GLOBEX = Account(name="globex", token="tok2")
GLOBEX_AUTH = {"Authorization": "Bearer tok2"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
LISTS = ("campaigns", "adsets", "ads", "performance-records")
MODELS = {"campaigns": "Campaign", "adsets": "AdSet", "ads": "Ad",
          "performance-records": "PerformanceRecord"}  # fmt: skip
APPROVED = "http://localhost:5173"
STRANGER = "https://unapproved-origin.invalid"
THROTTLED = re.compile(r"^Request was throttled\. Expected available in (\d+) seconds?\.$")


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as http:
        yield http


@contextmanager
def running(*faults: str, **options) -> Iterator[Sandbox]:
    with Sandbox(accounts=[ACME, GLOBEX], faults=faults, **options) as sb:
        yield sb


def acme_auth(client: httpx.Client, sb: Sandbox) -> dict[str, str]:
    body = {"username": "ops@acme.test", "password": "pw1"}
    response = client.post(f"{sb.urls['api']}/api/auth/login/", json=body)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access']}"}


def get(client: httpx.Client, sb: Sandbox, path: str, auth=GLOBEX_AUTH, **params):
    return client.get(f"{sb.urls['api']}/api/{path}", headers=auth, params=params or None)


def post(client: httpx.Client, sb: Sandbox, path: str, body: dict, **headers) -> httpx.Response:
    return client.post(f"{sb.urls['api']}/api/{path}", json=body, headers=headers)


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def age_minutes(text: str) -> float:
    return (datetime.now(UTC) - moment(text)).total_seconds() / 60


def own_ids(client: httpx.Client, sb: Sandbox, auth) -> set[str]:
    """Every identifier a tenant's own analytics lists carry."""
    found = set()
    for plural in LISTS:
        for row in get(client, sb, f"analytics/{plural}/", auth).json()["results"]:
            found |= {row["id"], row["external_id"], row["account_external_id"]}
    return found


def tenant_ids(tenant: Tenant) -> set[str]:
    return {tenant.tenant_id, tenant.user_id, tenant.ad_account_id}


# --- registration


def test_faults_are_registered_with_descriptions_and_groups() -> None:
    new = {
        "tenancy_list_leak", "tenancy_ops_leak", "tenancy_object_by_id", "tenancy_manifest_off",
        "tenancy_settings_default_off", "task_logs_missing_tenant", "warehouse_leak",
        "audit_leak", "audit_filter_ignored", "cache_never_hits", "cache_bypass_stale",
        "cache_filter_overwrites", "snapshot_warning", "snapshot_critical", "snapshot_missing",
        "snapshots_stale_fleet", "snapshot_task_silent", "cors_allow_all", "throttle_disabled",
        "auth_garbage_500", "rls_disabled", "rls_bypass", "rls_owner_unforced",
    }  # fmt: skip
    assert new <= set(FAULTS) and all(FAULTS[name] for name in new)
    for pair in (
        ("snapshot_warning", "snapshot_missing"),
        ("snapshot_critical", "snapshots_stale_fleet"),
        ("cache_never_hits", "cache_bypass_stale"),
        ("throttle_disabled", "version_throttled"),
    ):
        with pytest.raises(ValueError, match="cannot be combined"):
            Sandbox(accounts=[ACME], faults=pair)
    Sandbox(accounts=[ACME], faults=["cache_never_hits", "cache_filter_overwrites"])
    with pytest.raises(ValueError, match="throttle"):
        Sandbox(accounts=[ACME], throttle_rates={"auth_burst": "ten a minute"})
    with pytest.raises(ValueError, match="throttle scope"):
        Sandbox(accounts=[ACME], throttle_rates={"burst": "10/min"})


# --- analytics lists and details (reference §4)


def test_analytics_lists_are_tenant_scoped_both_ways(client: httpx.Client) -> None:
    with running() as sb:
        acme, globex = sb.tenants
        auths = {acme.name: acme_auth(client, sb), globex.name: GLOBEX_AUTH}
        seen = {name: own_ids(client, sb, auth) for name, auth in auths.items()}
        assert not seen["acme"] & seen["globex"]
        for own, other in ((acme, globex), (globex, acme)):
            auth = auths[own.name]
            for plural in LISTS:
                body = get(client, sb, f"analytics/{plural}/", auth).json()
                assert set(body) == {"count", "next", "previous", "results"}
                assert body["count"] == len(body["results"]) > 0
                for row in body["results"]:
                    assert UUID.match(row["id"])
                    assert row["account_external_id"] == own.ad_account_id
                    assert row["external_id"].startswith(own.ad_account_id.removeprefix("act_"))
                text = json.dumps(body)
                assert not any(value in text for value in seen[other.name] | tenant_ids(other))
            names = [r["name"] for r in get(client, sb, "analytics/campaigns/", auth).json()[
                "results"]]
            assert names and all(name.startswith(own.name.title()) for name in names)


def test_analytics_detail_refuses_another_tenants_id(client: httpx.Client) -> None:
    with running() as sb:
        auths = (acme_auth(client, sb), GLOBEX_AUTH)
        for plural, model in MODELS.items():
            mine, theirs = (get(client, sb, f"analytics/{plural}/", a).json()["results"][0]
                            for a in auths)
            own = get(client, sb, f"analytics/{plural}/{mine['id']}/", auths[0])
            assert (own.status_code, own.json()) == (200, mine)
            for auth, row in ((auths[0], theirs), (auths[1], mine)):
                foreign = get(client, sb, f"analytics/{plural}/{row['id']}/", auth)
                assert (foreign.status_code, foreign.json()) == (
                    404, {"detail": f"No {model} matches the given query."})
        assert get(client, sb, "analytics/campaigns/", {}).status_code == 401


def test_analytics_ids_are_deterministic() -> None:
    def campaign_ids() -> list[str]:
        with running() as sb, httpx.Client() as http:
            return [r["id"] for r in get(http, sb, "analytics/campaigns/").json()["results"]]

    assert campaign_ids() == campaign_ids()


def test_list_leak_and_object_by_id_hit_the_first_tenant_only(client: httpx.Client) -> None:
    with running("tenancy_list_leak", "tenancy_object_by_id") as sb:
        auth = acme_auth(client, sb)
        acme_rows = get(client, sb, "analytics/campaigns/", auth).json()["results"]
        globex_rows = get(client, sb, "analytics/campaigns/").json()["results"]
        foreign = [r for r in acme_rows if r["account_external_id"] == sb.tenants[1].ad_account_id]
        assert [r["id"] for r in foreign] == [globex_rows[0]["id"]]
        assert all(r["account_external_id"] == sb.tenants[1].ad_account_id for r in globex_rows)
        leaked = get(client, sb, f"analytics/campaigns/{globex_rows[0]['id']}/", auth)
        assert (leaked.status_code, leaked.json()) == (200, globex_rows[0])
        mine = acme_rows[0]["id"]
        assert get(client, sb, f"analytics/campaigns/{mine}/").status_code == 404
        adset = get(client, sb, "analytics/adsets/").json()["results"][0]["id"]
        assert get(client, sb, f"analytics/adsets/{adset}/", auth).status_code == 404


def test_ops_leak_shows_the_neighbours_connection(client: httpx.Client) -> None:
    with running("tenancy_ops_leak") as sb:
        acme, globex = sb.tenants
        rows = get(client, sb, "ops/sync-health/", acme_auth(client, sb)).json()
        assert [r["id"] for r in rows["rows"]] == [acme.connections[0].id, globex.connections[0].id]
        assert rows["counts"]["total"] == 2
        own = get(client, sb, "ops/sync-health/").json()["rows"]
        assert [r["id"] for r in own] == [globex.connections[0].id]


# --- metrics, snapshots and the cache (reference §3.8, runbook cache verification)


def test_combined_metrics_shape_and_scoping(client: httpx.Client) -> None:
    with running() as sb:
        auths = {"acme": acme_auth(client, sb), "globex": GLOBEX_AUTH}
        seen = {name: own_ids(client, sb, auth) for name, auth in auths.items()}
        for auth, other in zip(auths.values(), reversed(sb.tenants), strict=True):
            body = get(client, sb, "metrics/combined/", auth, source="warehouse").json()
            assert list(body) == ["campaign", "creative", "budget", "parish",
                                  "snapshot_generated_at", "coverage", "availability"]
            assert body["campaign"]["summary"]["currency"] == "JMD"
            campaigns = get(client, sb, "analytics/campaigns/", auth).json()["results"]
            assert [(r["id"], r["name"]) for r in body["campaign"]["rows"]] == [
                (c["id"], c["name"]) for c in campaigns]
            assert {p["parish"] for p in body["parish"]} >= {"Kingston"}
            assert body["availability"]["parish_map"]["coverage_percent"] == 1.0
            assert 9 <= age_minutes(body["snapshot_generated_at"]) <= 11
            assert body["snapshot_generated_at"].endswith("+00:00")
            text = json.dumps(body)
            assert not any(value in text for value in seen[other.name] | tenant_ids(other))
            assert get(client, sb, "metrics/", auth).json() == body
            status = get(client, sb, "datasets/status/", auth).json()
            assert status["live"] == {"enabled": True, "reason": "ready", "detail": None,
                                      "snapshot_generated_at": body["snapshot_generated_at"]}
            assert status["warehouse_adapter_enabled"] is True and "demo" in status


def test_cache_hit_bypass_and_filters(client: httpx.Client) -> None:
    with running() as sb:
        first = get(client, sb, "metrics/combined/", source="warehouse").json()
        assert get(client, sb, "metrics/combined/", source="warehouse").json() == first
        for filters in ({"parish": "Kingston"}, {"start_date": "2024-08-01",
                                                 "end_date": "2024-08-31"}):
            filtered = get(client, sb, "metrics/combined/", source="warehouse", **filters).json()
            assert filtered["snapshot_generated_at"] == first["snapshot_generated_at"]
            assert filtered != first
        kingston = get(client, sb, "metrics/combined/", parish="Kingston").json()
        assert [p["parish"] for p in kingston["parish"]] == ["Kingston"]
        assert get(client, sb, "metrics/combined/").json() == first  # stored snapshot unchanged
        refreshed = get(client, sb, "metrics/combined/", source="warehouse", cache="false").json()
        assert moment(refreshed["snapshot_generated_at"]) > moment(first["snapshot_generated_at"])
        assert age_minutes(refreshed["snapshot_generated_at"]) < 0.5
        again = get(client, sb, "metrics/combined/", source="warehouse").json()
        assert again["snapshot_generated_at"] == refreshed["snapshot_generated_at"]
        status = get(client, sb, "datasets/status/").json()
        assert status["live"]["snapshot_generated_at"] == refreshed["snapshot_generated_at"]
        other = get(client, sb, "metrics/combined/", acme_auth(client, sb)).json()
        assert 9 <= age_minutes(other["snapshot_generated_at"]) <= 11  # its own, untouched


def test_uncached_requests_are_slower(client: httpx.Client) -> None:
    def timed(**params: str) -> float:
        started = time.perf_counter()
        assert get(client, sb, "metrics/combined/", **params).status_code == 200
        return time.perf_counter() - started

    with running() as sb:
        cached = [timed(source="warehouse") for _ in range(7)]
        uncached = [timed(start_date=f"2024-08-{day:02d}") for day in range(1, 8)]
        bypassed = [timed(cache="false") for _ in range(3)]
    margin = WAREHOUSE_QUERY_DELAY / 2
    assert statistics.median(uncached) > statistics.median(cached) + margin
    assert statistics.median(bypassed) > statistics.median(cached) + margin


def stamp(client: httpx.Client, sb: Sandbox, **params: str) -> str:
    body = get(client, sb, "metrics/combined/", source="warehouse", **params).json()
    return body["snapshot_generated_at"]


def test_cache_never_hits(client: httpx.Client) -> None:
    with running("cache_never_hits") as sb:
        first, second = stamp(client, sb), stamp(client, sb)
        assert moment(second) > moment(first)
        assert stamp(client, sb, parish="Kingston") == second  # filters still do not write


def test_cache_bypass_stale(client: httpx.Client) -> None:
    with running("cache_bypass_stale") as sb:
        first = stamp(client, sb)
        assert stamp(client, sb, cache="false") == first == stamp(client, sb)


def test_cache_filter_overwrites(client: httpx.Client) -> None:
    with running("cache_filter_overwrites") as sb:
        first = stamp(client, sb)
        assert stamp(client, sb) == first
        filtered = stamp(client, sb, parish="Kingston")
        assert moment(filtered) > moment(first) and stamp(client, sb) == filtered
        body = get(client, sb, "metrics/combined/").json()
        assert [p["parish"] for p in body["parish"]] == ["Kingston"]


@pytest.mark.parametrize(
    ("fault", "reason", "acme_age", "globex_age"),
    [
        ("snapshot_warning", "stale_snapshot", 90, 10),
        ("snapshot_critical", "stale_snapshot", 150, 10),
        ("snapshot_missing", "missing_snapshot", None, 10),
        ("snapshots_stale_fleet", "stale_snapshot", 70, 70),
    ],
)
def test_snapshot_states(client: httpx.Client, fault: str, reason: str, acme_age,
                         globex_age: int) -> None:
    with running(fault) as sb:
        auth = acme_auth(client, sb)
        for params in ({"source": "warehouse"}, {"cache": "false"}, {"parish": "Kingston"}):
            refused = get(client, sb, "metrics/combined/", auth, **params)
            assert refused.status_code == 503
            assert refused.json()["code"] == "warehouse_snapshot_unavailable"
            assert refused.json()["reason"] == reason and refused.json()["detail"]
        live = get(client, sb, "datasets/status/", auth).json()["live"]
        assert live["reason"] == reason and live["detail"]
        if acme_age is None:
            assert live["snapshot_generated_at"] is None
        else:
            assert acme_age - 1 <= age_minutes(live["snapshot_generated_at"]) <= acme_age + 1
        other = get(client, sb, "metrics/combined/", source="warehouse")
        stamp = get(client, sb, "datasets/status/").json()["live"]["snapshot_generated_at"]
        assert globex_age - 1 <= age_minutes(stamp) <= globex_age + 1
        assert other.status_code == (200 if globex_age < 60 else 503)


def test_snapshot_timestamps_step_with_the_beat() -> None:
    stored = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    snapshot = Snapshot({}, stored - timedelta(minutes=90), stored)
    later = stored + timedelta(minutes=47)
    assert snapshot.generated(later) == stored - timedelta(minutes=60)
    assert snapshot.generated(later) == snapshot.generated(later + timedelta(minutes=5))
    assert timedelta(minutes=90) <= later - snapshot.generated(later) < timedelta(minutes=120)
    assert later - snapshot.generated(later) >= BEAT_CADENCE


def test_warehouse_leak_serves_the_neighbours_snapshot(client: httpx.Client) -> None:
    with running("warehouse_leak") as sb:
        auth = acme_auth(client, sb)
        body = get(client, sb, "metrics/combined/", auth, source="warehouse").json()
        theirs = {r["id"] for r in get(client, sb, "analytics/campaigns/").json()["results"]}
        mine = {r["id"] for r in get(client, sb, "analytics/campaigns/", auth).json()["results"]}
        assert {r["id"] for r in body["campaign"]["rows"]} == theirs
        own = get(client, sb, "metrics/combined/", source="warehouse").json()
        assert {r["id"] for r in own["campaign"]["rows"]} == theirs and not theirs & mine


def test_adapter_and_filter_errors(client: httpx.Client) -> None:
    with running() as sb:
        unknown = get(client, sb, "metrics/combined/", source="nope")
        assert (unknown.status_code, unknown.json()) == (400, {"detail": "Unknown adapter 'nope'."})
        bad = get(client, sb, "metrics/combined/", start_date="01/08/2024")
        assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["start_date"][0]
        assert get(client, sb, "metrics/combined/", {}).status_code == 401


# --- tokens, password reset and throttles (reference §1)


def test_token_pair_refresh_and_rotation(client: httpx.Client) -> None:
    with running() as sb:
        pair = post(client, sb, "token/", {"username": "ops@acme.test", "password": "pw1"})
        assert pair.status_code == 200 and set(pair.json()) == {"access", "refresh"}
        access, refresh = pair.json()["access"], pair.json()["refresh"]
        assert {"token_type", "exp", "iat", "jti", "user_id"} <= set(claims(access))
        assert "tenant_id" not in claims(access) and "tenant_id" not in claims(refresh)
        me = get(client, sb, "me/", {"Authorization": f"Bearer {access}"}).json()
        assert me["tenant_id"] == sb.tenants[0].tenant_id
        bad = post(client, sb, "token/", {"username": "ops@acme.test", "password": "no"})
        assert (bad.status_code, bad.json()) == (
            401, {"detail": "No active account found with the given credentials"})
        missing = post(client, sb, "token/", {"username": "ops@acme.test"})
        assert (missing.status_code, missing.json()) == (
            400, {"password": ["This field is required."]})
        rotated = post(client, sb, "token/refresh/", {"refresh": refresh})
        assert rotated.status_code == 200 and set(rotated.json()) == {"access", "refresh"}
        new_access = rotated.json()["access"]
        assert get(client, sb, "me/", {"Authorization": f"Bearer {new_access}"}).status_code == 200
        reused = post(client, sb, "token/refresh/", {"refresh": refresh})
        assert (reused.status_code, reused.json()["code"]) == (401, "token_not_valid")
        assert reused.json()["detail"] == "Token is blacklisted"
        forged = post(client, sb, "token/refresh/", {"refresh": "x.y.z"})
        assert forged.json() == {"detail": "Token is invalid", "code": "token_not_valid"}
        login = post(client, sb, "auth/login/", {"username": "ops@acme.test", "password": "pw1"})
        from_login = post(client, sb, "token/refresh/", {"refresh": login.json()["refresh"]})
        assert claims(from_login.json()["access"])["tenant_id"] == sb.tenants[0].tenant_id


def _jwt(claims_: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims_)}.{uuid.uuid4().hex}"


def test_garbage_and_expired_bearers(client: httpx.Client) -> None:
    expired = _jwt({"token_type": "access", "exp": int(time.time()) - 3600, "user_id": 0})
    with running() as sb:
        for token in ("not-a-token", expired):
            answer = get(client, sb, "analytics/campaigns/", {"Authorization": f"Bearer {token}"})
            assert answer.status_code == 401
            assert answer.json()["code"] == "token_not_valid"
            assert answer.json()["detail"] == "Given token not valid for any token type"
    with running("auth_garbage_500") as sb:
        garbage = get(client, sb, "me/", {"Authorization": "Bearer not-a-token"})
        assert garbage.status_code == 500
        assert garbage.json()["error"] == {
            "code": "server_error", "path": "/api/me/",
            "message": "An unexpected error occurred. Please try again later."}
        assert get(client, sb, "me/", {"Authorization": f"Bearer {expired}"}).status_code == 401
        assert get(client, sb, "me/").status_code == 200


def test_issued_tokens_expire() -> None:
    with running() as sb:
        tenant, now = sb.tenants[0], datetime.now(UTC)
        tokens = TokenPairs()
        pair = tokens.obtain(tenant, now)
        assert tokens.resolve(pair["access"], now + timedelta(minutes=29)) == tenant
        assert tokens.resolve(pair["access"], now + timedelta(minutes=31)) is None
        assert tokens.rotate(pair["refresh"], now + timedelta(days=2)) == "Token is expired"


def test_password_reset_never_reveals_accounts(client: httpx.Client) -> None:
    with running() as sb:
        known = post(client, sb, "auth/password-reset/", {"email": "ops@acme.test"})
        unknown = post(client, sb, "auth/password-reset/", {"email": "nobody@example.test"})
        assert known.status_code == unknown.status_code in (200, 202)
        assert known.json() == unknown.json() and "detail" in known.json()
        assert post(client, sb, "auth/password-reset/", {}).status_code == 400
        invalid = post(client, sb, "auth/password-reset/", {"email": "not-an-address"})
        assert invalid.json() == {"email": ["Enter a valid email address."]}


def _retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    seconds = int(response.headers["Retry-After"])
    match = THROTTLED.match(response.json()["detail"])
    assert match and int(match.group(1)) == seconds
    return seconds


def test_auth_burst_is_shared_and_counts_every_outcome(client: httpx.Client) -> None:
    bad = {"username": "diagnostics-probe", "password": "wrong"}
    good = {"username": "ops@acme.test", "password": "pw1"}
    with running() as sb:
        auth = acme_auth(client, sb)  # one success counts too
        statuses = [post(client, sb, "token/", bad).status_code for _ in range(9)]
        assert statuses == [401] * 9
        assert 55 <= _retry_after(post(client, sb, "token/", bad)) <= 60
        for path, body in (("auth/login/", good), ("auth/password-reset/", {"email": "a@b.test"}),
                           ("token/refresh/", {"refresh": "x"}), ("token/", good)):
            _retry_after(post(client, sb, path, body))
        other = post(client, sb, "auth/login/", good, **{"X-Forwarded-For": "203.0.113.9"})
        assert other.status_code == 200  # another client has its own budget
        assert get(client, sb, "me/", auth).status_code == 200  # issued tokens keep working
        assert get(client, sb, "analytics/campaigns/", auth).status_code == 200


def test_auth_sustained_and_public_scopes(client: httpx.Client) -> None:
    with running(throttle_rates={"auth_burst": "1000/min", "auth_sustained": "3/day"}) as sb:
        resets = [post(client, sb, "auth/password-reset/", {"email": "a@b.test"}) for _ in "abc"]
        assert [r.status_code for r in resets] == [202] * 3
        assert _retry_after(post(client, sb, "token/", {})) > 86000
        env = Path(sb.paths["env_file"]).read_text()
        assert "DRF_THROTTLE_AUTH_SUSTAINED=3/day" in env
    with running() as sb:
        api = sb.urls["api"]
        versions = [client.get(f"{api}/api/health/version/").status_code for _ in range(120)]
        assert versions == [200] * 120
        _retry_after(client.get(f"{api}/api/health/version/"))
        _retry_after(client.get(f"{api}/api/schema/"))
        assert client.get(f"{api}/api/health/").status_code == 200


def test_throttle_disabled_never_answers_429(client: httpx.Client) -> None:
    with running("throttle_disabled") as sb:
        statuses = {post(client, sb, "token/", {"username": "x", "password": "y"}).status_code
                    for _ in range(15)}
        assert statuses == {401}


def test_schema_is_public(client: httpx.Client) -> None:
    with running() as sb:
        schema = client.get(f"{sb.urls['api']}/api/schema/")
        assert schema.status_code == 200
        document = yaml.safe_load(schema.text)
        assert "/api/analytics/campaigns/{id}/" in document["paths"]


# --- CORS (reference §3.13)


def preflight(client: httpx.Client, sb: Sandbox, origin: str, path: str = "/api/health/"):
    headers = {"Origin": origin, "Access-Control-Request-Method": "GET",
               "Access-Control-Request-Headers": "authorization"}
    return client.options(f"{sb.urls['api']}{path}", headers=headers)


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def test_cors_approved_and_unapproved_origins(client: httpx.Client) -> None:
    with running() as sb:
        approved = preflight(client, sb, APPROVED, "/api/metrics/combined/")  # before auth
        assert approved.status_code == 204
        assert cors_headers(approved) == {
            "access-control-allow-origin": APPROVED,
            "access-control-allow-credentials": "true",
            "access-control-allow-methods": "DELETE, GET, OPTIONS, PATCH, POST, PUT",
            "access-control-allow-headers": "authorization, content-type",
            "access-control-max-age": "86400",
        }
        assert approved.headers["vary"] == "Origin"
        blocked = preflight(client, sb, STRANGER)
        assert (blocked.status_code, blocked.text) == (403, "CORS origin blocked.")
        assert blocked.headers["content-type"].startswith("text/html")
        assert cors_headers(blocked) == {}
        simple = client.get(f"{sb.urls['api']}/api/health/", headers={"Origin": STRANGER})
        assert simple.status_code == 200 and cors_headers(simple) == {}
        allowed = client.get(f"{sb.urls['api']}/api/health/", headers={"Origin": APPROVED})
        assert allowed.headers["access-control-allow-origin"] == APPROVED
        assert allowed.headers["access-control-allow-credentials"] == "true"
        plain = client.options(f"{sb.urls['api']}/api/health/", headers={"Origin": APPROVED})
        assert plain.status_code == 405  # no Access-Control-Request-Method: not a preflight


def test_cors_allowlist_settings_and_allow_all(client: httpx.Client) -> None:
    options = {"cors_allowed_origins": ["https://ops.example.test"],
               "frontend_base_url": "https://app.example.test/dashboards/"}
    with running(**options) as sb:
        for origin in ("https://ops.example.test", "https://app.example.test"):
            assert preflight(client, sb, origin).status_code == 204
        assert preflight(client, sb, APPROVED).status_code == 403
        env = Path(sb.paths["env_file"]).read_text()
        assert "CORS_ALLOWED_ORIGINS=https://ops.example.test" in env
    with running("cors_allow_all") as sb:
        echoed = preflight(client, sb, STRANGER)
        assert echoed.status_code == 204
        assert echoed.headers["access-control-allow-origin"] == STRANGER
        assert echoed.headers["access-control-allow-credentials"] == "true"
        assert "CORS_ALLOW_ALL_ORIGINS=1" in Path(sb.paths["env_file"]).read_text()


# --- audit trail (runbook Audit Logging, tenant safety 5)


def test_audit_leak_and_ignored_filters(client: httpx.Client) -> None:
    with running("audit_leak") as sb:
        acme, globex = sb.tenants
        rows = get(client, sb, "audit-logs/", acme_auth(client, sb)).json()["results"]
        leaked = [r for r in rows if r["tenant"] == globex.tenant_id]
        assert leaked and {r["tenant"] for r in rows} == {acme.tenant_id, globex.tenant_id}
        assert all(r["user"] is None or r["user"]["id"] == globex.user_id for r in leaked)
        own = get(client, sb, "audit-logs/").json()["results"]
        assert {r["tenant"] for r in own} == {globex.tenant_id}
    with running("audit_filter_ignored") as sb:
        rows = get(client, sb, "audit-logs/", action="login").json()["results"]
        assert len({r["action"] for r in rows}) > 1
    with running() as sb:
        rows = get(client, sb, "audit-logs/", action="login").json()["results"]
        assert {r["action"] for r in rows} == {"login"}


# --- files: settings, manifests and the task log (tenant safety 1 and 4)


def manifests(sb: Sandbox) -> tuple[dict, dict]:
    root = Path(sb.paths["manifests"])
    config, deployment = yaml.safe_load_all((root / "k8s" / "backend-deployment.yaml").read_text())
    assert deployment["kind"] == "Deployment"
    return config, yaml.safe_load((root / "docker-compose.yml").read_text())


def test_settings_and_manifests(tmp_path: Path) -> None:
    with running(workdir=tmp_path) as sb:
        assert sb.paths["settings_file"] == str(tmp_path / "backend" / "core" / "settings.py")
        assert sb.paths["manifests"] == str(tmp_path / "deploy")
        assert sb.paths["task_log"] == str(tmp_path / "logs" / "celery-tasks.jsonl")
        source = Path(sb.paths["settings_file"]).read_text()
        compile(source, "settings.py", "exec")
        assert 'ENABLE_TENANCY = env.bool("ENABLE_TENANCY", default=True)' in source
        config, compose = manifests(sb)
        assert config["data"]["ENABLE_TENANCY"] == "1"
        for service in ("backend", "worker", "beat"):
            assert "ENABLE_TENANCY=1" in compose["services"][service]["environment"]
    with running("tenancy_manifest_off", "tenancy_settings_default_off") as sb:
        source = Path(sb.paths["settings_file"]).read_text()
        assert 'ENABLE_TENANCY = env.bool("ENABLE_TENANCY", default=False)' in source
        config, compose = manifests(sb)
        assert config["data"]["ENABLE_TENANCY"] == "0"
        assert "ENABLE_TENANCY=1" in compose["services"]["backend"]["environment"]


def worker_lines(sb: Sandbox) -> list[dict]:
    return [json.loads(line) for line in Path(sb.paths["task_log"]).read_text().splitlines()]


def task_lines(sb: Sandbox) -> list[dict]:
    """The `celery.tasks` lines; the same log also holds the Meta client's retries."""
    return [r for r in worker_lines(sb) if r["logger"] == "celery.tasks"]


def test_graph_retry_lines() -> None:
    """An ordinary hour: one retry that gets through; a storm: chains to the last attempt."""
    for faults, exhausted in (((), False), (("meta_rate_limit_storm",), True)):
        with running(*faults) as sb:
            retries = [r for r in worker_lines(sb) if r["logger"] == "meta.graph.retry"]
            assert retries and all(r["tenant_id"] for r in retries)
            assert any(r["attempt"] == r["max_attempts"] for r in retries) is exhausted


def persisted(lines: list[dict], tenant: Tenant) -> list[dict]:
    return [r for r in lines if r.get("event") == "metrics.snapshot.persisted"
            and r.get("tenant_id") == tenant.tenant_id]


def test_task_log(client: httpx.Client) -> None:
    with running() as sb:
        lines = task_lines(sb)
        keys = {"logger", "tenant_id", "task_id", "correlation_id", "task_name", "duration_ms",
                "status"}
        assert lines and all(keys <= set(r) and r["logger"] == "celery.tasks" for r in lines)
        for tenant, auth in zip(sb.tenants, (acme_auth(client, sb), GLOBEX_AUTH), strict=True):
            runs = persisted(lines, tenant)
            assert runs and all(r["task_name"] == "analytics.sync_metrics_snapshots" for r in runs)
            assert runs[-1]["row_totals"]["campaign"] == 2
            live = get(client, sb, "datasets/status/", auth).json()["live"]
            assert runs[-1]["snapshot_generated_at"] == live["snapshot_generated_at"]
            syncs = [r for r in lines if r["tenant_id"] == tenant.tenant_id
                     and r["task_name"] == "integrations.tasks.trigger_scheduled_airbyte_syncs"]
            assert {r["job_id"] for r in syncs} == {j.job_id for j in tenant.connections[0].jobs}
        assert [r["timestamp"] for r in lines] == sorted(r["timestamp"] for r in lines)


def test_task_log_faults() -> None:
    with running("task_logs_missing_tenant") as sb:
        lines = task_lines(sb)
        missing = [r for r in lines if "tenant_id" not in r]
        assert missing and {r["connection_id"] for r in missing} == {
            sb.tenants[0].connections[0].connection_id}
        assert persisted(lines, sb.tenants[0])
    with running("snapshot_task_silent") as sb:
        lines = task_lines(sb)
        assert not persisted(lines, sb.tenants[0]) and persisted(lines, sb.tenants[1])
    with running("snapshot_missing") as sb:
        acme = [r for r in task_lines(sb) if r.get("tenant_id") == sb.tenants[0].tenant_id
                and r["task_name"] == "analytics.sync_metrics_snapshots"]
        assert acme and {r["event"] for r in acme} == {"metrics.snapshot.failed"}
        assert {r["status"] for r in acme} == {"failure"}
