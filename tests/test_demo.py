"""The demo council (qa_audit.demo): what `flask demo load` puts in, and that loading
it again adds nothing."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from qa_audit.actions import services as action_rules
from qa_audit.actions.models import Action, ActionStatus, ActionUpdate, Brag, ProgressJudgement, ProgressReview, UpdateKind
from qa_audit.audits import services as audit_rules
from qa_audit.audits.models import Audit, AuditStatus, AuditType
from qa_audit.auth.models import User
from qa_audit.extensions import db
from qa_audit.findings.models import ConcernAlert, Finding, FindingKind
from qa_audit.history.models import HistoryEntry
from qa_audit.plans import services as plan_rules
from qa_audit.plans.models import ImprovementPlan, Measure, PlanPriority
from qa_audit.recording import services as recording_rules
from qa_audit.recording.models import Answer, AnswerValue, AuditDetails, SampledCase

from .conftest import sign_in

VISIT_2021 = "Multi-agency partnership visit to the Initial Response Team and MASH"
DIP_SAMPLES_2021 = ["Younger children: medical investigations undertaken", "Locality strategy meetings: multi-agency attendance"]
JTAI_PLAN = "Joint targeted area inspection (March 2019): local area improvement plan"
VISIT_2021_PLAN = "Multi-agency partnership visit (November 2021): action plan"
DEMO_LOGINS = [
    "admin", "qa.lead", "qa.officer", "auditor", "senior.practitioner", "team.manager",
    "hos.fieldwork", "hos.front.door", "director", "board.member", "dfe.adviser",
]


@pytest.fixture
def load(app, runner, tmp_path):
    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox")  # the concern's alert emails land here

    def run():
        result = runner.invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
        return result.output

    return run


def _counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table)) for table in db.metadata.sorted_tables}


def _user(login: str) -> User:
    return db.session.scalar(select(User).where(User.email == f"{login}@demo.qa-audit.test"))


def _audit(title: str, on: date) -> Audit:
    return db.session.scalars(select(Audit).where(Audit.title == title, Audit.scheduled_for == on)).one()


def _plan(title: str) -> ImprovementPlan:
    return db.session.scalars(select(ImprovementPlan).where(ImprovementPlan.title == title)).one()


def _annual_plan(today: date) -> ImprovementPlan:
    year = today.year if today.month >= 4 else today.year - 1
    return _plan(f"Annual improvement plan {year}/{(year + 1) % 100:02d}")


def _actions_of(plan: ImprovementPlan) -> list[Action]:
    return list(db.session.scalars(action_rules.actions_query({"plan_id": plan.id}).order_by(Action.id)))


def test_loading_twice_adds_nothing(load):
    first = load()
    counts = _counts()
    assert counts["findings"] and counts["answers"] and counts["audit_details"] and counts["concern_alerts"]
    for table in ("improvement_plans", "plan_priorities", "measures", "measure_values", "actions", "action_updates", "progress_reviews"):
        assert counts[table], table
    assert "3 improvement plans and" in first
    second = load()
    assert "0 users, 0 services and 0 audits added; 0 improvement plans and 0 actions added" in second
    assert _counts() == counts, "the second load wrote something (history included)"
    assert "audits added" in first


def test_the_2021_visit_has_its_six_findings_on_its_parts(load):
    load()
    visit = _audit(VISIT_2021, date(2021, 11, 22))
    assert visit.status is AuditStatus.COMPLETED and visit.lead_auditor.email == "director@demo.qa-audit.test"
    assert {a.value for a in visit.agencies} == {"social_care", "police", "health", "education"}
    parts = visit.children
    assert {p.type for p in parts} == {AuditType.FOCUS_GROUP, AuditType.DIP_SAMPLE, AuditType.STRATEGY_MEETING_AUDIT}
    assert all(p.status is AuditStatus.COMPLETED for p in parts)
    findings = db.session.scalars(select(Finding).where(Finding.audit_id.in_([p.id for p in parts]))).all()
    assert len(findings) == 6
    assert Counter(f.kind for f in findings) == {FindingKind.STRENGTH: 4, FindingKind.AREA_FOR_IMPROVEMENT: 2}
    assert all(f.theme for f in findings)
    summaries = " ".join(f.summary for f in findings)
    for words in ("thresholds", "Referrals", "Direct work", "Strategy meetings are well attended", "Domestic abuse triage", "management oversight"):
        assert words in summaries
    # The visit's report shows its parts' findings.
    from qa_audit.findings.services import findings_of

    assert len(findings_of(visit)) == 6
    # Focus groups and strategy meeting audits carry their details; the dip sample its cases.
    for part in parts:
        if part.type is AuditType.DIP_SAMPLE:
            assert recording_rules.unanswered(part) == 0
            assert db.session.scalar(select(func.count(SampledCase.id)).where(SampledCase.audit_id == part.id)) == 10
        else:
            details = db.session.scalar(select(AuditDetails).where(AuditDetails.audit_id == part.id))
            assert details is not None
    meetings = [p for p in parts if p.type is AuditType.STRATEGY_MEETING_AUDIT]
    assert len(meetings) == 3
    # Completed on the day, as the report says; not when the demo was loaded.
    assert all(p.completed_at.date() == date(2021, 11, 22) for p in parts)


def test_the_november_2019_visit_has_its_parts_findings(load):
    load()
    visit = _audit("Follow-up targeted visit to the MASH", date(2019, 11, 12))
    assert visit.status is AuditStatus.COMPLETED and visit.follow_up_of is not None
    by_part = {p.title: Counter(f.kind for f in db.session.scalars(select(Finding).where(Finding.audit_id == p.id))) for p in visit.children}
    assert by_part["Focus group: MASH social workers"][FindingKind.STRENGTH] == 3
    assert by_part["Focus group: Domestic Abuse Hub"][FindingKind.STRENGTH] == 1
    assert by_part["Observed child protection strategy meeting"][FindingKind.STRENGTH] == 2
    assert by_part["Audit of referrals (contacts)"][FindingKind.STRENGTH] == 2
    observed = next(p for p in visit.children if p.type is AuditType.STRATEGY_MEETING_AUDIT)
    details = db.session.scalar(select(AuditDetails).where(AuditDetails.audit_id == observed.id))
    assert details.chairing_quality.value == "outstanding"
    assert details.agency_contributions["health"] == details.agency_contributions["education"] == "outstanding"
    assert all(p.status is AuditStatus.COMPLETED for p in visit.children)


def test_dip_samples_have_plausible_compliance(load):
    load()
    values = Counter()
    for title in DIP_SAMPLES_2021:
        sample = db.session.scalars(select(Audit).where(Audit.title == title, Audit.scheduled_for < date(2023, 1, 1))).one()
        assert sample.status is AuditStatus.COMPLETED
        cases = db.session.scalars(select(SampledCase).where(SampledCase.audit_id == sample.id)).all()
        assert 8 <= len(cases) <= 10
        assert all(re.fullmatch(r"CS-\d{6}", case.case_reference) for case in cases)
        overall = recording_rules.compliance(sample)["overall"]
        assert overall is not None and 0 < overall < 100
        values.update(answer.value for case in cases for answer in case.answers)
        assert any(answer.notes for case in cases for answer in case.answers)
    assert values[AnswerValue.MET] > values[AnswerValue.PARTIALLY_MET] + values[AnswerValue.NOT_MET] + values[AnswerValue.NOT_APPLICABLE]
    assert values[AnswerValue.PARTIALLY_MET] and values[AnswerValue.NOT_MET] and values[AnswerValue.NOT_APPLICABLE]


def test_this_years_monthly_dip_samples(load, pin_today):
    pin_today(date(2026, 11, 24))
    load()
    monthly = db.session.scalars(
        select(Audit).where(Audit.series_id.is_not(None), Audit.type == AuditType.DIP_SAMPLE).order_by(Audit.scheduled_for)
    ).all()
    due = [a for a in monthly if a.scheduled_for <= date(2026, 11, 24)]
    assert len(due) == 8
    assert [a.status for a in due] == [AuditStatus.COMPLETED] * 7 + [AuditStatus.IN_PROGRESS]
    for audit in due[:-1]:
        assert recording_rules.unanswered(audit) == 0
        assert 0 <= recording_rules.compliance(audit)["overall"] <= 100
    current = due[-1]
    assert db.session.scalar(select(func.count(SampledCase.id)).where(SampledCase.audit_id == current.id))
    assert recording_rules.unanswered(current) > 0  # partly answered
    assert db.session.scalar(select(func.count(Answer.id)).join(SampledCase).where(SampledCase.audit_id == current.id))
    assert all(a.status is AuditStatus.PLANNED for a in monthly if a.scheduled_for > date(2026, 11, 24))


def test_attendance_by_agency_has_figures(load, pin_today, login_as):
    pin_today(date(2026, 11, 24))
    load()
    year = select(Audit).where(
        Audit.type == AuditType.STRATEGY_MEETING_AUDIT, Audit.scheduled_for >= date(2026, 4, 1), Audit.scheduled_for <= date(2027, 3, 31)
    )
    rows = {row["agency"]: row for row in recording_rules.attendance_by_agency(year)}
    assert rows["police"]["invited"] >= 8 and 0 < rows["police"]["attended"] <= rows["police"]["invited"]
    assert rows["education"]["rate"] < 100  # not every meeting had everyone
    page = login_as("viewer").get("/strategy-meetings/attendance")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Attendance by agency" in html and "Police" in html and f"{rows['police']['rate']:.1f}%" in html


def test_a_head_of_service_has_a_concern_to_acknowledge(load, client):
    from qa_audit.demo import DEMO_PASSWORD
    from qa_audit.findings.services import open_alerts

    load()
    concern = db.session.scalars(select(Finding).where(Finding.kind == FindingKind.CONCERN)).one()
    assert concern.audit.status is AuditStatus.IN_PROGRESS
    today = audit_rules.today()
    assert concern.audit.scheduled_for == date(today.year if today.month >= 4 else today.year - 1, 4, 1)  # this year's
    alerts = {alert.user.email.split("@")[0]: alert for alert in concern.alerts}
    assert alerts["qa.lead"].acknowledged_at is not None
    assert alerts["hos.fieldwork"].acknowledged_at is None
    assert open_alerts(_user("hos.fieldwork")) == [alerts["hos.fieldwork"]]
    assert sign_in(client, "hos.fieldwork@demo.qa-audit.test", DEMO_PASSWORD).status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Safeguarding concerns" in home and "1 safeguarding concern needs your response" in home


def test_every_completed_audit_is_fully_answered(load):
    load()
    completed = db.session.scalars(select(Audit).where(Audit.status == AuditStatus.COMPLETED)).all()
    assert len(completed) > 20
    for audit in completed:
        assert recording_rules.unanswered(audit) == 0, audit.title
        if audit.type is AuditType.DIP_SAMPLE:
            assert db.session.scalar(select(func.count(SampledCase.id)).where(SampledCase.audit_id == audit.id)), audit.title
        assert audit.started_at <= audit.completed_at


def test_recording_is_in_the_history_as_the_demo_users(load):
    load()
    for entity in ("finding", "sampled_case", "answer", "audit_details", "question_set"):
        users = set(db.session.scalars(select(HistoryEntry.user_id).where(HistoryEntry.entity == entity, HistoryEntry.event == "create")))
        assert users and None not in users, entity
    visit = _audit(VISIT_2021, date(2021, 11, 22))
    made = db.session.scalars(select(HistoryEntry).where(HistoryEntry.entity == "audit", HistoryEntry.entity_id == visit.id)).all()
    assert made[0].event == "create" and made[0].user.email == "qa.lead@demo.qa-audit.test"
    assert any(entry.changes.get("status") == ["in_progress", "completed"] and entry.user.email == "director@demo.qa-audit.test" for entry in made)


@pytest.mark.parametrize("today", [date(2025, 4, 2), date(2026, 3, 30), date(2025, 9, 15)])
def test_any_day_of_the_year(load, pin_today, today):
    pin_today(today)
    load()
    counts = _counts()
    load()
    assert _counts() == counts
    head = _user("hos.fieldwork")
    assert db.session.scalar(select(func.count(ConcernAlert.id)).where(ConcernAlert.user_id == head.id, ConcernAlert.acknowledged_at.is_(None))) == 1
    for audit in db.session.scalars(select(Audit).where(Audit.status == AuditStatus.COMPLETED)):
        assert recording_rules.unanswered(audit) == 0
    in_progress_monthly = db.session.scalars(
        select(Audit).where(Audit.series_id.is_not(None), Audit.type == AuditType.DIP_SAMPLE, Audit.status == AuditStatus.IN_PROGRESS)
    ).all()
    due = db.session.scalar(
        select(func.count(Audit.id)).where(Audit.series_id.is_not(None), Audit.type == AuditType.DIP_SAMPLE, Audit.scheduled_for <= today)
    )
    assert len(in_progress_monthly) == (1 if due else 0)
    # This year's plan has actions in every state, some late and some due soon, whatever the day.
    plan = _annual_plan(today)
    assert {a.status for a in _actions_of(plan)} == set(ActionStatus)
    overall, _ = plan_rules.plan_figures(plan.id, today=today)
    assert overall["overdue"] >= 3 and overall["due_soon"] >= 2 and overall["green"] >= 2
    for action in _actions_of(plan):
        assert action.approved_on <= today and action.created_at.date() <= today
        assert all(action.created_at <= update.created_at and update.created_at.date() <= today for update in action.updates)


def test_an_earlier_demos_empty_audit_gains_its_findings(load, monkeypatch):
    """The first demo completed the 2019 visit's parts with nothing on them: a QA
    lead reopens such an audit once, and its auditors record what the report found."""
    from qa_audit import demo_content

    part = "Focus group: Domestic Abuse Hub"
    monkeypatch.setitem(demo_content.NOVEMBER_2019_PARTS, part, {"details": None, "findings": []})
    load()
    audit = _audit(part, date(2019, 11, 12))
    assert audit.status is AuditStatus.COMPLETED
    assert not db.session.scalar(select(func.count(Finding.id)).where(Finding.audit_id == audit.id))
    monkeypatch.undo()
    assert "0 audits added" in load()
    db.session.expire_all()
    assert audit.status is AuditStatus.COMPLETED and audit.reopen_reason
    assert db.session.scalar(select(func.count(Finding.id)).where(Finding.audit_id == audit.id)) == 1
    assert db.session.scalar(select(AuditDetails).where(AuditDetails.audit_id == audit.id)).participants_count == 6
    counts = _counts()
    load()
    assert _counts() == counts


def test_the_demo_audits_pages_show(load, client):
    """What the demo recorded renders: the visits and their parts, a dip sample's
    compliance, the concern."""
    from qa_audit.demo import DEMO_PASSWORD

    load()
    assert sign_in(client, "qa.lead@demo.qa-audit.test", DEMO_PASSWORD).status_code == 302
    visits = [_audit(VISIT_2021, date(2021, 11, 22)), _audit("Follow-up targeted visit to the MASH", date(2019, 11, 12))]
    concern = db.session.scalars(select(Finding).where(Finding.kind == FindingKind.CONCERN)).one()
    for audit in [*visits, *(part for visit in visits for part in visit.children), concern.audit]:
        paths = [f"/audits/{audit.id}", f"/audits/{audit.id}/workspace", f"/audits/{audit.id}/findings"]
        if audit.type is AuditType.DIP_SAMPLE:
            paths.append(f"/audits/{audit.id}/compliance")
        for path in paths:
            assert client.get(path).status_code == 200, path
    visit_findings = client.get(f"/audits/{visits[0].id}/findings").get_data(as_text=True)
    assert "Strategy meetings are well attended" in visit_findings and "Domestic abuse triage" in visit_findings
    assert "CS-104871" in client.get(f"/findings/{concern.id}").get_data(as_text=True)


# Improvement plans and actions ---------------------------------------------------------------


def test_the_plans_have_their_boards_and_priorities(load, pin_today):
    today = pin_today(date(2026, 11, 24))
    load()
    jtai = _plan(JTAI_PLAN)
    assert jtai.board == "Strategic MASH Board" and jtai.owner.email == "hos.front.door@demo.qa-audit.test"
    assert jtai.owner.role.value == "head_of_service" and jtai.service.name == "Multi-Agency Safeguarding Hub (MASH)"
    assert [p.title for p in jtai.priorities] == ["Front door", "Workforce", "Multi-agency working"]
    annual = _annual_plan(today)
    assert annual.title == "Annual improvement plan 2026/27" and annual.board == "Practice and Development Board"
    assert (annual.starts_on, annual.ends_on) == (date(2026, 4, 1), date(2027, 3, 31))
    assert [p.title for p in annual.priorities] == ["Front door", "Workforce", "Multi-agency working", "Voice of the child"]
    assert _plan(VISIT_2021_PLAN).board == "Practice and Development Board"
    # The inspection plan's actions as the seed gives them: historic, and all but one signed off.
    actions = _actions_of(jtai)
    titles = " ".join(a.title for a in actions)
    for words in ("online referral form", "early help and health co-located", "youth offending systems", "domestic abuse triage", "performance dashboard"):
        assert words in titles
    statuses = Counter(a.status for a in actions)
    assert statuses[ActionStatus.VERIFIED] >= len(actions) - 1 and set(statuses) <= {ActionStatus.VERIFIED, ActionStatus.CANCELLED}
    assert all(a.approved_by == "Strategic MASH Board" for a in actions)
    launch = next(a for a in actions if a.title == "Launch an online referral form for partner agencies")
    assert launch.completed_at.date() == date(2019, 5, 20) and launch.verified_at.date() == date(2019, 6, 11)
    assert launch.created_at.date() == launch.approved_on == date(2019, 4, 24)


def test_this_years_plan_has_actions_in_every_state(load, pin_today):
    today = pin_today(date(2026, 11, 24))
    load()
    plan = _annual_plan(today)
    actions = _actions_of(plan)
    assert {a.status for a in actions} == set(ActionStatus)
    brags = Counter(action_rules.brag_of(a, today) for a in actions)
    assert brags[Brag.RED] >= 3 and brags[Brag.AMBER] >= 2 and brags[Brag.GREEN] >= 2 and brags[Brag.BLUE] >= 4
    overall, priorities = plan_rules.plan_figures(plan.id, today=today)
    assert overall["overdue"] == brags[Brag.RED] and overall["due_soon"] == brags[Brag.AMBER]
    assert overall["brag"] is Brag.RED and 0 < overall["percent_complete"] < 100
    assert all(p["total"] for p in priorities)  # every priority has actions
    for action in actions:
        assert action.approved_by == "Practice and Development Board" and action.approved_on <= today
        moments = [action.created_at, *(u.created_at for u in action.updates)]
        assert moments == sorted(moments), action.title  # the timeline reads in order
        if action.status in (ActionStatus.COMPLETED, ActionStatus.VERIFIED):
            assert any(u.evidence for u in action.updates), action.title
            assert action.created_at < action.completed_at and action.completed_at.date() <= today
        if action.status is ActionStatus.VERIFIED:
            assert action.verified_by_id != action.owner_id and action.completed_at < action.verified_at
            assert action.verified_at.date() <= today
        if action.status is ActionStatus.CANCELLED:
            assert action.cancellation_reason and action.updates[-1].kind is UpdateKind.CANCELLED
        if action.status is ActionStatus.NOT_STARTED:
            assert not action.updates
    # Sent back once, and in progress again with a note after it.
    sent_back = [a for a in actions if any(u.kind is UpdateKind.SENT_BACK for u in a.updates)]
    assert len(sent_back) == 1 and sent_back[0].status is ActionStatus.IN_PROGRESS and sent_back[0].updates[-1].kind is UpdateKind.PROGRESS
    # Owners of every role: anyone can own an action.
    assert {a.owner.role.value for a in actions} == {"admin", "qa_lead", "auditor", "head_of_service", "viewer"}


def test_the_measures_have_values(load, pin_today):
    today = pin_today(date(2026, 11, 24))
    load()
    measures = {
        m.title: m
        for m in db.session.scalars(select(Measure).join(PlanPriority).where(PlanPriority.plan_id == _plan(JTAI_PLAN).id))
    }
    caseload = measures["Average MASH caseload"]
    assert (caseload.baseline, caseload.baseline_on, caseload.target) == (24, date(2019, 3, 31), 15)
    assert (caseload.values[-1].measured_on, caseload.values[-1].value) == (date(2019, 10, 31), 15)
    assert caseload.priority.title == "Workforce"
    agency = measures["Agency social workers"]
    assert (agency.baseline, agency.values[-1].value) == (18, 8) and agency.values[-1].measured_on.year == 2019
    assert all(v.value < 10 for v in agency.values if v.measured_on >= date(2019, 9, 1))
    timely = measures["Single assessments completed in timescale"]
    assert (float(timely.baseline), timely.baseline_on, timely.priority.title) == (63.4, date(2019, 3, 31), "Front door")
    assert all(v.value > 90 for v in timely.values if v.measured_on >= date(2019, 5, 1))
    assert (timely.values[-1].measured_on, float(timely.values[-1].value)) == (date(2019, 10, 31), 91.3)
    assert all(len(m.values) >= 7 for m in measures.values())
    # This year's: one value for each month ended so far (April to October), never a future one.
    annual = db.session.scalars(select(Measure).join(PlanPriority).where(PlanPriority.plan_id == _annual_plan(today).id)).all()
    assert len(annual) == 4
    for measure in annual:
        assert [v.measured_on for v in measure.values] == [date(2026, month + 1, 1) - timedelta(days=1) for month in range(4, 11)]
        assert measure.baseline_on == date(2026, 3, 31)
        assert all(v.recorded_at.date() <= today for v in measure.values)


def test_every_demo_user_has_actions_and_the_head_of_service_some_to_sign_off(load, pin_today):
    from qa_audit.actions.reminders import digest_for

    today = pin_today(date(2026, 11, 24))
    load()
    annual = _annual_plan(today)
    for login in DEMO_LOGINS:
        owned = db.session.scalars(action_rules.actions_query({"owner_id": _user(login).id, "plan_id": annual.id})).all()
        assert owned, login
    head = _user("hos.front.door")
    assert annual.owner == head
    digest = digest_for(head, today)
    assert len(digest.awaiting_sign_off) >= 2 and digest.overdue and digest.due_next
    assert all(a.status is ActionStatus.COMPLETED and a.owner != head for a in digest.awaiting_sign_off)


def test_the_2019_follow_up_judged_the_august_actions(load):
    load()
    august = _audit("Targeted visit to the MASH", date(2019, 8, 12))
    november = _audit("Follow-up targeted visit to the MASH", date(2019, 11, 12))
    assert november.follow_up_of == august and november.status is AuditStatus.COMPLETED
    assert november.reopen_reason is None  # judged before it was completed
    actions = action_rules.actions_of_audit(august)
    assert len(actions) == 4
    assert all(a.finding.audit == august and a.approved_by == "Strategic MASH Board" for a in actions)
    assert {a.plan_priority.plan.title for a in actions} == {JTAI_PLAN}
    reviews = db.session.scalars(select(ProgressReview).where(ProgressReview.audit_id == november.id)).all()
    assert {r.action for r in reviews} == set(actions)
    assert {r.judgement for r in reviews} == set(ProgressJudgement)
    assert all(r.note and r.recorded_by_id == _user("director").id for r in reviews)
    assert all(r.recorded_at.date() == date(2019, 11, 12) for r in reviews)
    assert november.completed_at.date() == date(2019, 11, 19)
    # Their status now: signed off after the follow-up.
    assert all(a.status is ActionStatus.VERIFIED for a in actions)


def test_the_2021_visits_areas_for_improvement_have_actions(load):
    load()
    visit = _audit(VISIT_2021, date(2021, 11, 22))
    actions = action_rules.actions_of_audit(visit)
    by_theme = Counter((a.finding.theme, a.plan_priority.title) for a in actions)
    assert by_theme == {("referral_quality", "Front door"): 2, ("multi_agency_working", "Multi-agency working"): 2}
    assert all(a.finding.kind is FindingKind.AREA_FOR_IMPROVEMENT for a in actions)
    assert all(a.approved_by == "Practice and Development Board" and a.approved_on == date(2021, 12, 14) for a in actions)
    assert {a.plan_priority.plan.title for a in actions} == {VISIT_2021_PLAN}
    assert {a.service.name for a in actions} == {"Initial Response Team", "Multi-Agency Safeguarding Hub (MASH)"}


def test_an_earlier_demos_follow_up_is_reopened_to_judge_progress(load, monkeypatch):
    """An earlier demo completed the November 2019 follow-up before the August visit had
    actions: a QA lead reopens it once, and its lead auditor judges their progress."""
    from qa_audit import demo_content
    from qa_audit.demo import JUDGE_REOPEN_REASON

    monkeypatch.setattr(demo_content, "AUGUST_2019_ACTIONS", [])
    load()
    november = _audit("Follow-up targeted visit to the MASH", date(2019, 11, 12))
    assert november.status is AuditStatus.COMPLETED
    assert not db.session.scalar(select(func.count(ProgressReview.id)))
    monkeypatch.undo()
    assert "0 audits added; 0 improvement plans and 4 actions added" in load()
    db.session.expire_all()
    assert november.status is AuditStatus.COMPLETED and november.reopen_reason == JUDGE_REOPEN_REASON
    assert november.completed_at.date() == date(2019, 11, 19)
    assert db.session.scalar(select(func.count(ProgressReview.id)).where(ProgressReview.audit_id == november.id)) == 4
    counts = _counts()
    load()
    assert _counts() == counts


def test_actions_are_in_the_history_as_the_demo_users(load):
    load()
    for entity in ("plan", "plan_priority", "measure", "measure_value", "action", "action_update", "progress_review"):
        users = set(db.session.scalars(select(HistoryEntry.user_id).where(HistoryEntry.entity == entity, HistoryEntry.event == "create")))
        assert users and None not in users, entity
    # Progress by the owner, sign-off by someone else, each as themselves.
    action = db.session.scalars(select(Action).where(Action.title == "Launch an online referral form for partner agencies")).one()
    authors = [(u.kind, u.author.email.split("@")[0]) for u in action.updates]
    assert authors == [(UpdateKind.PROGRESS, "team.manager"), (UpdateKind.PROGRESS, "team.manager"), (UpdateKind.VERIFIED, "hos.front.door")]
    assert db.session.scalar(select(func.count(ActionUpdate.id)).where(ActionUpdate.author_id.is_(None))) == 0


def test_the_tracker_and_my_actions_show_for_demo_users(load, app, pin_today):
    from qa_audit.demo import DEMO_PASSWORD

    today = pin_today(date(2026, 11, 24))
    load()
    annual = _annual_plan(today)
    plans = db.session.scalars(select(ImprovementPlan)).all()
    november = _audit("Follow-up targeted visit to the MASH", date(2019, 11, 12))
    for login in ("hos.front.door", "team.manager", "board.member", "qa.officer", "dfe.adviser"):
        client = app.test_client()
        assert sign_in(client, f"{login}@demo.qa-audit.test", DEMO_PASSWORD).status_code == 302, login
        for plan in plans:
            assert client.get(f"/plans/{plan.id}").status_code == 200, (login, plan.title)
        mine = client.get("/my-actions")
        assert mine.status_code == 200, login
        owned = db.session.scalars(select(Action).where(Action.owner_id == _user(login).id)).all()
        assert owned and all(a.title.replace("'", "&#39;") in mine.get_data(as_text=True) for a in owned), login
        assert client.get(f"/actions/{owned[0].id}").status_code == 200
    tracker = client.get(f"/plans/{annual.id}").get_data(as_text=True)
    assert "Voice of the child" in tracker and "Agency social workers" in tracker
    # The head of service's sign-off list, and the follow-up's judgements.
    head = app.test_client()
    sign_in(head, "hos.front.door@demo.qa-audit.test", DEMO_PASSWORD)
    sign_off = head.get("/actions/sign-off")
    assert sign_off.status_code == 200
    assert "Monthly wellbeing sessions for the Reception Teams" in sign_off.get_data(as_text=True)
    follow_up = head.get(f"/audits/{november.id}/follow-up")
    assert follow_up.status_code == 200 and "Insufficient progress" in follow_up.get_data(as_text=True)
    sent_back = db.session.scalars(select(ActionUpdate).where(ActionUpdate.kind == UpdateKind.SENT_BACK)).one()
    page = head.get(f"/actions/{sent_back.action_id}").get_data(as_text=True)
    assert "Sent back" in page and "Include every leaver" in page
