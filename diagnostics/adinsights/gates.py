"""ADinsights' upstreams: the API and the tenants' sign-ins, Superset, Airbyte, the
container engine, its databases, SES, DNS and the audit archive in S3."""

from __future__ import annotations

import base64

from fixtures import upstreams
from fixtures.context import Context
from fixtures.gates import Verdict, register
from fixtures.probes.dns import DEFAULT_PORT, DnsProbe
from fixtures.probes.http import Response

SYSTEM = "adinsights"
GRAPH_API_VERSION = "v24.0"  # the version the backend's Meta client calls


def airbyte_auth(ctx: Context) -> dict[str, str]:
    """Basic credentials for Airbyte's proxy, when the profile names them."""
    settings = ctx.profile.area("airbyte")
    user = settings.get("username", "")
    if not user:
        return {}
    password = ctx.profile.secret(settings.get("password_env", ""))
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def dns(ctx: Context) -> DnsProbe:
    """The nameserver the section's ``ses`` table names (``nameserver``, one address or
    several separated by commas, and ``dns_port``); never the machine's resolver."""

    def build() -> DnsProbe:
        settings = ctx.profile.area("ses")
        servers = [s.strip() for s in str(settings.get("nameserver", "")).split(",")]
        port = str(settings.get("dns_port", "") or DEFAULT_PORT)
        return DnsProbe(servers, int(port) if port.isdigit() else 0, ctx.profile.timeouts,
                        ctx.redactor)

    return ctx.once("dns", build)


@register("api", "adinsights.health.api.reachable")
def api_gate(ctx: Context, _key: str) -> Verdict:
    return upstreams.http(ctx, "api", "/api/health/")


@register("superset", "adinsights.health.superset.reachable")
def superset_gate(ctx: Context, _key: str) -> Verdict:
    return upstreams.http(ctx, "superset", "/health")


@register("tenant", "adinsights.health.auth.tenant[{key}]", needs=("api",), keyed="tenant")
def tenant_gate(ctx: Context, name: str) -> Verdict:
    """Sign a test tenant in once per process and keep its access token in memory only."""
    tenant = ctx.profile.tenant(name)
    secret = ctx.profile.secret(tenant.secret_env)
    if tenant.token_env:
        ctx.tokens[name] = secret
        response = ctx.http.get("api", "/api/me/", headers={"Authorization": f"Bearer {secret}"},
                                fresh=True)
        what = f"bearer token from {tenant.token_env}"
        proof = ("tenant_id", "user")  # who /api/me/ says we are
    else:
        response = ctx.http.post("api", "/api/auth/login/",
                                 json_body={"username": tenant.username, "password": secret})
        what = f"sign-in as {tenant.username} with the password from {tenant.password_env}"
        proof = ("access",)
        if response.status == 200:
            _keep_tokens(ctx, name, response)
    if response.status != 200:
        return Verdict(False, f"{what} answered {response.outcome}{_detail(response)}")
    if not _has_any(response, proof):
        return Verdict(False, f"{what} answered 200 without {' or '.join(proof)}: "
                              "not the API's sign-in answer")
    return Verdict(True, f"{what} accepted")


def _has_any(response: Response, keys: tuple[str, ...]) -> bool:
    try:
        body = response.json
    except Exception:  # noqa: BLE001 - an unreadable answer proves nothing
        return False
    return isinstance(body, dict) and any(body.get(key) for key in keys)


@register("snapshot",
          "adinsights.tenancy.metrics.data[{key}]", needs=("tenant:{key}",), keyed="tenant")
def snapshot_gate(ctx: Context, tenant: str) -> Verdict:
    """Cache behaviour can only be judged on a tenant whose snapshot is served; when it is
    not, the freshness and metrics checks say why and the cache checks wait on them."""
    response = ctx.http.get("api", "/api/metrics/combined/", headers=ctx.auth(tenant),
                            params={"source": "warehouse"})
    if response.status == 200:
        return Verdict(True, f"{tenant}'s snapshot is served")
    return Verdict(False, f"{tenant}'s /api/metrics/combined/ answered {response.outcome}"
                   f"{_detail(response)}")


@register("airbyte_api", "adinsights.airbyte.ports.api")
def airbyte_api_gate(ctx: Context, _key: str) -> Verdict:
    """Whatever answers on the Airbyte API port must be Airbyte: its health JSON, or its
    proxy asking for basic auth. Anything else is a port collision."""
    if not ctx.profile.urls.get("airbyte_api"):
        return Verdict(False, "the target profile names no [adinsights.urls] airbyte_api")
    response = ctx.http.get("airbyte_api", "/api/v1/health", headers=airbyte_auth(ctx),
                            fresh=True)
    if response.status is None:
        return Verdict(False, f"{response.url}: {response.error} (nothing listens there, or "
                       "the port is taken)")
    if response.status == 401 and "basic" in response.header("www-authenticate").lower():
        return Verdict(True, f"{response.url}: Airbyte's proxy asks for basic auth")
    if _is_airbyte_health(response):
        return Verdict(True, f"{response.url}: Airbyte health answered")
    kind = response.header("content-type").split(";")[0] or "no content type"
    return Verdict(False, f"{response.url} answered {response.status} ({kind}), which is not "
                   "Airbyte: another service holds the port")


def _is_airbyte_health(response: Response) -> bool:
    try:
        return isinstance(response.json, dict) and "available" in response.json
    except Exception:  # noqa: BLE001 - a non-JSON answer is simply not Airbyte
        return False


@register("airbyte_auth", "adinsights.airbyte.api.credentials", needs=("airbyte_api",))
def airbyte_auth_gate(ctx: Context, _key: str) -> Verdict:
    response = ctx.http.get("airbyte_api", "/api/v1/health", headers=airbyte_auth(ctx),
                            fresh=True)
    if response.status == 401:
        settings = ctx.profile.area("airbyte")
        if not settings.get("username"):
            return Verdict(False, "Airbyte's proxy requires basic auth and the profile names "
                           "no [adinsights.airbyte] username / password_env")
        return Verdict(False, f"Airbyte's proxy rejected user '{settings['username']}' with the "
                       f"password from {settings.get('password_env')} (401)")
    return Verdict(True, f"{response.url} answered {response.outcome}")


@register("airbyte_server", "adinsights.airbyte.api.health", needs=("airbyte_api", "airbyte_auth"))
def airbyte_server_gate(ctx: Context, _key: str) -> Verdict:
    """Airbyte answers 200 with ``available: false`` when it cannot reach its database;
    its config API is then useless, so checks that read it wait on this verdict."""
    response = ctx.http.get("airbyte_api", "/api/v1/health", headers=airbyte_auth(ctx))
    said = response.json.get("available") if _is_airbyte_health(response) else "?"
    return Verdict(said is True, f"{response.url} answered {response.outcome}: available={said}")


@register("engine", "adinsights.airbyte.engine.reachable")
def engine_gate(ctx: Context, _key: str) -> Verdict:
    return upstreams.engine(ctx)


upstreams.register_databases(SYSTEM, {
    "airbyte_db": "adinsights.airbyte.db.reachable", "app_db": "adinsights.tenancy.db.reachable",
    "audit_db": "adinsights.dr.audit.reachable", "meta_ops_db": "adinsights.meta.db.reachable"})


@register("ses", "adinsights.ses.api.reachable")
def ses_gate(ctx: Context, _key: str) -> Verdict:
    """A cheap, read-only SES call: GetSendQuota answers for any account state."""
    return upstreams.aws(ctx, "ses", "get_send_quota", lambda quota: (
        f"GetSendQuota (Max24HourSend {quota.get('Max24HourSend')})"))


@register("dns", "adinsights.ses.dns.reachable")
def dns_gate(ctx: Context, _key: str) -> Verdict:
    ok, reason = dns(ctx).ping()
    return Verdict(ok, reason)


@register("s3", "adinsights.dr.archive.reachable")
def s3_gate(ctx: Context, _key: str) -> Verdict:
    """HeadBucket on the audit archive: read-only, and it answers for any bucket state."""
    bucket = ctx.profile.area("dr").get("archive_bucket", "")
    if not bucket:
        return Verdict(False, "the target profile names no [adinsights.dr] archive_bucket")
    return upstreams.aws(ctx, "s3", "head_bucket", lambda _: f"HeadBucket for {bucket}",
                         Bucket=bucket)


def _keep_tokens(ctx: Context, name: str, response: Response) -> None:
    try:
        body = response.json
    except Exception:  # noqa: BLE001 - a garbled login answer is reported by the gate
        return
    access = str(body.get("access", "")) if isinstance(body, dict) else ""
    ctx.redactor.add(access)
    ctx.redactor.add(str(body.get("refresh", "")) if isinstance(body, dict) else "")
    ctx.tokens[name] = access


def _detail(response: Response) -> str:
    try:
        detail = response.json.get("detail")
    except Exception:  # noqa: BLE001 - non-JSON errors are summarised by status alone
        return ""
    return f": {detail}" if detail else ""


@register("meta_graph", "adinsights.meta.graph.reachable")
def graph_gate(ctx: Context, _key: str) -> Verdict:
    if not ctx.profile.urls.get("meta_graph"):
        return Verdict(False, "the target profile names no [adinsights.urls] meta_graph")
    version = ctx.profile.area("meta").get("graph_api_version", GRAPH_API_VERSION)
    response = ctx.http.get("meta_graph", f"/{version}/debug_token", fresh=True)
    if response.status is None:
        return Verdict(False, f"{response.url}: {response.error}")
    return Verdict(True, f"{response.url} answered {response.status}")
