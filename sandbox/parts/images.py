"""The one image every stand-in's containers run, made from the host's own binaries.

No registry can be reached, so the image is imported from a root filesystem assembled here:
a static busybox for the shell and the sleep loops, and the host's real psql with the shared
libraries it links, so that `docker exec <container> psql ...` runs a real client against a
real server. Each engine has private storage, so the image is built once per engine and
found there afterwards.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tarfile
import threading
import time
from pathlib import Path

import docker

from sandbox.parts.engine import Engine, EngineUnavailable

REPOSITORY = "localhost/diagnostics-sandbox/base"
IMAGE = f"{REPOSITORY}:latest"
BUSYBOX = Path("/bin/busybox")
PATH = "/usr/local/bin:/usr/bin:/bin"
# libpq looks the current user up when no -U is given; the rest is what a shell expects.
ETC = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n",
    "etc/group": "root:x:0:\nnogroup:x:65534:\n",
}
DIRECTORIES = {"bin": 0o755, "usr/bin": 0o755, "etc": 0o755, "root": 0o700, "tmp": 0o1777}


def psql_binary() -> Path | None:
    """The psql executable itself: Debian's /usr/bin/psql is a Perl wrapper that picks
    among installed versions, and a Perl script cannot run in a busybox image."""
    candidates = []
    if found := shutil.which("psql"):
        candidates.append(Path(found).resolve())
    versions = Path("/usr/lib/postgresql").glob("*/bin/psql")
    candidates += sorted(versions, key=lambda p: int(p.parent.parent.name)
                         if p.parent.parent.name.isdigit() else -1, reverse=True)
    return next((path for path in candidates if _is_elf(path)), None)


def _is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(4) == b"\x7fELF"
    except OSError:
        return False


def _libraries(binary: Path) -> list[str]:
    """The paths the dynamic loader maps for `binary`, the loader itself included; a static
    binary needs none (ldd then exits non-zero)."""
    done = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return []
    return re.findall(r"(/\S+) \(0x", done.stdout)


def _applets() -> list[str]:
    done = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True)
    return [name for name in done.stdout.split() if name != "busybox"]


def rootfs() -> bytes:
    """The image's root filesystem as an uncompressed tar."""
    psql = psql_binary()
    if not _is_elf(BUSYBOX):
        raise EngineUnavailable(f"{BUSYBOX} not found: apt-get install busybox-static")
    if psql is None:
        raise EngineUnavailable("psql not found: apt-get install postgresql-client")
    files = {"bin/busybox": BUSYBOX, "usr/bin/psql": psql}
    for binary in (BUSYBOX, psql):
        files |= {lib.lstrip("/"): Path(os.path.realpath(lib)) for lib in _libraries(binary)}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, mode in DIRECTORIES.items():
            entry = tarfile.TarInfo(name)
            entry.type, entry.mode = tarfile.DIRTYPE, mode
            tar.addfile(entry)
        for name, source in files.items():
            tar.add(source, arcname=name)
        for applet in _applets():
            entry = tarfile.TarInfo(f"bin/{applet}")
            entry.type, entry.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(entry)
        for name, text in ETC.items():
            data = text.encode()
            entry = tarfile.TarInfo(name)
            entry.size, entry.mode = len(data), 0o644
            tar.addfile(entry, io.BytesIO(data))
    return buffer.getvalue()


_BUILDING = threading.Lock()


def ensure_image(engine: Engine) -> str:
    """The image reference, building the image first if this engine does not have it yet.
    Stand-ins start in parallel: one builds, the others wait for it and find it."""
    with _BUILDING:
        return _ensure(engine)


def _ensure(engine: Engine) -> str:
    client = engine.client()
    try:
        client.images.get(IMAGE)
        return IMAGE
    except docker.errors.ImageNotFound:
        pass
    began = time.perf_counter()
    # podman's import ignores the tag parameter and tags what it imports "latest".
    client.api.import_image_from_data(rootfs(), repository=REPOSITORY, changes=[f"ENV PATH={PATH}"])
    client.images.get(IMAGE)  # fails loudly if the import stored it under another name
    engine.timings["image_build"] = time.perf_counter() - began
    return IMAGE
