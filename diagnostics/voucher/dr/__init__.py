"""Disaster recovery: backups, restore parity, the tabletop, audit retention and archival."""
