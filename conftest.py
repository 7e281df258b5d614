"""Root conftest: loads the diagnostics plugin and the fixtures every pack shares."""

pytest_plugins = ["fixtures.plugin", "fixtures.shared"]
