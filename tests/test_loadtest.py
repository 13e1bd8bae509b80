"""The load test still works against the app as it is now: a short run of loadtest/run.py
(a few users for 15 seconds, gunicorn with 2 workers on loopback, a temporary SQLite
database) with no failed request and no lost write.

`make loadtest` is the real measurement (50 users for 2 minutes); this only keeps the
locustfile in step with the pages and the API, which it reads as a browser and an
integration would. It always uses its own SQLite file, never TEST_DATABASE_URL, whose
tables the runner would drop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_short_load_test_loses_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "LOADTEST_DATABASE_URL", "TEST_DATABASE_URL", "SECRET_KEY")}
    command = [sys.executable, "-m", "loadtest.run", "--duration", "15", "--users", "6", "--spawn-rate", "6", "--results", str(tmp_path)]
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout[-4000:] + finished.stderr[-4000:]

    result = json.loads((tmp_path / "latest.json").read_text())
    assert result["database"] == "sqlite"
    assert result["failures"] == 0 and result["errors"] == []
    assert result["server_errors_logged"] == 0
    assert result["lost_writes"] == 0 and result["unexpected_rows"] == 0
    names = set(result["requests"])
    # Every kind of user got going: people signed in through the form, integrations used their tokens.
    assert "POST /sign-in" in names
    assert any(name.startswith("GET /api/v1/") for name in names)
    assert sum(result["writes"].values()) > 0
    assert all(check["accepted"] == check["stored"] for check in result["checks"])
    assert (tmp_path / "latest.md").read_text().startswith("# Load test: 6 users for 15 s")
