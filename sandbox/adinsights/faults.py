"""Named failure states of the simulated ADinsights stack, its audit trail and archive
included (the dr_* faults about accounts_auditlog and adinsights-audit-archive).

A check is only trustworthy once it has been seen to fail for the right reason, so every
documented failure state gets a stable name that the CLI, the self-tests and the docs share.
"""

from collections.abc import Iterable

from sandbox.parts import faults as parts_faults

FAULTS: dict[str, str] = {
    "api_down": "API listener not started; its URL refuses connections",
    "api_error": "/api/health/ answers 500 with the server_error envelope",
    "version_unset": "/api/health/version/ reports the default 0.0.0-dev",
    "version_throttled": "/api/health/version/ answers 429 with Retry-After: 57",
    "login_rejected": "/api/auth/login/ answers 401 for every account (bearer tokens still work)",
    "airbyte_misconfigured": "Airbyte credentials unset: /api/health/airbyte/ 503 misconfigured",
    "airbyte_no_recent_sync": "no tenant has ever synced: /api/health/airbyte/ 503 no_recent_sync",
    "airbyte_stale": "every tenant last synced 3 h ago: /api/health/airbyte/ 503 stale",
    "airbyte_sync_failed": "every tenant's latest job failed: /api/health/airbyte/ 502 sync_failed",
    "airbyte_running_stale": "latest job running for 3 h: /api/health/airbyte/ 503 running_stale",
    "airbyte_status_store_unavailable": "sync status tables unreadable: /api/health/airbyte/ 503",
    "tenant_sync_stale": "first tenant last synced 3 h ago: its sync-health row is stale",
    "tenant_sync_failed": "first tenant's latest job failed: its sync-health row is failed",
    "tenant_sync_missing": "first tenant never synced: its sync-health row is missing",
    "dbt_missing_run_results": "run_results.json absent: /api/health/dbt/ 503",
    "dbt_invalid_run_results": "run_results.json is not JSON: /api/health/dbt/ 500",
    "dbt_failing": "model stg_meta_ads errored: /api/health/dbt/ 502 failing",
    "dbt_stale": "run_results.json generated 30 h ago: /api/health/dbt/ 503 stale",
    "dbt_source_warn": "sources.json: meta_ads_insights loaded 3 h ago, status warn",
    "dbt_source_error": "sources.json: meta_ads_insights loaded 5 h ago, status error",
    "dbt_source_runtime_error": "sources.json: meta_ads_insights freshness query failed",
    "social_not_connected": "first tenant: Meta and Instagram not connected",
    "social_reauth_required": "first tenant: Meta credential needs re-authorisation",
    "social_complete": "first tenant: Meta connected but awaiting a recent successful sync",
    "social_connection_paused": "first tenant: its Meta connection is_active=false, social "
    "status complete (connection_paused)",
    "ga4_unavailable": "GA4 web analytics query fails (status unavailable)",
    "search_console_unavailable": "Search Console web analytics query fails (status unavailable)",
    "web_rows_empty": "first tenant: GA4 and Search Console answer status ok with no rows "
    "although both are connected",
    "airbyte_status_row_lagging": "the tenant sync status row the health views read lags the "
    "connection's latest sync by 25 min: health-overview and sync-health disagree",
    "superset_down": "Superset listener not started; its URL refuses connections",
    "superset_unhealthy": "Superset /health answers 503",
    "metrics_missing_series": "/metrics/app/ lacks the dbt_run_duration_seconds family",
    "airbyte_api_down": "Airbyte server not listening: its URL refuses connections",
    "airbyte_port_collision": "a foreign dev server holds the Airbyte API and UI ports (404 HTML)",
    "airbyte_unavailable": "Airbyte cannot reach its database: /api/v1/health says available false",
    "airbyte_proxy_auth_rejected": "Airbyte proxy basic auth answers 401 to every credential",
    "airbyte_env_mismatch": "backend.env AIRBYTE_API_URL names another loopback port",
    "airbyte_env_wrong_host": "backend.env AIRBYTE_API_URL names host.docker.internal although "
    "the backend runs on the host",
    "airbyte_compose_env_port": "Airbyte's compose .env publishes the server on another port "
    "than the one it answers on",
    "beat_timezone_utc": "settings: CELERY_TIMEZONE is UTC, so every beat entry fires five "
    "hours off its America/Jamaica window",
    "beat_snapshot_hourly": "settings: the metrics-snapshot-sync beat entry runs hourly, not "
    "every 30 minutes",
    "beat_meta_insights_disabled": "settings: the incremental Meta insights beat entry is "
    "disabled",
    "snapshot_telemetry_bare": "the snapshot task's persisted lines lack row_totals and "
    "correlation_id",
    "api_access_log_no_duration": "the API's api.access lines carry no duration_ms",
    "webhook_log_no_correlation": "the API's 'Airbyte webhook processed' lines carry no "
    "correlation_id",
    "airbyte_compose_order": "compose: server and worker wait only for the bootloader to start",
    "airbyte_orphan_connection": "first tenant: a backend connection Airbyte lacks, and vice versa",
    "airbyte_webhook_silent": "newest airbyte_job_webhook audit row is 3 h old while jobs exist",
    "airbyte_webhook_secret_unset": "webhook secret required but empty: webhook answers 503",
    "airbyte_webhook_open": "webhook accepts a missing or wrong secret (REQUIRED=0, no secret)",
    "airbyte_webhook_previous_accepted": "after a rotation the webhook still accepts the "
    "previous secret (a replica kept the old value)",
    "airbyte_env_sample_real_secret": "backend .env.sample holds a real-looking "
    "AIRBYTE_WEBHOOK_SECRET instead of a placeholder",
    "airbyte_webhook_500": "webhook answers 500 server_error for an unknown connection, not 404",
    "airbyte_bootloader_failed": "airbyte-bootloader exits 255: Unable to bootstrap Airbyte",
    "airbyte_worker_mounts": "airbyte-worker WORKSPACE_DOCKER_MOUNT names a volume it lacks",
    "airbyte_source_config_missing": "sync attempts fail: FileNotFoundError source_config.json",
    "airbyte_scheduler_silent": "the sync scheduler never logs that it started",
    "airbyte_beat_entry_missing": "the hourly Airbyte sync beat entry is not registered",
    "airbyte_db_empty_schema": "airbyte-db's airbyte database has no tables (never migrated)",
    "airbyte_db_port_closed": "airbyte-db is not published where the diagnostics run (the "
    "profile's DSN port refuses); only the containers reach it",
    "app_db_port_closed": "the application database is not reachable where the diagnostics "
    "run (the profile's DSN port refuses)",
    "cors_frontend_missing": "CORS_ALLOWED_ORIGINS is empty and FRONTEND_BASE_URL points "
    "elsewhere, so the real frontend's origin is refused",
    "engine_down": "the container engine's socket is gone (DOCKER_HOST points at nothing)",
    "airbyte_metadata_missing": "airbyte-db lacks the airbyte_metadata table",
    "tenancy_list_leak": "first tenant's /api/analytics/campaigns/ also lists a second-tenant "
    "campaign",
    "tenancy_ops_leak": "first tenant's /api/ops/sync-health/ also shows the second tenant's "
    "connection",
    "tenancy_object_by_id": "first tenant gets another tenant's campaign by id (200, not 404)",
    "tenancy_manifest_off": "deploy/k8s backend manifest sets ENABLE_TENANCY \"0\"",
    "tenancy_settings_default_off": "backend/core/settings.py: ENABLE_TENANCY default=False",
    "task_logs_missing_tenant": "celery.tasks: the first tenant's Airbyte sync-trigger lines "
    "lack tenant_id",
    "warehouse_leak": "first tenant's /api/metrics/combined/ serves the second tenant's snapshot",
    "audit_leak": "first tenant's /api/audit-logs/ includes the second tenant's rows",
    "audit_filter_ignored": "/api/audit-logs/ ignores ?action= and ?resource_type=",
    "audit_filter_ignored_busy": "first tenant: /api/audit-logs/ ignores its filters, and 60 "
    "recent sign-ins fill its first page with action login on resource_type user",
    "cache_never_hits": "every unfiltered metrics request rebuilds the snapshot (new timestamp, "
    "uncached latency)",
    "cache_bypass_stale": "metrics ?cache=false returns the stored snapshot unchanged",
    "cache_hits_slow": "the cache backend is slow: cached metrics requests take as long as "
    "uncached ones (p95 about 1.7 s in the backend's own latency histogram)",
    "cache_filter_overwrites": "a filtered metrics request overwrites the stored snapshot and "
    "its timestamp",
    "snapshot_warning": "first tenant's snapshot is 90 min old: metrics 503 stale_snapshot",
    "snapshot_critical": "first tenant's snapshot is 150 min old: metrics 503 stale_snapshot",
    "snapshot_missing": "first tenant has no snapshot: metrics 503 missing_snapshot",
    "snapshots_stale_fleet": "every tenant's snapshot is 70 min old: metrics 503 stale_snapshot",
    "snapshot_task_silent": "task log has no metrics.snapshot.persisted line for the first tenant",
    "cors_allow_all": "CORS_ALLOW_ALL_ORIGINS=1: any origin is echoed with credentials",
    "throttle_disabled": "auth and public throttles off: no request is ever answered 429",
    "throttle_sustained_loose": "DRF_THROTTLE_AUTH_SUSTAINED=100000/day: the daily sign-in "
    "budget is a thousand times the default",
    "throttle_public_loose": "DRF_THROTTLE_PUBLIC=100000/min: the public endpoints are never "
    "throttled in practice",
    "auth_garbage_500": "a bearer that is not a JWT gets the 500 server_error envelope, not 401",
    "auth_expiry_ignored": "the API accepts an access token it signed after its exp has passed",
    "rls_disabled": "app DB: row-level security disabled on analytics_campaign",
    "rls_bypass": "app DB: the application role has BYPASSRLS",
    "rls_owner_unforced": "app DB: the application role owns accounts_auditlog, RLS not forced",
    "rls_policy_permissive": "app DB: analytics_adset's policy is USING (true): RLS on, no filter",
    "meta_app_id_missing": "META_APP_ID empty: setup meta_app_credentials not ok, OAuth start 503",
    "meta_app_secret_missing": "META_APP_SECRET empty: setup meta_app_credentials not ok, OAuth "
    "start 503",
    "meta_login_config_missing": "META_LOGIN_CONFIG_REQUIRED=1 but META_LOGIN_CONFIG_ID empty: "
    "OAuth start 503",
    "meta_scopes_insufficient": "META_OAUTH_SCOPES lacks business_management, and the debugged "
    "token was granted without it",
    "meta_redirect_missing": "no META_OAUTH_REDIRECT_URI and FRONTEND_BASE_URL empty: no "
    "redirect URI, OAuth start 503",
    "meta_token_expired": "Graph debug_token: the token is_valid false (190/463, expired two "
    "days ago)",
    "meta_token_expiring": "Graph debug_token: the token is valid but expires in 3 days",
    "meta_token_reauth_required": "every tenant's stored Meta credential is reauth_required "
    "(social status credential_reauth_required)",
    "meta_account_forbidden": "first tenant: 403 (#200) account errors in integrations_apierrorlog "
    "and its account sync state last_job_status failed",
    "meta_rate_limit_storm": "first tenant: 30 retryable Meta throttling errors in the last hour",
    "meta_direct_api_broken": "first tenant's /api/meta/insights/ answers 500 server_error",
    "meta_login_policy_off": "META_LOGIN_CONFIG_REQUIRED=0 where the environment's policy "
    "requires the login configuration",
    "meta_backend_secret_stale": "the backend's META_APP_SECRET is an old value Graph refuses; "
    "the profile's copy is current",
    "meta_stored_token_expiring": "first tenant's stored Meta credential is valid but expires "
    "in 2 days (token_expires_at)",
    "meta_account_disabled": "Graph me/adaccounts lists the first tenant's ad account with "
    "account_status 2 (disabled)",
    "meta_graph_down": "Meta Graph stand-in not started; its URL refuses connections",
    "meta_oauth_start_broken": "OAuth start's authorize URL carries a stale redirect_uri, not "
    "the configured one",
    "ses_api_down": "SES answers 503 ServiceUnavailable to every call (v1 and v2)",
    "ses_dns_down": "no nameserver answers at the profile's DNS address and port",
    "ses_identity_pending": "SES domain identity adtelligent.net is Pending, not verified",
    "ses_dkim_disabled": "Easy DKIM signing is disabled for the domain identity",
    "ses_dkim_token_failed": "SES reports the identity's Easy DKIM verification Failed (a "
    "token did not verify); DNS still serves every CNAME",
    "ses_dkim_cname_missing": "the first DKIM token's <token>._domainkey CNAME is missing "
    "from DNS",
    "ses_dmarc_missing": "no _dmarc TXT record for the sending domain",
    "ses_spf_without_ses": "SPF records (domain and MAIL FROM) lack include:amazonses.com",
    "ses_account_sandboxed": "the SES account is still in the sandbox "
    "(ProductionAccessEnabled false)",
    "ses_sending_disabled": "sending is paused for the SES account (SendingEnabled false)",
    "ses_from_domain_mismatch": "backend.env EMAIL_FROM_ADDRESS is the default "
    "no-reply@adinsights.local, outside SES_EXPECTED_FROM_DOMAIN",
    "ses_configuration_set_missing": "SES_CONFIGURATION_SET names a set that does not exist "
    "in SES",
    "ses_smoke_mail_skipped": "backend.env leaves AWS_REGION unset, so the backend skips "
    "every mail",
    "dr_audit_over_retention": "accounts_auditlog holds rows 400 to 500 days old (the nightly "
    "deletion stopped)",
    "dr_audit_under_retention": "accounts_auditlog keeps only 30 days (the deletion ran with "
    "INTERVAL '30 days')",
    "dr_export_missing": "the audit archive lacks the export of 3 days ago",
    "dr_bucket_unencrypted": "the audit archive bucket has no default encryption and accepts "
    "unencrypted uploads",
    "dr_bucket_public": "the audit archive bucket policy allows anonymous reads, with no "
    "public access block",
    "dr_s3_down": "S3 answers 503 ServiceUnavailable to every call",
}

# Each group sets one piece of state to different values, so at most one member may be chosen.
EXCLUSIVE: tuple[frozenset[str], ...] = (
    frozenset({"api_down", "api_error"}),
    frozenset({"version_unset", "version_throttled"}),
    frozenset(
        {
            "airbyte_no_recent_sync",
            "airbyte_stale",
            "airbyte_sync_failed",
            "airbyte_running_stale",
            "tenant_sync_stale",
            "tenant_sync_failed",
            "tenant_sync_missing",
            "airbyte_status_row_lagging",
        }
    ),
    frozenset({"dbt_missing_run_results", "dbt_invalid_run_results", "dbt_failing"}),
    frozenset({"dbt_missing_run_results", "dbt_invalid_run_results", "dbt_stale"}),
    frozenset({"dbt_source_warn", "dbt_source_error", "dbt_source_runtime_error"}),
    frozenset({"social_not_connected", "social_reauth_required", "social_complete",
               "social_connection_paused"}),
    frozenset({"superset_down", "superset_unhealthy"}),
    # Who answers on the Airbyte port: nobody, a stranger, or Airbyte in one bad state.
    frozenset(
        {
            "airbyte_api_down",
            "airbyte_port_collision",
            "airbyte_unavailable",
            "airbyte_proxy_auth_rejected",
        }
    ),
    # The webhook's secret settings; with no secret configured nothing reaches the lookup.
    frozenset({"airbyte_webhook_secret_unset", "airbyte_webhook_open"}),
    frozenset({"airbyte_webhook_secret_unset", "airbyte_webhook_500"}),
    # A silent webhook needs jobs that went unreported.
    frozenset({"airbyte_webhook_silent", "airbyte_no_recent_sync"}),
    frozenset({"airbyte_webhook_silent", "tenant_sync_missing"}),
    frozenset({"airbyte_db_empty_schema", "airbyte_metadata_missing"}),
    # How old each tenant's metrics snapshot is, or whether it exists at all.
    frozenset(
        {"snapshot_warning", "snapshot_critical", "snapshot_missing", "snapshots_stale_fleet"}
    ),
    # What an unfiltered request with cache=false does: rebuild always, or never.
    frozenset({"cache_never_hits", "cache_bypass_stale"}),
    # Both set what the latency histogram shows for hits.
    frozenset({"cache_never_hits", "cache_hits_slow"}),
    # The version endpoint cannot both answer 429 and never be throttled.
    frozenset({"throttle_disabled", "version_throttled"}),
    frozenset({"throttle_public_loose", "version_throttled"}),
    # Allowing every origin and refusing the frontend cannot both be the policy.
    frozenset({"cors_allow_all", "cors_frontend_missing"}),
    # Every tenant's credential needs reauth: the first tenant cannot also be in another state.
    frozenset({"meta_token_reauth_required", "social_not_connected", "social_complete",
               "social_connection_paused"}),
    frozenset({"meta_token_expired", "meta_token_expiring", "meta_graph_down"}),
    # What Graph says of the first tenant's ad account needs the tenant to be connected.
    frozenset({"social_not_connected", "meta_token_expired"}),
    frozenset({"social_not_connected", "meta_account_disabled"}),
    # How far back the audit trail reaches: too far, or not far enough.
    frozenset({"dr_audit_over_retention", "dr_audit_under_retention"}),
)


def check_faults(names: Iterable[str]) -> frozenset[str]:
    """Reject typos and contradictions up front, where the caller can still see which name."""
    return parts_faults.check_faults(names, FAULTS, EXCLUSIVE)
