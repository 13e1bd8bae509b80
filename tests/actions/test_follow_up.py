"""Follow-up visits: the earlier audit's actions with their status now, and progress judged."""

from __future__ import annotations

import pytest

from qa_audit.actions import follow_up
from qa_audit.actions.models import ProgressJudgement
from qa_audit.errors import Conflict, InvalidInput, NotAllowed


@pytest.fixture
def visits(make_audit, make_finding, make_action, make_user):
    lead = make_user("auditor")
    earlier = make_audit("targeted_visit", status="completed", title="MASH visit, August 2019")
    part = make_audit("focus_group", status="completed", parent_id=earlier.id, service=earlier.service)
    later = make_audit("targeted_visit", status="in_progress", lead=lead, follow_up_of_id=earlier.id, service=earlier.service, title="MASH follow-up, November 2019")
    on_visit = make_action(finding=make_finding(audit=earlier), status="verified", title="Online referral form")
    on_part = make_action(finding=make_finding(audit=part), status="in_progress", title="LEAN review of triage")
    elsewhere = make_action(finding=make_finding(), title="Not this visit's")
    return {"earlier": earlier, "later": later, "lead": lead, "on_visit": on_visit, "on_part": on_part, "elsewhere": elsewhere}


def test_the_follow_up_lists_the_earlier_visits_and_its_parts_actions(visits):
    summary = follow_up.follow_up_summary(visits["later"])
    assert summary["follows_up"] == visits["earlier"].id
    assert {a.id for a in summary["actions"]} == {visits["on_visit"].id, visits["on_part"].id}
    assert (summary["open"], summary["done"]) == (1, 1)


def test_an_auditor_judges_progress_and_can_change_it(visits):
    later, lead = visits["later"], visits["lead"]
    review = follow_up.judge_progress(later, visits["on_part"], {"judgement": "some", "note": "Triage faster; duplication remains"}, lead)
    assert review.judgement is ProgressJudgement.SOME
    again = follow_up.judge_progress(later, visits["on_part"], {"judgement": "sufficient"}, lead, version=review.version)
    assert again.id == review.id and again.judgement is ProgressJudgement.SUFFICIENT
    with pytest.raises(Conflict):
        follow_up.judge_progress(later, visits["on_part"], {"judgement": "insufficient"}, lead, version=1)


def test_judging_rules(visits, make_user):
    later = visits["later"]
    with pytest.raises(NotAllowed):
        follow_up.judge_progress(later, visits["on_part"], {"judgement": "some"}, make_user("auditor"))
    with pytest.raises(InvalidInput) as error:
        follow_up.judge_progress(later, visits["on_part"], {"judgement": "great"}, visits["lead"])
    assert "judgement" in error.value.errors
    with pytest.raises(InvalidInput):
        follow_up.judge_progress(later, visits["elsewhere"], {"judgement": "some"}, visits["lead"])
    later.status = later.status.__class__("completed")
    with pytest.raises(Conflict):
        follow_up.judge_progress(later, visits["on_part"], {"judgement": "some"}, visits["lead"])


def test_the_follow_up_page_report_and_audit_page(visits, app, make_user):
    from tests.conftest import sign_in

    later, lead = visits["later"], visits["lead"]
    client = app.test_client()
    sign_in(client, lead.email)
    assert f"/audits/{later.id}/follow-up" in client.get(f"/audits/{later.id}").get_data(as_text=True)
    page = client.get(f"/audits/{later.id}/follow-up").get_data(as_text=True)
    assert "LEAN review of triage" in page and "Online referral form" in page and "Not this visit&#39;s" not in page
    field = f"action-{visits['on_part'].id}"
    response = client.post_form(f"/audits/{later.id}/follow-up/{visits['on_part'].id}", {f"{field}-judgement": "some", f"{field}-note": "Duplication remains"})
    assert response.status_code == 302
    bad = client.post_form(f"/audits/{later.id}/follow-up/{visits['on_part'].id}", {f"{field}-judgement": "great"})
    assert bad.status_code == 400 and "Select sufficient, some or insufficient progress" in bad.get_data(as_text=True)
    report = client.get(f"/audits/{later.id}/report").get_data(as_text=True)
    assert "Progress on earlier actions" in report and "Some progress: Duplication remains" in report
    earlier_report = client.get(f"/audits/{visits['earlier'].id}/report").get_data(as_text=True)
    assert "Actions raised" in earlier_report and "Online referral form" in earlier_report
    # Someone who is not one of its auditors may read but not judge.
    viewer = app.test_client()
    sign_in(viewer, make_user("viewer").email)
    assert viewer.get(f"/audits/{later.id}/follow-up").status_code == 200
    assert viewer.post_form(f"/audits/{later.id}/follow-up/{visits['on_part'].id}", {f"{field}-judgement": "some"}).status_code == 403
    # An audit that follows nothing up has no such page.
    assert client.get(f"/audits/{visits['earlier'].id}/follow-up").status_code == 404
