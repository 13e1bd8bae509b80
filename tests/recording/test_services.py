"""Recording rules: sampled cases, answers, compliance (checked against a hand
calculation), and the details of focus groups and strategy meeting audits."""

from datetime import date

import pytest

from qa_audit.audits import services as audit_services
from qa_audit.errors import Conflict, InvalidInput, NotAllowed
from qa_audit.recording import services
from qa_audit.recording.models import AnswerValue


@pytest.fixture
def dip_sample(make_audit, make_question_set):
    qs = make_question_set("Locality strategy meetings", ["Held within timescale?", "Police attended?", "Health attended?"])
    return make_audit("dip_sample", question_set_id=qs.id, status="in_progress")


def _ids(audit):
    return [q.id for q in audit.question_set.questions]


def test_cases_and_compliance_match_a_hand_calculation(dip_sample):
    lead = dip_sample.lead_auditor
    q1, q2, q3 = _ids(dip_sample)
    grid = {
        "CIN/001": {q1: "met", q2: "met", q3: "not_applicable"},
        "CIN/002": {q1: "partially_met", q2: "not_met", q3: "not_applicable"},
        "CIN/003": {q1: "met", q2: "met", q3: "met"},
    }
    for reference, answers in grid.items():
        services.add_case(dip_sample, lead, reference, {str(k): v for k, v in answers.items()})
    result = services.compliance(dip_sample)
    # q1: 2 met of 3 counted = 66.7; q2: 2 of 3 = 66.7; q3: 1 of 1 (two n/a excluded) = 100.0
    assert [q["compliance"] for q in result["questions"]] == [66.7, 66.7, 100.0]
    assert result["questions"][2]["not_applicable"] == 2
    # overall: 5 met of 7 counted = 71.4
    assert result["overall"] == 71.4


def test_rounding_is_half_up():
    assert services.percentage(1, 8) == 12.5
    assert services.percentage(1, 16) == 6.3  # 6.25 → 6.3, not banker's 6.2
    assert services.percentage(0, 0) is None


def test_a_name_is_not_a_case_reference(dip_sample):
    for bad in ["Jane Smith", "", "ab", "x" * 40]:
        with pytest.raises(InvalidInput) as error:
            services.add_case(dip_sample, dip_sample.lead_auditor, bad)
        assert "case_reference" in error.value.errors


def test_duplicate_case_in_one_sample(dip_sample):
    services.add_case(dip_sample, dip_sample.lead_auditor, "12345")
    with pytest.raises(InvalidInput) as error:
        services.add_case(dip_sample, dip_sample.lead_auditor, "12345")
    assert "already in this sample" in error.value.errors["case_reference"][0]


def test_cannot_complete_with_unanswered_questions(dip_sample):
    lead = dip_sample.lead_auditor
    q1, q2, q3 = _ids(dip_sample)
    case = services.add_case(dip_sample, lead, "12345", {str(q1): "met"})
    with pytest.raises(Conflict, match="2 answers are still missing"):
        audit_services.change_status(dip_sample, "completed", lead)
    services.answer(case, lead, q2, "not_met")
    services.answer(case, lead, q3, "met")
    services.answer(case, lead, q3, "partially_met", notes="Changed after checking the file")
    assert [a.value for a in sorted(case.answers, key=lambda a: a.question_id)][2] is AnswerValue.PARTIALLY_MET
    audit_services.change_status(dip_sample, "completed", lead)


def test_only_the_audits_people_record_and_only_while_in_progress(dip_sample, make_user, make_audit):
    with pytest.raises(NotAllowed):
        services.add_case(dip_sample, make_user("auditor"), "12345")
    planned = make_audit("dip_sample")
    with pytest.raises(Conflict):
        services.add_case(planned, planned.lead_auditor, "12345")
    focus_group = make_audit("focus_group", status="in_progress")
    with pytest.raises(Conflict):
        services.add_case(focus_group, focus_group.lead_auditor, "12345")


def test_focus_group_details(make_audit):
    audit = make_audit("focus_group", status="in_progress")
    details = services.save_details(
        audit,
        audit.lead_auditor,
        {"participants_count": 8, "participant_roles": "MASH social workers", "themes": "Supervision, workload", "assurance_statement": "Supervision is sufficient."},
    )
    assert details.participants_count == 8
    with pytest.raises(InvalidInput):
        services.save_details(audit, audit.lead_auditor, {"participants_count": -1})


def test_strategy_meeting_details_and_attendance(make_audit):
    audits = []
    for invited, attended in [
        (["police", "health", "education"], ["police", "health"]),
        (["police", "health"], ["police", "health"]),
    ]:
        audit = make_audit("strategy_meeting_audit", status="in_progress")
        services.save_details(
            audit,
            audit.lead_auditor,
            {
                "meeting_date": date(2026, 11, 3),
                "agencies_invited": invited,
                "agencies_attended": attended,
                "within_timescale": True,
                "chairing_quality": "good",
                "agency_contributions": {"police": "good", "health": "outstanding"},
                "decision_recorded": True,
            },
        )
        audits.append(audit)
    from sqlalchemy import select

    from qa_audit.audits.models import Audit

    summary = {row["agency"]: row for row in services.attendance_by_agency(select(Audit))}
    assert summary["police"]["rate"] == 100.0
    assert summary["education"]["invited"] == 1 and summary["education"]["attended"] == 0
    with pytest.raises(InvalidInput) as error:
        services.save_details(audits[0], audits[0].lead_auditor, {"agencies_invited": ["fire_brigade"], "chairing_quality": "superb"})
    assert {"agencies_invited", "chairing_quality"} <= set(error.value.errors)
