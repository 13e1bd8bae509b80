"""make bench at a tiny scale: the generated council holds together (every row's
foreign keys, a history entry for every row, statuses that agree with their
timelines), and the measurement answers every page with its figures."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from bench.generate import generate
from bench.measure import MAX_QUERIES, bench_app, check_targets, markdown, measure

SCALE = 0.01


@pytest.fixture(scope="module")
def council(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('bench') / 'council.sqlite'}"
    meta = generate(bench_app(url), SCALE, seed=7)
    engine = create_engine(url)
    yield url, meta, engine
    engine.dispose()


def test_the_council_holds_together(council):
    url, meta, engine = council
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
        count = lambda sql: connection.execute(text(sql)).scalar()  # noqa: E731
        assert count("SELECT COUNT(*) FROM actions") == meta["rows"]["actions"] == 1000
        assert count("SELECT COUNT(*) FROM action_updates") == 3000
        assert count("SELECT COUNT(*) FROM findings") == 500
        # One create entry for each tracked row, as the listener writes them.
        for table, entity in (("actions", "action"), ("action_updates", "action_update"), ("findings", "finding"), ("answers", "answer"), ("audits", "audit")):
            assert count(f"SELECT COUNT(*) FROM history WHERE entity = '{entity}' AND event = 'create'") == count(f"SELECT COUNT(*) FROM {table}"), table
        # A version for each change the history records.
        assert count(
            "SELECT COUNT(*) FROM actions a WHERE a.version != 1 + (SELECT COUNT(*) FROM history h WHERE h.entity = 'action' AND h.entity_id = a.id AND h.event = 'update')"
        ) == 0
        # Done actions were completed; signed-off ones were signed off by someone other than their owner.
        assert count("SELECT COUNT(*) FROM actions WHERE status IN ('completed', 'verified') AND completed_at IS NULL") == 0
        assert count("SELECT COUNT(*) FROM actions WHERE status = 'verified' AND (verified_by_id IS NULL OR verified_by_id = owner_id)") == 0
        assert count("SELECT COUNT(*) FROM actions WHERE status = 'not_started' AND id IN (SELECT action_id FROM action_updates)") == 0
        # The last status an action's timeline gives it is its status.
        assert count(
            "SELECT COUNT(*) FROM actions a WHERE a.status != 'not_started' AND a.status != "
            "(SELECT u.status FROM action_updates u WHERE u.action_id = a.id AND u.status IS NOT NULL ORDER BY u.created_at DESC, u.id DESC LIMIT 1)"
        ) == 0
        history = json.loads(connection.execute(text("SELECT changes FROM history WHERE entity = 'user' LIMIT 1")).scalar())
        assert history["password_hash"] == [None, "[redacted]"] and "version" not in history


def test_every_page_is_measured(council):
    url, meta, _ = council
    result = measure(url, meta, requests=30, warmup=1, log=lambda message: None)
    pages = {"home", "programme", "audit_report", "tracker", "my_actions", "actions_list_filtered", "api_plan_summary", "api_actions_list"}
    assert set(result["pages"]) == pages
    assert result["bare"]["queries"] == 0 and result["bare"]["p95_ms"] >= result["bare"]["p50_ms"] > 0
    for name, page in result["pages"].items():
        assert page["p95_ms"] >= page["p50_ms"] > 0, name
        assert 0 < page["queries"] <= MAX_QUERIES, (name, page["queries"])
        assert page["queries"] == page["queries_min"], name  # the same every time
    result.update(scale=SCALE, database="sqlite", server="test client")
    result["targets"] = check_targets(result)
    table = markdown(result)
    assert "| tracker |" in table and "Bare page" in table
