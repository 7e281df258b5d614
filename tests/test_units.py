"""Small pieces whose behaviour the reports depend on."""

from __future__ import annotations

import pytest

from fixtures import runbooks
from fixtures.expect import CheckFailed, expect
from fixtures.redact import MASK, Redactor


def test_expect_reads_like_a_condition():
    with pytest.raises(CheckFailed) as info:
        expect("[STATUS]", 503, "==", 200)
    assert str(info.value) == "[STATUS] (503) == 200"
    with pytest.raises(CheckFailed) as info:
        expect("models failing", ["a", "b"], "is empty", state="failing", note="see logs")
    assert info.value.condition == "models failing (a, b) is empty: see logs"
    assert info.value.state == "failing"
    expect("[STATUS]", 200, "==", 200)


def test_redactor_masks_known_values_headers_and_keys():
    r = Redactor(["s3cr3t-value"])
    assert r.text("error: bad s3cr3t-value here") == f"error: bad {MASK} here"
    assert r.headers({"Authorization": "Bearer x", "Accept": "json"}) == {
        "Authorization": MASK, "Accept": "json"}
    body = r.data({"access": "abc", "refresh": "def", "token_status": "invalid",
                   "nested": [{"password": "p"}], "note": "Bearer abc.def"})
    assert body == {"access": MASK, "refresh": MASK, "token_status": "invalid",
                    "nested": [{"password": MASK}], "note": f"Bearer {MASK}"}
    assert r.text("postgresql://airbyte:pw@db:5432/x") == f"postgresql://airbyte:{MASK}@db:5432/x"


def test_custom_credential_headers_are_masked_by_name():
    """A system's own secret header needs no entry in the framework; CORS headers stay."""
    r = Redactor()
    assert r.headers({"X-Airbyte-Webhook-Secret": "w", "X-Api-Key": "k", "X-Auth-Token": "t",
                      "Access-Control-Allow-Origin": "http://a", "X-Tokenizer": "on"}) == {
        "X-Airbyte-Webhook-Secret": MASK, "X-Api-Key": MASK, "X-Auth-Token": MASK,
        "Access-Control-Allow-Origin": "http://a", "X-Tokenizer": "on"}


def test_runbook_slugs_match_github():
    assert runbooks.slug("Social: started, not complete") == "social-started-not-complete"
    assert runbooks.slug("dbt source freshness: warning") == "dbt-source-freshness-warning"
    assert "adinsights/health.md#airbyte-stale" in runbooks.sections()


def test_many_secrets_are_masked_longest_first():
    """The redactor's prefix-tree pattern masks exactly what a plain alternation would."""
    values = ["abcd", "abcdef", "abcxyz", "canary/meta+tok", "zzzz9"] + [
        f"tok{n:04d}secret" for n in range(500)]
    r = Redactor(values)
    text = "x abcdef y abcd z abcx canary/meta+tok tok0042secret tok0042secre zzzz99"
    assert r.text(text) == (f"x {MASK} y {MASK} z abcx {MASK} {MASK} tok0042secre {MASK}9")


def test_histogram_quantile_interpolates_like_prometheus():
    """The p95 the cache check reports is histogram_quantile's: linear inside the bucket
    the rank falls in, the last finite bound when it falls in +Inf, none when empty."""
    import math

    from fixtures.packs import packs

    packs()  # puts the packs on the import path
    from diagnostics.adinsights.cache.histogram import (
        NotExposition,
        buckets_by,
        merged,
        quantile,
    )

    buckets = {0.1: 50.0, 0.5: 90.0, 1.0: 100.0, math.inf: 100.0}
    assert quantile(0.95, buckets) == 0.75
    assert quantile(0.5, buckets) == 0.1
    assert quantile(0.95, {0.1: 1.0, math.inf: 10.0}) == 0.1
    assert quantile(0.95, {0.1: 0.0, math.inf: 0.0}) is None
    text = "\n".join([
        "# TYPE lat histogram",
        *(f'lat_bucket{{source="{s}",cache_outcome="{o}",le="{le}"}} {n}'
          for s, o, le, n in (("w", "hit", "0.1", 9), ("w", "hit", "+Inf", 10),
                              ("w", "miss", "0.1", 0), ("w", "miss", "+Inf", 4),
                              ("x", "hit", "0.1", 0), ("x", "hit", "+Inf", 7))),
        'lat_count{source="w",cache_outcome="hit"} 10'])
    found = buckets_by(text, "lat", "cache_outcome", source="w")
    assert found == {"hit": {0.1: 9.0, math.inf: 10.0}, "miss": {0.1: 0.0, math.inf: 4.0}}
    assert merged(found.values()) == {0.1: 9.0, math.inf: 14.0}
    with pytest.raises(NotExposition):
        buckets_by('{"items": ["x"]}\nlat_bucket{le="0.1" junk} 1\n', "lat", "cache_outcome")


def test_bounded_calls_reuse_threads_and_a_stuck_call_blocks_nothing():
    import threading

    from fixtures.probes.bound import Overdue, within

    release = threading.Event()
    with pytest.raises(Overdue, match="stuck: no complete answer within the 0.05 s total"):
        within(0.05, release.wait, "stuck")
    before = threading.active_count()
    answers = [within(1.0, lambda n=n: n * n, "square") for n in range(200)]
    assert answers == [n * n for n in range(200)]
    assert threading.active_count() <= before + 1  # one thread served all 200 calls
    with pytest.raises(ValueError, match="refused"):
        within(1.0, lambda: int("refused"), "raise")
    release.set()
