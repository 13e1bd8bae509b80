"""The question set pages: QA leads and admins manage sets, everyone signed in reads them,
and a set a started audit uses is never changed under it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from qa_audit.audits import question_sets as question_set_rules
from qa_audit.audits.models import Audit, QuestionSet
from qa_audit.extensions import db


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(QuestionSet))


def _title(page: str) -> str:
    return re.search(r"<title[^>]*>(.*?)</title>", page, re.S).group(1).strip()


@pytest.mark.parametrize("role", ["qa_lead", "admin"])
def test_manager_creates_a_question_set(login_as, role):
    client = login_as(role)
    listing = client.get("/question-sets").get_data(as_text=True)
    assert "Create a question set" in listing
    form = client.get("/question-sets/new")
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert "Enter each question on a new line" in page and _title(page).startswith("Create a question set")
    response = client.post_form(
        "/question-sets/new",
        {
            "title": "Younger children: medical investigations",
            "description": "Children under 2 referred for bruising",
            "questions": "Were medical investigations undertaken?\r\n\r\n  Was the child seen alone?  \r\nWas a strategy meeting held?\n",
        },
    )
    assert response.status_code == 302
    question_set = db.session.scalar(select(QuestionSet))
    assert response.location.endswith(f"/question-sets/{question_set.id}")
    assert [q.text for q in question_set.questions] == [
        "Were medical investigations undertaken?",
        "Was the child seen alone?",
        "Was a strategy meeting held?",
    ]
    assert [q.position for q in question_set.questions] == [1, 2, 3]
    page = client.get(response.location).get_data(as_text=True)
    assert "Younger children: medical investigations" in page and "Children under 2 referred for bruising" in page
    assert page.index("Were medical investigations undertaken?") < page.index("Was the child seen alone?") < page.index("Was a strategy meeting held?")
    assert "Retire question set" in page and "Edit question set" in page
    listing = client.get("/question-sets").get_data(as_text=True)
    row = listing[listing.index("Younger children: medical investigations"):]
    assert ">3<" in re.sub(r"\s+", "", row[:600]) and "In use" in row


@pytest.mark.parametrize("role", ["auditor", "head_of_service", "viewer"])
def test_everyone_reads_but_only_managers_write(login_as, make_question_set, role):
    client = login_as(role)
    question_set = make_question_set("Strategy meetings", ["Did police attend?"])
    listing = client.get("/question-sets")
    assert listing.status_code == 200 and "Strategy meetings" in listing.get_data(as_text=True)
    assert "Create a question set" not in listing.get_data(as_text=True)
    page = client.get(f"/question-sets/{question_set.id}")
    assert page.status_code == 200 and "Did police attend?" in page.get_data(as_text=True)
    assert "Retire question set" not in page.get_data(as_text=True) and "Edit question set" not in page.get_data(as_text=True)
    assert client.get("/question-sets/new").status_code == 403
    assert client.post_form("/question-sets/new", {"title": "x", "questions": "y"}).status_code == 403
    assert client.get(f"/question-sets/{question_set.id}/edit").status_code == 403
    edit = client.post_form(f"/question-sets/{question_set.id}/edit", {"title": "x", "questions": "y", "version": "1"})
    assert edit.status_code == 403
    assert client.post_form(f"/question-sets/{question_set.id}/retire").status_code == 403
    db.session.refresh(question_set)
    assert question_set.title == "Strategy meetings" and not question_set.retired and _count() == 1


def test_anonymous_users_are_sent_to_sign_in(client, make_question_set):
    question_set = make_question_set()
    for url in ("/question-sets", f"/question-sets/{question_set.id}", "/question-sets/new"):
        response = client.get(url)
        assert response.status_code == 302 and response.location.startswith("/sign-in")


def test_unknown_question_set_is_404(login_as):
    client = login_as("qa_lead")
    assert client.get("/question-sets/999").status_code == 404
    assert client.get("/question-sets/999/edit").status_code == 404
    assert client.post_form("/question-sets/999/retire").status_code == 404


@pytest.mark.parametrize(
    "data, message",
    [
        ({"title": "", "questions": "Was the child seen?"}, "Enter a title"),
        ({"title": "   ", "questions": "Was the child seen?"}, "Enter a title"),
        ({"title": "Set", "questions": ""}, "Enter at least one question"),
        ({"title": "Set", "questions": "\r\n   \r\n"}, "Enter at least one question"),
        ({"title": "x" * 201, "questions": "q"}, "Title must be 200 characters or fewer"),
        ({"title": "bad\x07title", "questions": "q"}, "Title must not contain control characters"),
        ({"title": "Set", "questions": "\n".join(f"Question {n}?" for n in range(51))}, "A question set can have up to 50 questions"),
        ({"title": "Set", "questions": "q" * 2001}, "Each question must be 2,000 characters or fewer"),
        ({"title": "Set", "questions": "q", "description": "d" * 2001}, "Description must be 2,000 characters or fewer"),
    ],
)
def test_bad_input_is_shown_at_the_field_and_nothing_is_saved(login_as, data, message):
    client = login_as("qa_lead")
    response = client.post_form("/question-sets/new", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert "govuk-error-summary" in page and _title(page).startswith("Error: ")
    assert _count() == 0


def test_fifty_questions_are_allowed(login_as):
    client = login_as("qa_lead")
    response = client.post_form("/question-sets/new", {"title": "Long set", "questions": "\n".join(f"Question {n}?" for n in range(50))})
    assert response.status_code == 302
    assert len(db.session.scalar(select(QuestionSet)).questions) == 50


def test_edit_a_set_no_started_audit_uses_changes_it_in_place(login_as, make_question_set, make_audit):
    client = login_as("qa_lead")
    question_set = make_question_set("Repeated contacts", ["Was the contact from family?"])
    planned = make_audit("dip_sample", question_set_id=question_set.id)
    page = client.get(f"/question-sets/{question_set.id}/edit").get_data(as_text=True)
    assert 'value="Repeated contacts"' in page and "Was the contact from family?" in page
    assert "saving changes it in place" in page
    assert f'name="version" type="hidden" value="{question_set.version}"' in page or f'value="{question_set.version}"' in page
    response = client.post_form(
        f"/question-sets/{question_set.id}/edit",
        {"title": "Repeated contacts", "questions": "Was the contact from friends or family?\nWas it repeated?", "version": str(question_set.version)},
    )
    assert response.status_code == 302 and response.location.endswith(f"/question-sets/{question_set.id}")
    db.session.refresh(question_set)
    assert [q.text for q in question_set.questions] == ["Was the contact from friends or family?", "Was it repeated?"]
    assert question_set.version_number == 1 and question_set.version == 2
    assert db.session.get(Audit, planned.id).question_set_id == question_set.id
    assert _count() == 1


def test_edit_a_set_a_started_audit_uses_makes_a_new_version(login_as, make_question_set, make_audit):
    client = login_as("qa_lead")
    question_set = make_question_set("Younger children", ["Were medical investigations undertaken?"])
    started = make_audit("dip_sample", question_set_id=question_set.id, status="in_progress", title="Dip sample April")
    planned = make_audit("dip_sample", question_set_id=question_set.id, title="Dip sample May")
    page = client.get(f"/question-sets/{question_set.id}/edit").get_data(as_text=True)
    assert "Saving makes a new version" in page and "audits that have started keep this version" in page
    shown = client.get(f"/question-sets/{question_set.id}").get_data(as_text=True)
    assert "Dip sample April" in shown and "Dip sample May" in shown

    response = client.post_form(
        f"/question-sets/{question_set.id}/edit",
        {
            "title": "Younger children",
            "questions": "Were medical investigations undertaken?\nWas a strategy meeting held?",
            "version": str(question_set.version),
        },
    )
    assert response.status_code == 302
    new = db.session.scalar(select(QuestionSet).where(QuestionSet.id != question_set.id))
    assert response.location.endswith(f"/question-sets/{new.id}")
    assert new.version_number == 2 and new.lineage_id == question_set.id
    db.session.refresh(question_set)
    assert question_set.superseded and [q.text for q in question_set.questions] == ["Were medical investigations undertaken?"]
    assert db.session.get(Audit, started.id).question_set_id == question_set.id
    assert db.session.get(Audit, planned.id).question_set_id == new.id

    page = client.get(response.location).get_data(as_text=True)
    assert "Saved as version 2" in page and "keep version 1" in page
    assert "Was a strategy meeting held?" in page
    assert f"/question-sets/{question_set.id}" in page and "Version 1: Younger children" in page
    assert "Dip sample May" in page and "Dip sample April" not in page
    old_page = client.get(f"/question-sets/{question_set.id}").get_data(as_text=True)
    assert "Superseded" in old_page and "Version 2: Younger children" in old_page
    assert "Edit question set" not in old_page and "Retire question set" not in old_page
    listing = client.get("/question-sets").get_data(as_text=True)
    assert "Superseded" in listing and "In use" in listing

    # the old version cannot be edited: the page says so and links to the new one
    locked = client.get(f"/question-sets/{question_set.id}/edit").get_data(as_text=True)
    assert "A newer version of this question set exists" in locked and f"/question-sets/{new.id}/edit" in locked
    assert 'name="questions"' not in locked
    response = client.post_form(
        f"/question-sets/{question_set.id}/edit", {"title": "Old", "questions": "Old question", "version": str(question_set.version)}
    )
    assert response.status_code == 409 and "edit that one" in response.get_data(as_text=True)


def test_stale_edit_is_a_conflict_and_keeps_the_input(login_as, make_question_set):
    client = login_as("qa_lead")
    question_set = make_question_set("Thresholds", ["Was the threshold applied?"])
    stale = str(question_set.version)
    assert client.post_form(
        f"/question-sets/{question_set.id}/edit", {"title": "Thresholds (MASH)", "questions": "Was the threshold applied?", "version": stale}
    ).status_code == 302
    other = login_as("admin")
    response = other.post_form(
        f"/question-sets/{question_set.id}/edit",
        {"title": "Thresholds and decisions", "questions": "Was the threshold applied?\nWas the decision recorded?", "version": stale},
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else changed this question set" in page and "have not been saved" in page
    assert 'value="Thresholds and decisions"' in page and "Was the decision recorded?" in page
    db.session.refresh(question_set)
    assert question_set.title == "Thresholds (MASH)" and len(question_set.questions) == 1


def test_stale_edit_of_the_questions_alone_is_caught(login_as, make_question_set):
    """Changing only a question's text still counts as a change to the set."""
    client = login_as("qa_lead")
    question_set = make_question_set("Supervision", ["Is supervision monthly?"])
    stale = str(question_set.version)
    first = client.post_form(f"/question-sets/{question_set.id}/edit", {"title": "Supervision", "questions": "Is supervision recorded monthly?", "version": stale})
    assert first.status_code == 302
    second = client.post_form(f"/question-sets/{question_set.id}/edit", {"title": "Supervision", "questions": "Is supervision reflective?", "version": stale})
    assert second.status_code == 409
    db.session.refresh(question_set)
    assert [q.text for q in question_set.questions] == ["Is supervision recorded monthly?"]


def test_edit_bad_input_keeps_the_input(login_as, make_question_set):
    client = login_as("qa_lead")
    question_set = make_question_set("Workload", ["Are caseloads manageable?"])
    response = client.post_form(f"/question-sets/{question_set.id}/edit", {"title": "", "questions": "New question?", "version": str(question_set.version)})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Enter a title" in page and "New question?" in page
    response = client.post_form(f"/question-sets/{question_set.id}/edit", {"title": "Workload", "questions": " \n ", "version": str(question_set.version)})
    assert "Enter at least one question" in response.get_data(as_text=True)
    db.session.refresh(question_set)
    assert [q.text for q in question_set.questions] == ["Are caseloads manageable?"]


def test_edit_without_a_version_is_a_bad_request(login_as, make_question_set):
    client = login_as("qa_lead")
    question_set = make_question_set()
    for version in ("", "abc", "99999999999999999999"):
        response = client.post_form(f"/question-sets/{question_set.id}/edit", {"title": "T", "questions": "Q", "version": version})
        assert response.status_code in (400, 409)
    db.session.refresh(question_set)
    assert question_set.title != "T"


def test_retire_a_question_set(login_as, make_question_set, make_audit):
    client = login_as("qa_lead")
    question_set = make_question_set("Voice of the child")
    audit = make_audit("dip_sample", question_set_id=question_set.id)
    response = client.post_form(f"/question-sets/{question_set.id}/retire")
    assert response.status_code == 302 and response.location.endswith(f"/question-sets/{question_set.id}")
    db.session.refresh(question_set)
    assert question_set.retired
    assert db.session.get(Audit, audit.id).question_set_id == question_set.id  # audits keep it
    assert question_set not in question_set_rules.usable_question_sets()
    page = client.get(response.location).get_data(as_text=True)
    assert "retired" in page and "Retired" in page and "Retire question set" not in page
    assert "Retired" in client.get("/question-sets").get_data(as_text=True)
    again = client.post_form(f"/question-sets/{question_set.id}/retire")
    assert again.status_code == 302
    locked = client.get(f"/question-sets/{question_set.id}/edit").get_data(as_text=True)
    assert "This question set is retired" in locked and 'name="questions"' not in locked


def test_retire_needs_the_csrf_token(app, login_as, make_question_set):
    client = login_as("qa_lead")
    question_set = make_question_set()
    response = client.post(f"/question-sets/{question_set.id}/retire")
    assert response.status_code == 400
    db.session.refresh(question_set)
    assert not question_set.retired


def test_page_text_is_escaped(login_as, make_question_set):
    client = login_as("viewer")
    question_set = make_question_set("<script>alert(1)</script>", ["<b>bold?</b>"])
    for url in ("/question-sets", f"/question-sets/{question_set.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
        assert "<b>bold?</b>" not in page
