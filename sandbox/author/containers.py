"""The author app's API and worker as containers on the shared engine, so the playbook's
"is the container seeing the .env?" and "what is the worker logging?" are answered by the
engine's inspect and logs, as they would be on the app's host.

Both containers stay up. The API's environment is its env file's, unless a fault says the
container was started before the file was last edited; the worker prints the lines the
real worker prints, error lines included when a fault asks for them.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor

from sandbox.parts.containers import SETTLE_TIMEOUT, Line, Spec, create, remove, settle
from sandbox.parts.engine import Engine
from sandbox.parts.images import ensure_image

API, WORKER = "author-api", "author-worker"
NAMES = (API, WORKER)
STALE = "authorapi_container_env_stale"
ERRORS = "authorworker_log_errors"
ENGINE_DOWN = "authorengine_down"


def specs(faults: Collection[str], api_env: Mapping[str, str], worker_env: Mapping[str, str],
          *, stale: Mapping[str, str], redis_url: str, secret: str) -> tuple[Spec, Spec]:
    """``stale``: the values the API's env file held before its last edit. ``redis_url``
    and ``secret`` are what a careless error line would leak, so redaction is tested."""
    env = dict(api_env) | (dict(stale) if STALE in faults else {})
    api = Spec(API, "api", (Line("info API listening on :4000"),), env)
    lines = [Line(f"info processed job {900 + n} in {380 + n * 7}ms") for n in range(25)]
    if ERRORS in faults:
        lines += [Line("error job 951 failed: model artifact not loaded"),
                  Line(f"error lost connection to {redis_url}"),
                  Line(f"ERROR S3 GetObject denied for key with secret {secret}")]
    return api, Spec(WORKER, "worker", tuple(lines), dict(worker_env))


def start(engine: Engine, made: tuple[Spec, ...]) -> dict[str, str]:
    """Create and start the containers (replacing any left by an earlier call); returns
    their ids once each has logged its lines."""
    image = ensure_image(engine)
    remove(engine, NAMES)
    client = engine.client()
    deadline = time.monotonic() + SETTLE_TIMEOUT
    with ThreadPoolExecutor(len(made)) as pool:
        containers = list(pool.map(functools.partial(create, client, image, compose=None),
                                   made))
        list(pool.map(lambda pair: settle(*pair, deadline=deadline), zip(containers, made,
                                                                         strict=True)))
    return {spec.name: container.id for spec, container in zip(made, containers, strict=True)}
