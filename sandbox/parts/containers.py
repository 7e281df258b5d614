"""Containers that show a state rather than describe it: each runs a shell script in the
sandbox's base image that prints the log lines the real service prints, then exits with
the real exit code or stays up. `docker ps`, `logs`, `inspect` and `exec` then give the
checks real evidence. Host networking only: containers reach loopback and nothing else.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass

import docker
from docker.models.containers import Container
from docker.types import Mount

from sandbox.parts.engine import Engine

SETTLE_TIMEOUT = 20.0


@dataclass(frozen=True)
class Line:
    """One log line; `stamped` lines get the container's clock in front of them, the
    continuation lines of a multi-line message do not."""

    text: str
    stamped: bool = True


@dataclass(frozen=True)
class Spec:
    """What one container is: its logs, environment, mounts and how it ends."""

    name: str
    service: str
    logs: tuple[Line, ...]
    env: dict[str, str]
    exit_code: int | None = None  # None: stays up after logging
    second_wave: bool = False  # started once the first wave's one-shot steps succeeded
    volumes: tuple[tuple[str, str], ...] = ()  # (volume name, destination)

    def script(self) -> str:
        """The container's shell command. TERM ends the sleep loop at once, as a real
        service stops on `docker stop`, rather than after the 10 s kill timeout."""
        stamp = "$(date -u '+%Y-%m-%d %H:%M:%S')"
        body = ["trap 'exit 0' TERM"]
        for line in self.logs:
            prefix = f'"{stamp} "' if line.stamped else ""
            body.append(f"printf '%s\\n' {prefix}{shlex.quote(line.text)}")
        if self.exit_code is None:
            body.append("while :; do sleep 3600 & wait $!; done")
        else:
            body.append(f"exit {self.exit_code}")
        return "\n".join(body)


def labels(compose: str | None, **labels: str) -> dict[str, str]:
    if compose is None:
        return {}
    return {"com.docker.compose.project": compose,
            **{f"com.docker.compose.{key}": value for key, value in labels.items()}}


def volume(client: docker.DockerClient, name: str, *, compose: str | None) -> None:
    client.volumes.create(name, labels=labels(compose, volume=name))


def create(client: docker.DockerClient, image: str, spec: Spec, *,
            compose: str | None) -> Container:
    """Host networking is asked for explicitly: the Docker API defaults to a bridge, which
    would make podman set up a network and iptables rules."""
    return client.containers.create(
        image,
        ["sh", "-c", spec.script()],
        name=spec.name,
        environment=spec.env,
        mounts=[Mount(target, source, type="volume") for source, target in spec.volumes],
        labels=labels(compose, service=spec.service, oneoff="False"),
        network_mode="host",
    )


def settle(container: Container, spec: Spec, *, deadline: float) -> int | None:
    """Start the container and wait until it has settled; returns its exit code (None while
    it runs). A container that ends up other than its spec says is an error: the state the
    caller asked for was not produced."""
    container.start()
    last = spec.logs[-1].text if spec.logs else ""
    while True:
        try:
            container.reload()
        except docker.errors.APIError as exc:
            if not _exiting(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
            continue
        state = container.attrs["State"]
        if spec.exit_code is not None and state["Status"] == "exited":
            if state["ExitCode"] != spec.exit_code:
                raise RuntimeError(_unexpected(container, f"exited {state['ExitCode']}, "
                                               f"expected {spec.exit_code}"))
            return state["ExitCode"]
        if spec.exit_code is None and state["Status"] == "exited":
            raise RuntimeError(_unexpected(container, f"exited {state['ExitCode']}"))
        if spec.exit_code is None and _logged(container, last):
            return None
        if time.monotonic() > deadline:
            raise RuntimeError(_unexpected(container, f"did not settle within "
                                           f"{SETTLE_TIMEOUT:g} s ({state['Status']})"))
        time.sleep(0.02)


def _exiting(exc: docker.errors.APIError) -> bool:
    """podman answers an inspect that lands while the container's process exits with 500
    ``read /proc/PID/cgroup: no such process``; asked again, it reports the exit. Seen
    once in nine full self-test runs, in a test creating the Airbyte containers the way
    the sandbox's boot does."""
    return exc.status_code == 500 and "no such process" in str(exc)


def _logged(container: Container, last: str) -> bool:
    if not last:
        return True
    return container.logs(tail=1).decode(errors="replace").rstrip("\n").endswith(last)


def _unexpected(container: Container, what: str) -> str:
    tail = container.logs(tail=5).decode(errors="replace").strip().replace("\n", " | ")
    return f"container {container.name} {what}; log tail: {tail or '(empty)'}"




def remove(engine: Engine, names: tuple[str, ...], volumes: tuple[str, ...] = ()) -> None:
    """Remove the named containers and volumes that exist, killing at once rather than
    waiting out a stop timeout."""
    client = engine.client()
    found = [c.name for c in client.containers.list(all=True) if c.name in names]
    if found:
        removed = engine.podman("rm", "--force", "--ignore", "--time", "0", *found)
        if removed.returncode != 0:
            raise RuntimeError(f"removing {', '.join(found)} failed: {removed.stderr.strip()}")
    for made in client.volumes.list():
        if made.name in volumes:
            made.remove(force=True)
