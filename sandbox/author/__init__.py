"""The author app, simulated: its database on the shared PostgreSQL, a real Redis and
SMTP server, S3, STS and CloudWatch on moto, the mail provider and LocalStack, and its
env files, model bundle and worker log, each piece in the state the chosen faults name."""

from sandbox.author.faults import EXCLUSIVE, FAULTS
from sandbox.author.stand_in import StandIn

__all__ = ["EXCLUSIVE", "FAULTS", "StandIn"]
