"""The compose renderer follows compose's interpolation rules, the ones where a raw read
of the YAML and `docker compose --env-file .env config` part ways."""

from __future__ import annotations

import pytest
import yaml

from fixtures.compose import RenderError, interpolate, published_port, render

ENV = {"SET": "value", "EMPTY": "", "PORT": "18001"}


@pytest.mark.parametrize(("text", "rendered"), [
    ("${SET}", "value"),
    ("$SET/x", "value/x"),
    ("${UNSET}", ""),
    ("${SET:-d}", "value"),
    ("${EMPTY:-d}", "d"),          # ':-' also replaces an empty value
    ("${EMPTY-d}", ""),            # '-' replaces only an unset one
    ("${UNSET-d}", "d"),
    ("${UNSET:-${PORT}}", "18001"),  # nested defaults
    ("${SET:+alt}", "alt"),
    ("${EMPTY:+alt}", ""),
    ("${EMPTY+alt}", "alt"),
    ("$${SET}", "${SET}"),         # '$$' is a literal dollar, never interpolated
    ("a$$b", "a$b"),
    ("${SET:?needed}", "value"),
])
def test_interpolation(text: str, rendered: str) -> None:
    assert interpolate(text, ENV) == rendered


@pytest.mark.parametrize(("text", "message"), [
    ("${UNSET:?set UNSET first}", "UNSET is missing a value: set UNSET first"),
    ("${EMPTY:?}", "EMPTY is missing a value"),
    ("${SET", "unclosed"),
    ("${1BAD}", "invalid interpolation"),
    ("cost: 5$", "lone '$'"),
])
def test_compose_refuses(text: str, message: str) -> None:
    with pytest.raises(RenderError, match=message.replace("$", r"\$")):
        interpolate(text, ENV)


def test_render_values_not_keys_and_published_ports() -> None:
    document = yaml.safe_load("""
services:
  server:
    ports: ["${PORT:-8001}:8001", "127.0.0.1:${DEBUG_PORT:-5005}:5005"]
    environment:
      ${SET}: kept
  webapp:
    ports: [{target: 80, published: "${UI_PORT-18000}"}]
""")
    services = render(document, ENV)["services"]
    assert services["server"]["environment"] == {"${SET}": "kept"}
    assert published_port(services["server"], 8001) == 18001
    assert published_port(services["server"], 5005) == 5005
    assert published_port(services["webapp"], 80) == 18000
    assert published_port(services["webapp"], 443) is None
