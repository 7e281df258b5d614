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

from sandbox import faults_by_system, systems
from sandbox.adinsights import Account
from sandbox.adinsights import StandIn as AdInsights
from sandbox.adinsights.state import webhook_settings
from sandbox.author import StandIn as Author
from sandbox.chatwoot import StandIn as Chatwoot
from sandbox.stack import Stack
from sandbox.voucher import StandIn as Voucher


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
        prog="python -m sandbox",
        description="Serve a simulated ADinsights stack and voucher DR rehearsal on 127.0.0.1."
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


def _describe(stack: Stack, adinsights: AdInsights, airbyte_auth: tuple[str, str] | None,
              webhook: str) -> str:
    faults = ", ".join(sorted(f for s in stack.stand_ins for f in s.faults)) or "none"
    lines = [f"ADinsights sandbox running (faults: {faults})"]
    places = stack.placeholders()
    width = max(map(len, places))
    lines += [f"  {name:<{width}} {place}" for name, place in places.items()]
    if airbyte_auth:
        lines.append(f"airbyte basic auth: {airbyte_auth[0]} / {airbyte_auth[1]}")
    secret, required = webhook_settings(webhook, adinsights.faults)
    shown = secret or ("unset, webhook answers 503" if required else "unset, webhook open")
    lines.append(f"webhook secret (X-Airbyte-Webhook-Secret): {shown}")
    lines.append("accounts:")
    for tenant in adinsights.tenants:
        account = tenant.account
        if account.username:
            login = f"login {account.username} / {account.password}"
        else:
            login = f"bearer {account.token}"
        lines.append(f"  {tenant.name:<10} tenant {tenant.tenant_id}  {login}")
    lines.append("Ctrl-C to stop.")
    return "\n".join(lines)


def _fault_list() -> str:
    """Every system's faults, under the system's name."""
    found = {name: module.FAULTS for name, module in systems().items()}
    width = max(len(fault) for faults in found.values() for fault in faults)
    lines: list[str] = []
    for system, faults in found.items():
        lines += [f"{system}:", *(f"  {name:<{width}}  {text}" for name, text in faults.items())]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list_faults:
        print(_fault_list())
        return 0
    airbyte_auth = (AIRBYTE_USER, _secret("airbyte", "PASSWORD")) if args.airbyte_auth else None
    webhook = _secret("webhook", "SECRET")
    try:
        chosen = faults_by_system(args.fault)
        adinsights = AdInsights(
            demo_accounts(args.tenants),
            faults=chosen["adinsights"],
            airbyte_auth=airbyte_auth,
            webhook_secret=webhook,
        )
        chatwoot = Chatwoot(chosen["chatwoot"], password=_secret("chatwoot", "PASSWORD"))
        stack = Stack([adinsights, Voucher(faults=chosen["voucher"]), chatwoot,
                       Author(chosen["author"])])
    except ValueError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    with stack:
        print(_describe(stack, adinsights, airbyte_auth, webhook), flush=True)
        print(f"chatwoot MVP sign-in: {chatwoot.secrets.username} / "
              f"{chatwoot.secrets.password}", flush=True)
        while not stopping.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. `--list-faults | head`: the reader left, nothing to say
        sys.stderr.close()
        sys.exit(0)
