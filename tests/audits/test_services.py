"""The rules of the audit programme, tested through the services."""

from datetime import date

import pytest
from sqlalchemy import select

from qa_audit.audits import services
from qa_audit.audits import question_sets as question_set_rules
from qa_audit.audits import series as series_rules
from qa_audit.audits.models import Agency, Audit, AuditSeries, AuditStatus, Frequency
from qa_audit.errors import Conflict, InvalidInput, NotAllowed
from qa_audit.extensions import db
from qa_audit.history.models import HistoryEntry


def _data(lead, service, **overrides):
    data = {
        "type": "targeted_visit",
        "title": "Targeted visit to the MASH",
        "service_id": service.id,
        "scheduled_for": date(2026, 11, 12),
        "lead_auditor_id": lead.id,
    }
    data.update(overrides)
    return data


def test_schedule_a_multi_agency_visit_with_parts(make_user, make_service):
    lead = make_user("head_of_service")
    other = make_user("auditor")
    service = make_service("MASH")
    visit = services.schedule_audit(
        _data(lead, service, auditor_ids=[other.id, lead.id], agencies=["police", "health", "police"], purpose="Assurance of decision-making")
    )
    assert visit.status is AuditStatus.PLANNED and visit.version == 1
    assert visit.auditor_ids == [other.id]  # the lead is not listed twice
    assert visit.agencies == [Agency.POLICE, Agency.HEALTH] or set(visit.agencies) == {Agency.POLICE, Agency.HEALTH}
    part = services.schedule_audit(_data(lead, service, type="focus_group", title="Focus group: MASH social workers", parent_id=visit.id))
    assert part.parent_id == visit.id and visit.children == [part]
    follow_up = services.schedule_audit(_data(lead, service, follow_up_of_id=visit.id, scheduled_for=date(2019, 11, 12)))
    assert follow_up.follow_up_of_id == visit.id  # past dates are accepted


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"type": "inspection"}, "type"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "bad\x07title"}, "title"),
        ({"service_id": 999}, "service_id"),
        ({"scheduled_for": None}, "scheduled_for"),
        ({"lead_auditor_id": None}, "lead_auditor_id"),
        ({"agencies": ["fire_brigade"]}, "agencies"),
        ({"parent_id": 999}, "parent_id"),
        ({"follow_up_of_id": 999}, "follow_up_of_id"),
        ({"question_set_id": 999}, "question_set_id"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(make_user, make_service, overrides, field):
    lead, service = make_user("auditor"), make_service()
    with pytest.raises(InvalidInput) as error:
        services.schedule_audit(_data(lead, service, **overrides))
    assert field in error.value.errors
    assert db.session.scalar(select(db.func.count(Audit.id))) == 0


@pytest.mark.parametrize("role, active", [("viewer", True), ("admin", True), ("auditor", False)])
def test_lead_auditor_must_be_an_active_auditing_user(make_user, make_service, role, active):
    lead = make_user(role, active=active)
    with pytest.raises(InvalidInput) as error:
        services.schedule_audit(_data(lead, make_service()))
    assert "lead_auditor_id" in error.value.errors


def test_question_set_only_for_dip_samples(make_user, make_service, make_question_set):
    qs = make_question_set()
    with pytest.raises(InvalidInput) as error:
        services.schedule_audit(_data(make_user(), make_service(), type="focus_group", question_set_id=qs.id))
    assert "question_set_id" in error.value.errors


def test_a_visit_cannot_be_part_of_a_visit(make_audit, make_user, make_service):
    visit = make_audit("targeted_visit")
    with pytest.raises(InvalidInput):
        services.schedule_audit(_data(make_user(), make_service(), parent_id=visit.id))


def test_status_machine(make_audit, make_user):
    qa_lead = make_user("qa_lead")
    audit = make_audit("focus_group")
    lead = audit.lead_auditor
    services.change_status(audit, "in_progress", lead)
    assert audit.status is AuditStatus.IN_PROGRESS and audit.started_at
    with pytest.raises(Conflict):
        services.change_status(audit, "planned", qa_lead)
    services.change_status(audit, "completed", lead)
    assert audit.completed_at
    with pytest.raises(NotAllowed):
        services.change_status(audit, "in_progress", lead, reason="Forgot a finding")  # only a QA lead reopens
    with pytest.raises(InvalidInput) as error:
        services.change_status(audit, "in_progress", qa_lead)
    assert "reason" in error.value.errors
    services.change_status(audit, "in_progress", qa_lead, reason="A finding was missed")
    assert audit.status is AuditStatus.IN_PROGRESS and audit.reopen_reason == "A finding was missed"
    with pytest.raises(InvalidInput):
        services.change_status(audit, "cancelled", qa_lead)
    services.change_status(audit, "cancelled", qa_lead, reason="Team restructured")
    with pytest.raises(Conflict):
        services.change_status(audit, "in_progress", qa_lead, reason="x")
    events = db.session.scalars(select(HistoryEntry.changes).where(HistoryEntry.entity == "audit", HistoryEntry.event == "update")).all()
    assert any(change.get("status") == ["completed", "in_progress"] for change in events)


def test_other_users_cannot_start_an_audit(make_audit, make_user):
    audit = make_audit()
    with pytest.raises(NotAllowed):
        services.change_status(audit, "in_progress", make_user("auditor"))
    with pytest.raises(NotAllowed):
        services.change_status(audit, "cancelled", audit.lead_auditor, reason="x")


def test_dip_sample_needs_a_question_set_to_start(make_audit, make_user):
    audit = make_audit("dip_sample", question_set_id=None)
    with pytest.raises(Conflict):
        services.change_status(audit, "in_progress", audit.lead_auditor)


def test_stale_version_is_a_conflict_and_changes_nothing(make_audit):
    audit = make_audit()
    data = services.audit_values(audit)
    services.update_audit(audit, {**data, "title": "First edit"}, version=1)
    with pytest.raises(Conflict):
        services.update_audit(audit, {**data, "title": "Second edit"}, version=1)
    db.session.refresh(audit)
    assert audit.title == "First edit" and audit.version == 2


def test_completed_audit_cannot_be_edited(make_audit):
    audit = make_audit(status="completed")
    with pytest.raises(Conflict):
        services.update_audit(audit, {"title": "Changed"}, version=audit.version)


def test_history_records_auditors_and_agencies(make_audit, make_user):
    audit = make_audit()
    helper = make_user("auditor")
    services.update_audit(audit, {"auditor_ids": [helper.id], "agencies": ["education"]}, version=audit.version)
    change = db.session.scalars(
        select(HistoryEntry.changes).where(HistoryEntry.entity == "audit", HistoryEntry.event == "update")
    ).all()[-1]
    assert change["auditors"] == [[], [helper.id]]
    assert change["agency_rows"] == [[], ["education"]]


def test_series_dates():
    assert series_rules.series_dates(Frequency.MONTHLY, date(2026, 1, 31), ends_on=date(2026, 4, 30), occurrences=None, interval_weeks=None) == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)
    ]
    assert series_rules.series_dates(Frequency.QUARTERLY, date(2026, 4, 1), ends_on=None, occurrences=4, interval_weeks=None) == [
        date(2026, 4, 1), date(2026, 7, 1), date(2026, 10, 1), date(2027, 1, 1)
    ]
    assert series_rules.series_dates(Frequency.WEEKLY, date(2026, 1, 1), ends_on=date(2026, 2, 1), occurrences=None, interval_weeks=2) == [
        date(2026, 1, 1), date(2026, 1, 15), date(2026, 1, 29)
    ]


def _series_data(lead, service, **overrides):
    data = {
        "type": "dip_sample",
        "title": "Locality strategy meetings: multi-agency attendance",
        "service_id": service.id,
        "lead_auditor_id": lead.id,
        "frequency": "monthly",
        "starts_on": date(2026, 4, 15),
        "ends_on": date(2027, 3, 31),
    }
    data.update(overrides)
    return data


def test_series_creates_audits_and_edits_reach_only_future_unstarted_ones(make_user, make_service, make_question_set):
    lead, service = make_user("auditor"), make_service()
    qs = make_question_set()
    series = series_rules.create_series(_series_data(lead, service, question_set_id=qs.id))
    assert len(series.audits) == 12
    started = series.audits[8]  # December 2026
    services.change_status(started, "in_progress", lead)
    new_lead = make_user("qa_lead")
    on = date(2026, 11, 24)
    series_rules.update_series(
        series, _series_data(new_lead, service, question_set_id=qs.id, title="Renamed", ends_on=date(2027, 1, 31)), version=series.version, on=on
    )
    audits = db.session.scalars(select(Audit).where(Audit.series_id == series.id).order_by(Audit.scheduled_for)).all()
    past = [a for a in audits if a.scheduled_for < on]
    assert all(a.title != "Renamed" and a.lead_auditor_id == lead.id for a in past)
    assert started.title != "Renamed" and started.status is AuditStatus.IN_PROGRESS
    jan = [a for a in audits if a.scheduled_for == date(2027, 1, 15)][0]
    assert jan.title == "Renamed" and jan.lead_auditor_id == new_lead.id
    assert all(a.status is AuditStatus.CANCELLED for a in audits if a.scheduled_for > date(2027, 1, 31))

    cancelled = series_rules.cancel_series(series, "Replaced by a quarterly audit", on=on)
    assert cancelled == 1  # only January was still planned in the future
    assert started.status is AuditStatus.IN_PROGRESS


def test_series_bad_input(make_user, make_service):
    lead, service = make_user(), make_service()
    for overrides, field in [
        ({"frequency": "daily"}, "frequency"),
        ({"ends_on": date(2026, 1, 1)}, "ends_on"),
        ({"ends_on": None}, "ends_on"),
        ({"frequency": "weekly", "interval_weeks": 0}, "interval_weeks"),
        ({"ends_on": None, "occurrences": 500}, "occurrences"),
    ]:
        with pytest.raises(InvalidInput) as error:
            series_rules.create_series(_series_data(lead, service, type="focus_group", **overrides))
        assert field in error.value.errors, overrides
    assert db.session.scalar(select(db.func.count(AuditSeries.id))) == 0


def test_question_set_in_use_gets_a_new_version(make_audit, make_question_set):
    qs = make_question_set("Younger children", ["Were medical investigations undertaken?"])
    started = make_audit("dip_sample", question_set_id=qs.id, status="in_progress")
    planned = make_audit("dip_sample", question_set_id=qs.id)
    new = question_set_rules.update_question_set(qs, "Younger children", ["Were medical investigations undertaken?", "Was a strategy meeting held?"], version=qs.version)
    assert new.id != qs.id and new.version_number == 2 and new.lineage_id == qs.id
    assert [q.text for q in qs.questions] == ["Were medical investigations undertaken?"]
    assert started.question_set_id == qs.id and planned.question_set_id == new.id
    with pytest.raises(Conflict):
        question_set_rules.update_question_set(qs, "x", ["y"], version=qs.version)


def test_question_set_not_in_use_is_edited_in_place(make_question_set):
    qs = make_question_set("Repeated contacts", ["Was the contact from family?"])
    same = question_set_rules.update_question_set(qs, "Repeated contacts", ["Was the contact from friends or family?", "Was it repeated?"], version=qs.version)
    assert same.id == qs.id and [q.text for q in same.questions] == ["Was the contact from friends or family?", "Was it repeated?"]


def test_retired_question_set_cannot_be_chosen(make_user, make_service, make_question_set):
    qs = question_set_rules.retire_question_set(make_question_set())
    with pytest.raises(InvalidInput):
        services.schedule_audit(_data(make_user(), make_service(), type="dip_sample", question_set_id=qs.id))
    assert qs not in question_set_rules.usable_question_sets()


def test_question_set_needs_questions():
    with pytest.raises(InvalidInput) as error:
        question_set_rules.create_question_set("Empty", ["", "  "])
    assert "questions" in error.value.errors


@pytest.mark.parametrize("value", ["²", "abc", str(2**40), "-1", "0"])
def test_implausible_ids_are_field_errors_not_database_errors(make_user, make_service, value):
    with pytest.raises(InvalidInput) as error:
        services.schedule_audit(_data(make_user(), make_service(), service_id=value, parent_id=value))
    assert {"service_id", "parent_id"} <= set(error.value.errors)


def test_a_visit_with_parts_stays_a_visit(make_audit):
    visit = make_audit("targeted_visit")
    make_audit("focus_group", parent_id=visit.id)
    with pytest.raises(InvalidInput) as error:
        services.update_audit(visit, {"type": "focus_group"}, version=visit.version)
    assert "type" in error.value.errors


def test_question_text_changes_are_in_the_history(make_question_set):
    qs = make_question_set("Repeated contacts", ["Was the contact from family?"])
    question_id = qs.questions[0].id
    question_set_rules.update_question_set(qs, "Repeated contacts", ["Was the contact from friends or family?"], version=qs.version)
    change = db.session.scalars(
        select(HistoryEntry.changes).where(HistoryEntry.entity == "question", HistoryEntry.entity_id == question_id, HistoryEntry.event == "update")
    ).one()
    assert change["text"] == ["Was the contact from family?", "Was the contact from friends or family?"]


def test_editing_a_series_does_not_bring_back_a_cancelled_audit(make_user, make_service):
    lead, service = make_user("auditor"), make_service()
    series = series_rules.create_series(_series_data(lead, service, type="focus_group", ends_on=date(2027, 3, 31)))
    on = date(2026, 11, 24)
    january = next(a for a in series.audits if a.scheduled_for == date(2027, 1, 15))
    services.change_status(january, "cancelled", make_user("qa_lead"), reason="Team away")
    series_rules.update_series(series, _series_data(lead, service, type="focus_group", title="Renamed"), version=series.version, on=on)
    on_that_day = db.session.scalars(select(Audit).where(Audit.series_id == series.id, Audit.scheduled_for == date(2027, 1, 15))).all()
    assert len(on_that_day) == 1 and on_that_day[0].status is AuditStatus.CANCELLED
