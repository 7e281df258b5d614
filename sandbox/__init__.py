"""A simulated ADinsights stack on loopback, with named faults, for demos and self-tests."""

from sandbox.faults import FAULTS
from sandbox.stack import Sandbox
from sandbox.state import Account

__all__ = ["FAULTS", "Account", "Sandbox"]
