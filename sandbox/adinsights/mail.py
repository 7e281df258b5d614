"""The backend's outgoing mail, as its SES send path behaves (adinsights-api §5).

With ``EMAIL_PROVIDER=ses`` a message goes out through SES v1 ``SendEmail`` with
``Source`` set to ``EMAIL_FROM_ADDRESS`` and the configuration set when one is named. It
is skipped, with a log entry, when the from-address is missing, when its domain is not
``SES_EXPECTED_FROM_DOMAIN``, or when ``AWS_REGION`` is unset. Any other provider only
logs the message. A send SES refuses is logged and does not change the API's answer, so
the only way to tell from outside is SES's own send statistics.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

logger = logging.getLogger("sandbox.mail")


class Mailer:
    def __init__(self, settings: dict[str, str]) -> None:
        self.settings = dict(settings)
        self.endpoint = ""
        self.outcomes: list[str] = []
        self._client: Any = None
        self._lock = threading.Lock()

    def bind(self, endpoint: str) -> None:
        """SES is served only once the AWS part is up; until then mail cannot go out."""
        self.endpoint = endpoint

    def send(self, to: str, subject: str, text: str) -> str:
        outcome = self._deliver(to, subject, text)
        with self._lock:
            self.outcomes.append(outcome)
        logger.info("mail to %s (%s): %s", to, subject, outcome)
        return outcome

    def _deliver(self, to: str, subject: str, text: str) -> str:
        settings = self.settings
        if settings.get("EMAIL_PROVIDER", "log") != "ses":
            return "logged (EMAIL_PROVIDER is not ses)"
        sender = settings.get("EMAIL_FROM_ADDRESS", "")
        expected = settings.get("SES_EXPECTED_FROM_DOMAIN", "")
        if not sender:
            return "skipped: EMAIL_FROM_ADDRESS is empty"
        if expected and sender.rsplit("@", 1)[-1].lower() != expected.lower():
            return f"skipped: sender domain of {sender} is not {expected}"
        if not settings.get("AWS_REGION"):
            return "skipped: AWS_REGION is unset"
        if not self.endpoint:
            return "skipped: no SES endpoint in this sandbox"
        params: dict[str, Any] = {
            "Source": sender,
            "Destination": {"ToAddresses": [to]},
            "Message": {"Subject": {"Data": subject}, "Body": {"Text": {"Data": text}}},
        }
        if settings.get("SES_CONFIGURATION_SET"):
            params["ConfigurationSetName"] = settings["SES_CONFIGURATION_SET"]
        try:
            message_id = self._ses().send_email(**params)["MessageId"]
        except Exception as exc:  # noqa: BLE001 - the backend logs a failed send and goes on
            return f"failed: {' '.join(str(exc).split())}"
        return f"sent as {message_id}"

    def _ses(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                from sandbox.parts.aws import SEED_KEY

                self._client = boto3.session.Session().client(
                    "ses", endpoint_url=self.endpoint, region_name=self.settings["AWS_REGION"],
                    aws_access_key_id=SEED_KEY[0], aws_secret_access_key=SEED_KEY[1],
                    config=Config(connect_timeout=2, read_timeout=5,
                                  retries={"max_attempts": 1}))
            return self._client
