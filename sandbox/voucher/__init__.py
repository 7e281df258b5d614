"""The voucher app's disaster-recovery rehearsal, simulated: what its backup-and-restore
run leaves behind, each piece in the state the chosen faults name."""

from sandbox.voucher.faults import EXCLUSIVE, FAULTS
from sandbox.voucher.stand_in import StandIn

__all__ = ["EXCLUSIVE", "FAULTS", "StandIn"]
