"""The generic layer: finding the systems, merging their faults, and the Stack's
lifecycle around stand-ins it knows nothing about."""

from __future__ import annotations

import types

import pytest

import sandbox
from sandbox.parts.shared import Parts
from sandbox.stack import Stack


class Recorder:
    """A stand-in that only says what happened to it."""

    def __init__(self, name: str, events: list[str], fail: bool = False) -> None:
        self.faults: frozenset[str] = frozenset()
        self.name, self.events, self.fail = name, events, fail
        self.parts: Parts | None = None

    def start(self, parts: Parts) -> None:
        self.parts = parts
        self.events.append(f"start {self.name}")
        if self.fail:
            raise RuntimeError(f"{self.name} failed")

    def stop(self) -> None:
        self.events.append(f"stop {self.name}")

    def placeholders(self) -> dict[str, str]:
        return {self.name: f"http://127.0.0.1/{self.name}", "aws": "http://127.0.0.1:1"}


def test_systems_are_found_by_looking():
    found = sandbox.systems()
    assert set(found) == {"adinsights", "author", "chatwoot", "voucher"}
    assert all(hasattr(module, name) for module in found.values()
               for name in ("FAULTS", "EXCLUSIVE", "StandIn"))


def test_faults_are_merged_and_split_by_system():
    faults = sandbox.all_faults()
    assert "api_down" in faults and "dr_backup_stale" in faults and "dr_s3_down" in faults
    split = sandbox.faults_by_system(["api_down", "dr_backup_stale", "dr_export_missing"])
    assert split == {"adinsights": ["api_down", "dr_export_missing"], "author": [],
                     "chatwoot": [], "voucher": ["dr_backup_stale"]}
    assert frozenset({"dr_backup_failed", "dr_backup_slow"}) in sandbox.all_exclusive()
    with pytest.raises(ValueError, match="unknown sandbox fault 'nope'"):
        sandbox.faults_by_system(["nope"])


def test_a_fault_two_systems_offer_is_refused(monkeypatch):
    twins = {name: types.SimpleNamespace(FAULTS={"same": name}, EXCLUSIVE=())
             for name in ("one", "two")}
    monkeypatch.setattr(sandbox, "systems", lambda: twins)
    with pytest.raises(ValueError, match="'same' is offered by both one and two"):
        sandbox.all_faults()


def test_stack_shares_one_parts_and_stops_in_reverse():
    events: list[str] = []
    first, second = Recorder("a", events), Recorder("b", events)
    with Stack([first, second]) as stack:
        assert first.parts is second.parts is stack.parts
        assert stack.placeholders() == {"a": "http://127.0.0.1/a", "b": "http://127.0.0.1/b",
                                        "aws": "http://127.0.0.1:1"}
        assert stack.request_log == [] and stack.query_log == []
    assert events[-2:] == ["stop b", "stop a"]
    stack.stop()  # twice is fine
    assert events.count("stop a") == 1


def test_a_failed_start_stops_everything_and_raises():
    events: list[str] = []
    stack = Stack([Recorder("a", events), Recorder("b", events, fail=True)])
    with pytest.raises(RuntimeError, match="b failed"):
        stack.start()
    assert {"stop a", "stop b"} <= set(events) and stack.parts is None
    stack.stop()


def test_seeding_stand_ins_share_one_aws_client_per_service_and_a_restart_gets_new_ones():
    """Two stand-ins seeding S3 share one client (a client per seed re-parsed botocore's
    models and slowed the boot), and a server started again, on a new port, is seeded
    through a new one: a kept client would still point at the old address."""
    from sandbox.parts.aws import AwsServer
    from sandbox.parts.http import RequestLog

    server = AwsServer(RequestLog()).start()
    try:
        first = server.client("s3")
        assert server.client("s3") is first
        assert server.client("ses") is not first
        first.create_bucket(Bucket="seeded")
        old_url = server.url
    finally:
        server.stop()
    server.start()
    try:
        again = server.client("s3")
        assert again is not first and server.url != old_url
        assert again.meta.endpoint_url == server.url
        assert again.list_buckets()["Buckets"] == []  # a restart starts from an empty account
    finally:
        server.stop()


def test_parts_opening_their_directory_at_once_share_one_and_remove_takes_it(
        tmp_path, monkeypatch):
    """The engine and PostgreSQL start in threads of their own and both open the parts'
    directory as they start: a second directory made in that race was never removed, and
    a run stopped cleanly still left an empty ``sandbox-parts-*`` behind."""
    import tempfile
    import threading

    from sandbox.parts.standin import Workdir

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    workdir = Workdir(None, "sandbox-parts-")
    threads = 16
    gate = threading.Barrier(threads)
    opened = []

    def open_at_once() -> None:
        gate.wait()
        opened.append(workdir.open())

    started = [threading.Thread(target=open_at_once) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    assert len(set(opened)) == 1 and len(opened) == threads
    assert list(tmp_path.iterdir()) == [opened[0]]
    workdir.remove()
    assert list(tmp_path.iterdir()) == []
