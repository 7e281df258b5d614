"""The Airbyte containers: bootloader, server, worker and scheduler, as the engine sees them."""

from fixtures.catalog import check, upstream_check
from fixtures.expect import expect

ENGINE = ("engine",)


test_engine_reachable = upstream_check(
    "adinsights.airbyte.engine.reachable", "engine", "[ENGINE]", severity="critical",
    runbook="airbyte.md#container-engine-unreachable")


@check("adinsights.airbyte.containers.bootloader",
       severity="critical", runbook="airbyte.md#bootloader",
       needs=ENGINE, category="failed job")
def test_bootloader(container):
    boot = container("bootloader")
    expect("container airbyte-bootloader", boot.exists, "==", True)
    expect("[STATE]", boot.status, "==", "exited")
    expect("[EXIT CODE]", boot.exit_code, "==", 0, note=(boot.logs or [""])[-1])
    expect("[LOG] Finished bootstrapping Airbyte environment.",
           boot.log_has("Finished bootstrapping Airbyte environment."), "==", True)


@check("adinsights.airbyte.containers.server_logs", severity="high",
       runbook="airbyte.md#server-relation-errors", needs=ENGINE)
def test_server_relation_errors(container):
    server = container("server")
    errors = [line for line in server.logs
              if "airbyte_metadata" in line and "does not exist" in line]
    expect("server log lines: relation airbyte_metadata does not exist", errors, "is empty")


@check("adinsights.airbyte.containers.worker_mounts", severity="critical",
       runbook="airbyte.md#worker-mounts", needs=ENGINE)
def test_worker_mounts(container, diag, settings):
    worker = container("worker")
    expect("container airbyte-worker", worker.exists, "==", True)
    volumes = diag.engine.volumes()
    for env, wanted, root in (("WORKSPACE_DOCKER_MOUNT", settings["workspace_mount"],
                               "WORKSPACE_ROOT"),
                              ("LOCAL_DOCKER_MOUNT", settings["local_mount"], "LOCAL_ROOT")):
        expect(f"[ENV] {env}", worker.env.get(env), "==", wanted)
        expect(f"volume {wanted}", wanted, "in", volumes)
        mounted = [m for m in worker.mounts if m.get("Type") == "volume"
                   and m.get("Name") == wanted]
        expect(f"volume {wanted} mounted at ${root}", [m.get("Destination") for m in mounted],
               "contains", worker.env.get(root))


@check("adinsights.airbyte.containers.worker_logs", severity="high",
       runbook="airbyte.md#connector-input-files-missing", needs=ENGINE, category="failed job")
def test_source_config_found(container):
    worker = container("worker")
    missing = [line for line in worker.logs
               if "FileNotFoundError" in line and "source_config.json" in line]
    expect("worker log lines: FileNotFoundError source_config.json", missing, "is empty")


@check("adinsights.airbyte.containers.scheduler",
       severity="high", runbook="airbyte.md#scheduler-heartbeat",
       needs=ENGINE)
def test_scheduler_started(container):
    scheduler = container("scheduler")
    expect("container airbyte-scheduler", scheduler.exists, "==", True)
    expect("[LOG] Scheduler started", scheduler.log_has("Scheduler started"), "==", True)


@check("adinsights.airbyte.containers.beat_schedule", severity="medium",
       runbook="airbyte.md#scheduled-syncs-entry", needs=ENGINE, category="stale data")
def test_scheduled_syncs_entry(container):
    scheduler = container("scheduler")
    expect("[LOG] airbyte-scheduled-syncs-hourly",
           scheduler.log_has("airbyte-scheduled-syncs-hourly"), "==", True)
