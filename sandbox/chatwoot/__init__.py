"""The Chatwoot/RAG MVP, simulated: its API on a real PostgreSQL database, its env file,
and the Chatwoot, OpenAI and Telegram APIs it depends on, each piece in the state the
chosen faults name."""

from sandbox.chatwoot.faults import EXCLUSIVE, FAULTS
from sandbox.chatwoot.stand_in import StandIn

__all__ = ["EXCLUSIVE", "FAULTS", "StandIn"]
