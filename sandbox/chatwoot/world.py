"""What the simulated MVP deployment is: its projects, its Chatwoot accounts, the
server's secrets and env file, each as the chosen faults leave them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

NAMESPACE = uuid.UUID("6f1c1f3e-2b1d-4c55-9d43-5a0f6c0b7e21")
UI_ORIGIN = "http://localhost:3000"
WRONG_ORIGIN = "https://dashboard.lab.pics"
OPERATOR = "ops"
UNKNOWN_ACCOUNT = 404404


@dataclass(frozen=True)
class Project:
    name: str
    account_id: int  # the Chatwoot account its project_sources row binds

    @property
    def id(self) -> str:
        return str(uuid.uuid5(NAMESPACE, f"project:{self.name}"))

    @property
    def scope_id(self) -> str:
        return str(uuid.uuid5(NAMESPACE, f"scope:{self.name}"))


PROJECTS = (Project("acme-support", 7), Project("globex-sales", 9))
# The project the faults that hit one project's data, jobs or schedule pick.
FIRST, SECOND = PROJECTS


@dataclass(frozen=True)
class Secrets:
    """The server's credentials; the stand-ins of Chatwoot, OpenAI and Telegram accept
    exactly these."""

    username: str
    password: str
    chatwoot_token: str
    openai_key: str
    telegram_token: str
    webhook_secret: str
    pin_secret: str
    app_db_password: str


@dataclass(frozen=True)
class World:
    faults: frozenset[str]
    secrets: Secrets
    now: datetime

    @classmethod
    def build(cls, faults: frozenset[str], secrets: Secrets) -> World:
        return cls(faults, secrets, datetime.now(UTC))

    def has(self, fault: str) -> bool:
        return fault in self.faults

    @property
    def cors_origin(self) -> str:
        return WRONG_ORIGIN if self.has("cwenv_cors_origin_wrong") else UI_ORIGIN

    def bound_account(self, project: Project) -> int | None:
        """The Chatwoot account a project's ``project_sources`` row names, if any."""
        if project is SECOND and self.has("cwsched_source_unbound"):
            return None
        if project is SECOND and self.has("chatwoot_account_wrong"):
            return UNKNOWN_ACCOUNT
        return project.account_id

    def env(self, database_url: str, chatwoot_url: str) -> dict[str, str]:
        """The server's env file, as ``.env.example`` lays it out."""
        s = self.secrets
        return {
            "NODE_ENV": "development",
            "PORT": "8080",
            "DATABASE_URL": database_url,
            "CORS_ORIGIN": self.cors_origin,
            "SESSION_COOKIE_NAME": "sid",
            "CSRF_COOKIE_NAME": "csrf_token",
            "AUTH_USERNAME": s.username,
            "AUTH_PASSWORD": s.password,
            "CHATWOOT_BASE_URL": chatwoot_url,
            "CHATWOOT_API_TOKEN": "" if self.has("cwenv_chatwoot_token_unset")
            else s.chatwoot_token,
            "CHATWOOT_ACCOUNT_ID": str(FIRST.account_id),
            "OPENAI_API_KEY": "" if self.has("cwenv_openai_key_unset") else s.openai_key,
            "EMBEDDING_MODEL": "text-embedding-3-small",
            "EMBED_BATCH_SIZE": "100",
            "TELEGRAM_BOT_TOKEN": "" if self.has("cwenv_telegram_token_unset")
            else s.telegram_token,
            "TELEGRAM_WEBHOOK_SECRET": s.webhook_secret,
            "SIGNUP_PIN_SECRET": s.pin_secret,
            "WORKER_INTERVAL_SECONDS": "60",
            "WORKER_TICK_LIMIT": "25",
        }


def env_text(values: dict[str, str]) -> str:
    lines = ["# Chatwoot/RAG MVP server settings (.env)"]
    return "\n".join(lines + [f"{key}={value}" for key, value in values.items()]) + "\n"
