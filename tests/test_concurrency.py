"""Writers racing on one record, through a real HTTP server (ISSUE 6, item 3).

The app is served by werkzeug's threaded server on a free loopback port, so each
request runs in its own thread with its own database connection and transaction,
as under gunicorn. Twenty writers, each with their own token, wait at a barrier and
then send the same PATCH version at once: exactly one must win (200), the other
nineteen must get a conflict (409) and write nothing, the winner's change is what
is stored, the version moves on by one and the history shows one update.

The other races check that what several people save at the same moment never ends in a
server error and is never lost or mixed: progress notes on one action, sign-ins to one
account, judgements on a follow-up visit, one case on a grid, answers and details.

Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL points at it.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

from loadtest import pages
from qa_audit.actions.models import ActionUpdate
from qa_audit.auth import services as auth_services
from qa_audit.extensions import db
from qa_audit.history.models import HistoryEntry
from tests.conftest import PASSWORD

WRITERS = 20


@contextmanager
def serving(app):
    """The app on 127.0.0.1 at a free port, one thread per request."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="test-server", daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def call(port: int, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw or b"{}")
        except ValueError:  # not JSON: a server error page
            return response.status, {"body": raw[:300].decode(errors="replace")}
    finally:
        connection.close()


def race(port: int, method: str, path: str, tokens: list[str], bodies: list[dict]) -> list[tuple[int, dict]]:
    """Send one request per token at the same moment; the answers in token order."""
    barrier = threading.Barrier(len(tokens))
    results: list[tuple[int, dict] | BaseException | None] = [None] * len(tokens)

    def writer(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call(port, method, path, tokens[index], bodies[index])
        except BaseException as error:  # reported below, with the others' answers
            results[index] = error

    threads = [threading.Thread(target=writer, args=(i,), name=f"writer-{i}") for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    problems = [r for r in results if not isinstance(r, tuple)]
    assert not problems, f"some writers got no answer: {problems!r}"
    return results  # type: ignore[return-value]


@pytest.fixture
def writers(app, make_user):
    """Twenty QA leads, each with an API token."""
    tokens = []
    for _ in range(WRITERS):
        token, _row = auth_services.create_token(make_user("qa_lead"), "concurrency test")
        tokens.append(token)
    return tokens


def history_of(entity: str, entity_id: int) -> list[HistoryEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            db.select(HistoryEntry).where(HistoryEntry.entity == entity, HistoryEntry.entity_id == entity_id).order_by(HistoryEntry.id)
        )
    )


def one_winner(results: list[tuple[int, dict]]) -> int:
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (WRITERS - 1), statuses
    for status, body in results:
        if status == 409:
            assert body.get("message"), body  # says why
    return next(i for i, (status, _) in enumerate(results) if status == 200)


def test_twenty_writers_on_one_action_one_wins(app, writers, make_action, make_user):
    owner = make_user("auditor")
    action = make_action(owner=owner, title="Audit the front door's threshold decisions")
    action_id = action.id
    status, before = call_server(app, "GET", f"/api/v1/actions/{action_id}", writers[0])
    assert status == 200
    history_before = len(history_of("action", action_id))

    titles = [f"Re-audit threshold decisions, version from writer {i}" for i in range(WRITERS)]
    with serving(app) as port:
        results = race(
            port, "PATCH", f"/api/v1/actions/{action_id}", writers, [{"version": before["version"], "title": t} for t in titles]
        )
        winner = one_winner(results)
        status, after = call(port, "GET", f"/api/v1/actions/{action_id}", writers[0])

    assert status == 200
    assert results[winner][1]["title"] == titles[winner]
    assert after["title"] == titles[winner]
    assert after["version"] == before["version"] + 1
    assert results[winner][1]["version"] == after["version"]
    # Nothing else changed.
    for field in ("owner_id", "due_date", "priority", "status", "finding_id", "plan_priority_id"):
        assert after[field] == before[field], field
    assert db.session.scalar(db.select(db.func.count(ActionUpdate.id)).where(ActionUpdate.action_id == action_id)) == 0

    entries = history_of("action", action_id)[history_before:]
    assert [(e.event, e.changes) for e in entries] == [("update", {"title": [before["title"], titles[winner]]})]


def test_twenty_writers_on_one_audit_one_wins(app, writers, make_audit):
    audit = make_audit("focus_group", status="in_progress", title="Focus group: MASH social workers on supervision")
    audit_id = audit.id
    status, before = call_server(app, "GET", f"/api/v1/audits/{audit_id}", writers[0])
    assert status == 200
    history_before = len(history_of("audit", audit_id))

    bodies = [
        {"version": before["version"], "title": f"Focus group {i}: MASH supervision", "purpose": f"Purpose as writer {i} put it."}
        for i in range(WRITERS)
    ]
    with serving(app) as port:
        results = race(port, "PATCH", f"/api/v1/audits/{audit_id}", writers, bodies)
        winner = one_winner(results)
        status, after = call(port, "GET", f"/api/v1/audits/{audit_id}", writers[0])

    assert status == 200
    assert (after["title"], after["purpose"]) == (bodies[winner]["title"], bodies[winner]["purpose"])
    assert after["version"] == before["version"] + 1
    assert results[winner][1]["version"] == after["version"]
    for field in ("type", "status", "service_id", "scheduled_for", "lead_auditor_id", "auditor_ids", "agencies", "question_set_id"):
        assert after[field] == before[field], field

    entries = history_of("audit", audit_id)[history_before:]
    assert [(e.event, e.changes) for e in entries] == [
        ("update", {"title": [before["title"], bodies[winner]["title"]], "purpose": [before["purpose"], bodies[winner]["purpose"]]})
    ]


def test_twenty_progress_updates_at_once_are_all_kept(app, writers, make_action, make_user):
    """Progress notes carry no version: posted at the same moment, every one is stored,
    even on a not-started action that each of them starts."""
    action = make_action(owner=make_user("auditor"), status="not_started")
    action_id = action.id
    notes = [f"Writer {i}: threshold decisions re-audited for team {i}." for i in range(WRITERS)]
    with serving(app) as port:
        results = race(port, "POST", f"/api/v1/actions/{action_id}/updates", writers, [{"note": n} for n in notes])
        status, after = call(port, "GET", f"/api/v1/actions/{action_id}", writers[0])

    assert sorted(status for status, _ in results) == [201] * WRITERS, [r for r in results if r[0] != 201]
    assert after["status"] == "in_progress"
    db.session.expire_all()
    stored = db.session.scalars(db.select(ActionUpdate.note).where(ActionUpdate.action_id == action_id)).all()
    assert sorted(stored) == sorted(notes)
    # The action was started once, whichever note came first.
    starts = [e for e in history_of("action", action_id) if e.event == "update"]
    assert [e.changes.get("status") for e in starts] == [["not_started", "in_progress"]]


def call_server(app, method: str, path: str, token: str) -> tuple[int, dict]:
    """One request before the race, through the same real server."""
    with serving(app) as port:
        return call(port, method, path, token)


def sign_in_race(port: int, email: str, passwords: list[str]) -> list[int]:
    """Each password posted on its own sign-in form (its own session and CSRF token), all at once."""
    import re
    from urllib.parse import urlencode

    forms = []
    for password in passwords:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", "/sign-in")
        response = connection.getresponse()
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie").split(";", 1)[0]
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        connection.close()
        forms.append((cookie, urlencode({"csrf_token": token, "email": email, "password": password})))

    barrier = threading.Barrier(len(forms))
    statuses: list[int | BaseException | None] = [None] * len(forms)

    def post(index: int) -> None:
        cookie, body = forms[index]
        try:
            barrier.wait(timeout=30)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request("POST", "/sign-in", body=body, headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
            response = connection.getresponse()
            response.read()
            statuses[index] = response.status
            connection.close()
        except BaseException as error:
            statuses[index] = error

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(forms))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(isinstance(s, int) for s in statuses), statuses
    return statuses  # type: ignore[return-value]


def test_signing_in_on_several_devices_at_once(app, make_user):
    """Each sign-in updates the account's row (last sign-in, failures): at the same moment
    they must queue, not conflict. Every one succeeds and every attempt is recorded."""
    from qa_audit.auth.models import LoginAttempt, User

    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    user = make_user("auditor")
    email, user_id = user.email, user.id
    with serving(app) as port:
        statuses = sign_in_race(port, email, [PASSWORD] * 40)
    assert statuses == [302] * 40
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(LoginAttempt.id)).where(LoginAttempt.email == email, LoginAttempt.succeeded.is_(True))) == 40
    assert db.session.get(User, user_id).failed_logins == 0


def test_guesses_sent_at_once_all_count_towards_the_lock(app, make_user):
    """Wrong passwords posted in parallel: none is lost to a conflict, so the failure count
    (and the lock after LOGIN_LOCK_AFTER failures) cannot be dodged by sending them together."""
    from qa_audit.auth.models import LoginAttempt, User

    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    user = make_user("auditor")
    email, user_id = user.email, user.id
    with serving(app) as port:
        statuses = sign_in_race(port, email, [f"not-the-password-{i}" for i in range(12)])
    # 200: the form again, saying the details are wrong (or the account is now locked);
    # 429: refused by the throttle, having seen the failures saved just before.
    assert set(statuses) <= {200, 429}, statuses
    counted = statuses.count(200)
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(LoginAttempt.id)).where(LoginAttempt.email == email)) == counted
    account = db.session.get(User, user_id)
    assert account.failed_logins == counted
    assert account.locked == (counted >= app.config["LOGIN_LOCK_AFTER"])


class Browser:
    """A person's browser against the real server: cookies kept, redirects not followed."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), self._NoRedirect)

    def open(self, path: str, fields: list[tuple[str, str]] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(fields).encode() if fields is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx and 5xx
            return error.code, error.read().decode()

    def sign_in(self, email: str) -> None:
        status, page = self.open("/sign-in")
        assert status == 200, status
        form = pages.form_with(page, "email")
        status, _ = self.open("/sign-in", form.data(email=email, password=PASSWORD))
        assert status == 302, status


def test_auditors_judging_one_action_at_once(app, make_user, make_audit, make_finding, make_action):
    """Eight auditors of a follow-up visit judge the progress on the same action at the same
    moment, none having seen a judgement: one is saved, the others get the conflict page with
    what they wrote still in it (never a server error from the one-judgement-per-action rule)."""
    from qa_audit.actions.models import ProgressReview

    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    auditors = [make_user("auditor") for _ in range(8)]
    earlier = make_audit("targeted_visit", status="completed")
    later = make_audit(
        "targeted_visit", status="in_progress", lead=auditors[0], service=earlier.service,
        follow_up_of_id=earlier.id, auditor_ids=[a.id for a in auditors[1:]],
    )
    action = make_action(finding=make_finding(audit=earlier), status="in_progress")
    later_id, action_id = later.id, action.id
    prefix = f"action-{action_id}"
    notes = [f"Triage is faster, as auditor {i} saw it on the visit." for i in range(len(auditors))]

    with serving(app) as port:
        posts = []
        for auditor, note in zip(auditors, notes):
            browser = Browser(port)
            browser.sign_in(auditor.email)
            status, page = browser.open(f"/audits/{later_id}/follow-up")
            assert status == 200
            form = pages.form_with(page, f"{prefix}-note")
            posts.append((browser, form.data(**{f"{prefix}-judgement": "some", f"{prefix}-note": note})))

        barrier = threading.Barrier(len(posts))
        answers: list = [None] * len(posts)

        def judge(index: int) -> None:
            browser, fields = posts[index]
            try:
                barrier.wait(timeout=30)
                answers[index] = browser.open(f"/audits/{later_id}/follow-up/{action_id}", fields)
            except BaseException as error:
                answers[index] = error

        threads = [threading.Thread(target=judge, args=(i,)) for i in range(len(posts))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert all(isinstance(a, tuple) for a in answers), answers
    statuses = [status for status, _ in answers]
    assert sorted(statuses) == [302] + [409] * (len(posts) - 1), statuses
    winner = statuses.index(302)
    for index, (status, page) in enumerate(answers):
        if status == 409:
            assert "at the same time" in page
            assert notes[index] in page  # their words are still on the page
    db.session.expire_all()
    reviews = db.session.scalars(db.select(ProgressReview).where(ProgressReview.action_id == action_id)).all()
    assert [(r.audit_id, r.note, r.recorded_by_id) for r in reviews] == [(later_id, notes[winner], auditors[winner].id)]


def test_answers_to_one_question_sent_at_once(app, writers, make_audit):
    """The case-answer endpoint sets a cell (last one wins, as when sent one after another):
    sent at the same moment for an unanswered cell, every call succeeds and the cell holds
    exactly one answer, one of those sent, never a server error from one-answer-per-cell."""
    from qa_audit.recording import services as recording_rules
    from qa_audit.recording.models import Answer

    audit = make_audit("dip_sample", status="in_progress")
    case = recording_rules.add_case(audit, audit.lead_auditor, "CIN/0001")
    case_id, question_id = case.id, audit.question_set.questions[0].id
    values = ["met", "partially_met", "not_met", "not_applicable"]
    bodies = [{"question_id": question_id, "value": values[i % 4], "notes": f"Writer {i}"} for i in range(WRITERS)]
    with serving(app) as port:
        results = race(port, "POST", f"/api/v1/cases/{case_id}/answers", writers, bodies)

    assert [status for status, _ in results] == [200] * WRITERS, [r for r in results if r[0] != 200]
    db.session.expire_all()
    stored = db.session.scalars(db.select(Answer).where(Answer.sampled_case_id == case_id)).all()
    assert len(stored) == 1
    assert (stored[0].value.value, stored[0].notes) in {(b["value"], b["notes"]) for b in bodies}


def test_details_of_a_focus_group_put_at_once(app, writers, make_audit):
    """PUT details sent at the same moment to a focus group with none yet: never a server
    error from the one-details-per-audit rule. Each is either saved (200) or refused with a
    conflict (409); what is stored is exactly what one saved request sent, and each save
    is in the history."""
    from qa_audit.recording.models import AuditDetails

    audit = make_audit("focus_group", status="in_progress")
    audit_id = audit.id
    bodies = [
        {"participants_count": 3 + i, "participant_roles": f"Social workers, as writer {i} counted them", "themes": f"Supervision (writer {i})"}
        for i in range(WRITERS)
    ]
    with serving(app) as port:
        results = race(port, "PUT", f"/api/v1/audits/{audit_id}/details", writers, bodies)

    statuses = [status for status, _ in results]
    assert set(statuses) <= {200, 409} and 200 in statuses, results
    saved = [bodies[i] for i, status in enumerate(statuses) if status == 200]
    db.session.expire_all()
    stored = db.session.scalars(db.select(AuditDetails).where(AuditDetails.audit_id == audit_id)).all()
    assert len(stored) == 1
    row = stored[0]
    assert {"participants_count": row.participants_count, "participant_roles": row.participant_roles, "themes": row.themes} in saved
    entries = [e.event for e in history_of("audit_details", row.id)]
    assert entries == ["create"] + ["update"] * (len(saved) - 1)


def test_auditors_saving_one_case_on_the_grid_at_once(app, make_user, make_audit):
    """Eight auditors answer the same unanswered case on a dip sample's grid and save at the
    same moment: one grid is saved, the others get the grid back with the conflict and their
    answers in it; the case holds exactly the saved grid's answers."""
    from qa_audit.recording import services as recording_rules
    from qa_audit.recording.models import Answer

    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    auditors = [make_user("auditor") for _ in range(8)]
    audit = make_audit("dip_sample", status="in_progress", lead=auditors[0], auditor_ids=[a.id for a in auditors[1:]])
    case = recording_rules.add_case(audit, auditors[0], "CIN/0042")
    audit_id, case_id = audit.id, case.id
    question_ids = [q.id for q in audit.question_set.questions]
    values = ["met", "partially_met", "not_met", "not_applicable"]

    with serving(app) as port:
        posts = []
        for i, auditor in enumerate(auditors):
            browser = Browser(port)
            browser.sign_in(auditor.email)
            status, page = browser.open(f"/audits/{audit_id}/grid")
            assert status == 200
            form = pages.form_with(page, f"version_{case_id}")
            cells = {f"answer_{case_id}_{q}": values[(i + k) % 4] for k, q in enumerate(question_ids)}
            cells[f"notes_{case_id}"] = f"Answered by auditor {i}"
            posts.append((browser, form.data(**cells), cells))

        barrier = threading.Barrier(len(posts))
        answers: list = [None] * len(posts)

        def save(index: int) -> None:
            browser, fields, _cells = posts[index]
            try:
                barrier.wait(timeout=30)
                answers[index] = browser.open(f"/audits/{audit_id}/grid", fields)
            except BaseException as error:
                answers[index] = error

        threads = [threading.Thread(target=save, args=(i,)) for i in range(len(posts))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert all(isinstance(a, tuple) for a in answers), answers
    statuses = [status for status, _ in answers]
    assert sorted(statuses) == [302] + [409] * (len(posts) - 1), statuses
    winner = statuses.index(302)
    for index, (status, page) in enumerate(answers):
        if status == 409:
            assert "while you were answering" in page
            assert f"Answered by auditor {index}" in page  # their notes are still in the grid
    db.session.expire_all()
    stored = {a.question_id: a.value.value for a in db.session.scalars(db.select(Answer).where(Answer.sampled_case_id == case_id))}
    won = posts[winner][2]
    assert stored == {q: won[f"answer_{case_id}_{q}"] for q in question_ids}
