"""Root conftest: loads the diagnostics plugin for runs of ``diagnostics/``."""

pytest_plugins = ["fixtures.plugin"]
