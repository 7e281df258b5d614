"""Run the sandbox as a local demo target until interrupted.

Secrets are printed on purpose: the stack only listens on loopback and exists so that a
person can point the diagnostics (or curl) at it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import threading
from collections.abc import Sequence

from sandbox.faults import FAULTS
from sandbox.stack import Sandbox
from sandbox.state import Account, webhook_settings


def _secret(name: str, kind: str) -> str:
    return os.environ.get(f"SANDBOX_{name.upper()}_{kind}") or secrets.token_urlsafe(18)


AIRBYTE_USER = "airbyte"


def _account(name: str, with_password: bool) -> Account:
    if with_password:
        return Account(name, username=f"ops@{name}.test", password=_secret(name, "PASSWORD"))
    return Account(name, token=_secret(name, "TOKEN"))


def demo_accounts(tenants: int | None) -> list[Account]:
    """Default: acme logs in with a password, globex uses a bearer token. With a count, the
    first half (rounded up) use passwords so both login paths are always exercised."""
    if tenants is None:
        return [_account("acme", True), _account("globex", False)]
    half = (tenants + 1) // 2
    return [_account(f"tenant{i + 1:02d}", i < half) for i in range(tenants)]


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="Serve a simulated ADinsights stack on 127.0.0.1."
    )
    parser.add_argument(
        "--fault", action="append", default=[], metavar="NAME", help="apply a named fault"
    )
    parser.add_argument("--tenants", type=_positive, metavar="N", help="create N tenants")
    parser.add_argument(
        "--airbyte-auth",
        action="store_true",
        help=f"put basic auth ({AIRBYTE_USER} / a generated password) in front of Airbyte",
    )
    parser.add_argument("--list-faults", action="store_true", help="list fault names and exit")
    return parser


def _describe(sandbox: Sandbox, airbyte_auth: tuple[str, str] | None, webhook: str) -> str:
    faults = ", ".join(sorted(sandbox.faults)) or "none"
    lines = [f"ADinsights sandbox running (faults: {faults})"]
    places = {**sandbox.urls, **sandbox.paths}
    width = max(map(len, places))
    lines += [f"  {name:<{width}} {place}" for name, place in places.items()]
    if airbyte_auth:
        lines.append(f"airbyte basic auth: {airbyte_auth[0]} / {airbyte_auth[1]}")
    secret, required = webhook_settings(webhook, sandbox.faults)
    shown = secret or ("unset, webhook answers 503" if required else "unset, webhook open")
    lines.append(f"webhook secret (X-Airbyte-Webhook-Secret): {shown}")
    lines.append("accounts:")
    for tenant in sandbox.tenants:
        account = tenant.account
        if account.username:
            login = f"login {account.username} / {account.password}"
        else:
            login = f"bearer {account.token}"
        lines.append(f"  {tenant.name:<10} tenant {tenant.tenant_id}  {login}")
    lines.append("Ctrl-C to stop.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list_faults:
        width = max(map(len, FAULTS))
        print("\n".join(f"{name:<{width}}  {text}" for name, text in FAULTS.items()))
        return 0
    airbyte_auth = (AIRBYTE_USER, _secret("airbyte", "PASSWORD")) if args.airbyte_auth else None
    webhook = _secret("webhook", "SECRET")
    try:
        sandbox = Sandbox(
            demo_accounts(args.tenants),
            faults=args.fault,
            airbyte_auth=airbyte_auth,
            webhook_secret=webhook,
        )
    except ValueError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    with sandbox:
        print(_describe(sandbox, airbyte_auth, webhook), flush=True)
        while not stopping.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. `--list-faults | head`: the reader left, nothing to say
        sys.stderr.close()
        sys.exit(0)
