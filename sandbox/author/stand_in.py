"""The author app as its playbook's checks find it: its database on the shared
PostgreSQL, a real Redis holding the API's sessions and the worker's queue, a real SMTP
server requiring STARTTLS and then AUTH (its CA in a file for the profile), S3, STS and
CloudWatch on the shared moto server, the mail provider's status page and suppression
lists, LocalStack's health endpoint, the API's, web app's and worker's env files, the
deployed model bundle, and the API and the worker as containers on the shared engine."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sandbox.author import containers, database, services, storage
from sandbox.author.faults import check_faults
from sandbox.parts import redis as redis_part
from sandbox.parts.engine import EngineUnavailable
from sandbox.parts.http import HOST, HttpService, RequestLog, refused_port
from sandbox.parts.postgres import Databases
from sandbox.parts.shared import Parts, Unavailable
from sandbox.parts.smtp import SmtpServer
from sandbox.parts.standin import Services, Workdir

DATABASES = ("author_db",)
SMTP_USER = f"postmaster@{services.DOMAIN}"
QUEUE = "detections"
SESSIONS = 12
WAITING, WAITING_BACKLOG = 40, 1500


def _invented() -> str:
    return "sbx-" + secrets.token_urlsafe(18)


class StandIn:
    """Each secret is the value the profile's env var holds (invented when unset), and the
    stand-in writes it where the app keeps it: the env files, Redis's password, the SMTP
    server's credential, the provider's API key, the role session's AWS keys."""

    name = "author"

    def __init__(self, faults: Iterable[str] = (), workdir: Path | str | None = None, *,
                 secrets_: dict[str, str] | None = None, containers: bool = True) -> None:
        """``containers``: run the API and the worker on the engine (only the checks of
        the migrations and worker areas read them; the engine's start is the slow part)."""
        self.faults = check_faults(faults)
        self._containers = containers
        given = {k: v for k, v in (secrets_ or {}).items() if v}
        self.secrets = {name: given.get(name) or _invented() for name in (
            "db_password", "migrator_password", "jwt_secret", "smtp_password",
            "redis_password", "provider_api_key", "aws_access_key_id",
            "aws_secret_access_key")}
        self.urls: dict[str, str] = {}
        self.paths: dict[str, str] = {}
        self.dsn: dict[str, str] = {}
        self.other: dict[str, str] = {}
        self._dir = Workdir(workdir, "author-sandbox-")
        self._services = Services()
        self._redis: redis_part.RedisServer | None = None
        self._smtp: SmtpServer | None = None
        self._monitor: threading.Thread | None = None

    def placeholders(self) -> dict[str, str]:
        """What ``{sandbox.<name>}`` stands for in the profile, for this system."""
        named = {f"au_{k}": v for k, v in (self.urls | self.paths | self.other).items()}
        return named | dict(self.dsn)

    def start(self, parts: Parts) -> None:
        root = self._dir.open()
        self.paths.update(database.write_repository(root / "repo"))
        self.urls["provider_status"] = self._services.start(
            HttpService("author-status", services.status_page(self.faults), parts.log))
        self.urls["provider_api"] = self._services.start(HttpService(
            "author-mailgun", services.provider_api(self.faults,
                                                    self.secrets["provider_api_key"]),
            parts.log))
        self.urls["localstack"] = self._services.start(
            HttpService("author-localstack", services.localstack(self.faults), parts.log))
        if self._containers and containers.ENGINE_DOWN not in self.faults:
            parts.warm_engine()
        # AWS, the database, Redis and SMTP wait on nothing of each other: they start side
        # by side, and leaving the block waits for all of them, even when one fails. The
        # containers need AWS's address, not its seeds: they start while it is seeded.
        with ThreadPoolExecutor(4, thread_name_prefix="sandbox-author") as pool:
            seeded = pool.submit(self._start_aws, parts)
            db_url = pool.submit(self._start_database, parts)
            redis_url = pool.submit(self._start_redis, root, parts.log)
            smtp_port = pool.submit(self._start_smtp, root, parts.log)
            self.urls["aws"] = parts.aws().url
            envs = self._write_files(root, db_url.result(), redis_url.result(),
                                     smtp_port.result(), self.urls["aws"])
            if self._containers:
                self._start_containers(parts, envs, redis_url.result())
        seeded.result()

    def _start_aws(self, parts: Parts) -> None:
        state = storage.StorageState(self.faults, self.secrets["aws_access_key_id"],
                                     self.secrets["aws_secret_access_key"])
        parts.aws(overrides=[storage.identity_override(state),
                             storage.multipart_override(state)],
                  seeds=[lambda server: storage.seed(server, state)])

    def _start_containers(self, parts: Parts, envs: dict[str, dict[str, str]],
                          redis_url: str) -> None:
        """The API and the worker on the shared engine; where none can run, the profile
        says why and the checks that read them are not run."""
        if containers.ENGINE_DOWN in self.faults:
            self.other["docker"] = f"unix://{self._dir.open() / 'engine-gone.sock'}"
            return
        made = containers.specs(
            self.faults, envs["api_env"], envs["worker_env"], redis_url=redis_url,
            stale={"JWT_SECRET": _invented(), "SMTP_PORT": "2525"},
            secret=self.secrets["aws_secret_access_key"])
        try:
            engine = parts.engine()
            containers.start(engine, made)
        except EngineUnavailable as exc:
            self.other["docker_unavailable"] = f"no container engine could be started ({exc})"
            return
        except Exception as exc:  # noqa: BLE001 - reported as the engine's state, not a crash
            self.other["docker_unavailable"] = ("the sandbox's author containers did not "
                                                f"start ({exc})")
            return
        self.other["docker"] = engine.docker_host

    def _start_database(self, parts: Parts) -> str:
        passwords = {"migrator": self.secrets["migrator_password"], "app": _invented(),
                     "reader": self.secrets["db_password"]}
        role = (database.APP if "authorenv_migrator_role_wrong" in self.faults
                else database.MIGRATOR)
        password = passwords["app" if role == database.APP else "migrator"]
        try:
            pg = parts.postgres()
        except Unavailable as exc:
            # The env file still names the role the app would use; only the server is absent.
            self.dsn["author_db_unavailable"] = str(exc)
            return f"postgresql://{role}:{password}@{HOST}:{refused_port()}/{database.DBNAME}"
        Databases(self.faults, self.dsn).build("author_db", lambda: database.build(
            pg, self.faults, passwords))
        return f"postgresql://{role}:{password}@{pg.host}:{pg.port}/{database.DBNAME}"

    def _start_redis(self, root: Path, log: RequestLog) -> str:
        password = self.secrets["redis_password"]
        refused = f"redis://:{password}@{HOST}:{refused_port()}/0"
        ok, reason = redis_part.available()
        if not ok:
            self.other["redis_unavailable"] = f"no Redis server here ({reason})"
            return refused
        if "authorredis_down" in self.faults:
            return refused
        self._redis = server = redis_part.RedisServer(root / "redis", password)
        try:
            server.start()
        except RuntimeError as exc:
            self.other["redis_unavailable"] = f"the sandbox's Redis did not start ({exc})"
            self._redis = None
            return refused
        self._seed_redis(server)
        self._monitor = _monitor(server, log)
        return server.url()

    def _seed_redis(self, server: redis_part.RedisServer) -> None:
        """Sessions as the API writes them (``sess:<id>``, with a TTL) and the worker's
        BullMQ queue (``bull:<queue>:wait`` and friends)."""
        client = server.client()
        if "authorredis_sessions_missing" not in self.faults:
            for n in range(SESSIONS):
                client.set(f"sess:{secrets.token_hex(12)}", json.dumps(
                    {"userId": f"usr_{n}", "iat": 1764900000 + n}), ex=3600)
        waiting = WAITING_BACKLOG if "authorredis_queue_backlog" in self.faults else WAITING
        prefix = f"bull:{QUEUE}"
        client.rpush(f"{prefix}:wait", *range(1, waiting + 1))
        client.rpush(f"{prefix}:active", waiting + 1, waiting + 2)
        client.zadd(f"{prefix}:delayed", {str(waiting + 3): 1764990000000})
        client.zadd(f"{prefix}:completed", {str(n): n for n in range(1, 200)})
        client.close()

    def _start_smtp(self, root: Path, log: RequestLog) -> int:
        """The server's CA goes to ``smtp_ca``, the profile's ``smtp_ca_file``; a fault
        may offer no STARTTLS at all, or put another CA there than the one that signed
        the server's certificate."""
        if "authorsmtp_down" in self.faults:
            return refused_port()
        password = self.secrets["smtp_password"]
        if "authorsmtp_auth_refused" in self.faults:
            password = _invented()
        tls_dir = None
        if "authorsmtp_no_starttls" not in self.faults:
            tls_dir = root / "smtp-tls"
            tls_dir.mkdir(mode=0o700, exist_ok=True)
        started = _Started(SmtpServer(log, SMTP_USER, password, tls_dir=tls_dir))
        self._services.start(started)
        self._smtp = started.part
        ca_pem = started.part.ca_pem
        if "authorsmtp_tls_untrusted" in self.faults:
            from sandbox.parts.certs import Authority

            ca_pem = Authority("another CA").pem
        if ca_pem:
            ca_file = root / "smtp-ca.pem"
            ca_file.write_bytes(ca_pem)
            self.paths["smtp_ca"] = str(ca_file)
        return started.port

    def _write_files(self, root: Path, db_url: str, redis_url: str, smtp_port: int,
                     aws_url: str) -> dict[str, dict[str, str]]:
        """The env files, the model bundle's manifest; returns each env file's values."""
        jwt = self.secrets["jwt_secret"]
        common = {"REDIS_URL": redis_url, "AWS_REGION": "us-east-1",
                  "AWS_ACCESS_KEY_ID": self.secrets["aws_access_key_id"],
                  "AWS_SECRET_ACCESS_KEY": self.secrets["aws_secret_access_key"],
                  "S3_ENDPOINT": aws_url}
        api = {"NODE_ENV": "production", "DATABASE_URL": db_url, "JWT_SECRET": jwt,
               **common, "S3_BUCKET": storage.BUCKET, "SMTP_HOST": HOST,
               "SMTP_PORT": str(smtp_port), "SMTP_USER": SMTP_USER,
               "SMTP_PASSWORD": self.secrets["smtp_password"],
               "MAIL_FROM": f"no-reply@{services.DOMAIN}"}
        web = {"NEXT_PUBLIC_API_URL": "http://127.0.0.1:4000",
               "JWT_SECRET": _invented() if "authorenv_jwt_mismatch" in self.faults else jwt}
        version = (storage.PREVIOUS_VERSION if "authorworker_model_mismatch" in self.faults
                   else storage.BUNDLE_VERSION)
        worker = {**common, "DETECTOR_MODEL_VERSION": version, "MODEL_BUCKET": storage.MODELS,
                  "WORKER_QUEUE": QUEUE}
        for name, values in (("api_env", api), ("web_env", web), ("worker_env", worker)):
            path = root / f"{name.replace('_', '.')}"
            path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
            self.paths[name] = str(path)
        bundle = root / "models" / "manifest.json"
        bundle.parent.mkdir(exist_ok=True)
        bundle.write_text(json.dumps({"detector": {
            "version": storage.BUNDLE_VERSION,
            "artifact": f"s3://{storage.MODELS}/"
                        f"{storage.MODEL_KEY.format(version=storage.BUNDLE_VERSION)}"}}))
        self.paths["model_bundle"] = str(bundle)
        return {"api_env": api, "worker_env": worker}

    def stop(self) -> None:
        """Safe to call twice or after a failed start; the shared parts are not its own."""
        self._services.stop()
        redis, self._redis = self._redis, None
        if redis is not None:
            redis.stop()
        if self._monitor is not None:
            self._monitor.join(2.0)
            self._monitor = None
        self._smtp = None
        self.urls, self.paths, self.dsn, self.other = {}, {}, {}, {}
        self._dir.remove()


class _Started:
    """A part started and stopped with the stand-in's other services."""

    def __init__(self, part: SmtpServer) -> None:
        self.name = part.name
        self.part = part
        self.port = 0

    def start(self) -> str:
        self.part.start()
        self.part.start_logging()
        self.port = self.part.port
        return f"smtp://{HOST}:{self.port}"

    def stop(self) -> None:
        self.part.stop()


def _monitor(server: redis_part.RedisServer, log: RequestLog) -> threading.Thread:
    """Every command Redis receives from now on, as ``REDIS <COMMAND> <key>`` in the
    request log (MONITOR never shows AUTH; no value is recorded)."""

    def follow() -> None:
        try:
            with server.client(timeout=None).monitor() as watch:
                for seen in watch.listen():
                    words = str(seen.get("command", "")).split()
                    if words:
                        log.record("REDIS", " ".join(words[:2]))
        except Exception:  # noqa: BLE001 - the server stopped: nothing more to follow
            return

    thread = threading.Thread(target=follow, name="sandbox-author-redis", daemon=True)
    thread.start()
    return thread

