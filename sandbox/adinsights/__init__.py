"""ADinsights, simulated: a multi-tenant analytics stack (Django API, Superset, Airbyte,
dbt, Meta Graph, SES and DNS, the application database and its audit trail and archive),
each part in the state the chosen faults name."""

from sandbox.adinsights.faults import EXCLUSIVE, FAULTS
from sandbox.adinsights.stand_in import StandIn
from sandbox.adinsights.state import Account

__all__ = ["EXCLUSIVE", "FAULTS", "Account", "StandIn"]
