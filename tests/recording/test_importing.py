"""Batches on a dip sample: reading CSV files and pasted lists, adding many cases in
one go (all or nothing), random draws (reproducible, stratified, leaving out cases
audited recently) and saving the grid of answers."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from qa_audit.errors import Conflict, InvalidInput, NotAllowed
from qa_audit.extensions import db
from qa_audit.history.models import HistoryEntry
from qa_audit.recording import grid, importing, services
from qa_audit.recording.grid import CaseInput, GridConflict
from qa_audit.recording.importing import CaseRow, RowProblems
from qa_audit.recording.models import Answer, AnswerValue, SampledCase


@pytest.fixture
def dip_sample(make_audit, make_question_set):
    questions = make_question_set("Younger children", ["Medical investigations undertaken?", "Child seen alone?", "Strategy meeting held?"])
    return make_audit("dip_sample", question_set_id=questions.id, status="in_progress")


def _cases(audit) -> list[str]:
    return list(db.session.scalars(select(SampledCase.case_reference).where(SampledCase.audit_id == audit.id).order_by(SampledCase.id)))


def _case_list(count: int, teams=("Locality North", "Locality South", "MASH")) -> str:
    lines = ["reference,team,age_band,worker"]
    for n in range(1, count + 1):
        lines.append(f"CIN/{n:04d},{teams[n % len(teams)]},{'0-4' if n % 2 else '5-9'},Worker {n % 7}")
    return "\n".join(lines) + "\n"


# Reading files ------------------------------------------------------------------------


def test_read_upload_accepts_utf8_with_or_without_a_byte_order_mark():
    assert importing.read_upload(io.BytesIO("reference\nCIN/001\n".encode())) == "reference\nCIN/001\n"
    assert importing.read_upload(io.BytesIO("\ufeffreference\r\nCIN/001\r\n".encode())) == "reference\r\nCIN/001\r\n"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"x" * (importing.MAX_UPLOAD_BYTES + 1), "must be smaller than 1MB"),
        (b"", "is empty"),
        (b"  \n\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "must be a CSV"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook"),
        ("reference\nCIN/001,Équipe\n".encode("latin-1"), "saved as UTF-8"),
        ("reference\n".encode("utf-16"), "must be a CSV"),
        (b"reference\nCIN/001\x07\n", "must be a CSV"),
    ],
)
def test_read_upload_refuses_what_is_not_a_small_csv(data, message):
    with pytest.raises(InvalidInput) as error:
        importing.read_upload(io.BytesIO(data))
    assert message in error.value.errors["file"][0]


def test_read_upload_reads_no_more_than_it_needs():
    class Endless(io.RawIOBase):
        read_sizes = []

        def read(self, size=-1):
            self.read_sizes.append(size)
            return b"a" * size

    with pytest.raises(InvalidInput):
        importing.read_upload(Endless())
    assert Endless.read_sizes == [importing.MAX_UPLOAD_BYTES + 1]


def test_parse_csv_reads_headings_loosely_and_counts_lines_as_the_file_does():
    text = 'Case Reference,Team,Age band,Worker,Child name\n\nCIN/001,MASH,0-4,A Khan,Never stored\n"CIN/002","Locality, North",,B Jones\n'
    rows = importing.parse_csv(text)
    assert [(r.line, r.reference, r.team, r.age_band, r.worker) for r in rows] == [
        (3, "CIN/001", "MASH", "0-4", "A Khan"),
        (4, "CIN/002", "Locality, North", None, "B Jones"),
    ]
    assert rows[0].description() == "Team: MASH. Age band: 0-4. Worker: A Khan."


def test_parse_csv_reports_a_row_with_too_many_values():
    rows = importing.parse_csv("reference,team\nCIN/001,Locality, North\nCIN/002,MASH\n")
    assert rows[0].problem and "more values than there are column headings" in rows[0].problem
    assert rows[1].problem is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("team,worker\nMASH,A Khan\n", "column headings, including one called reference"),
        ("reference,team,Reference\nCIN/001,MASH,x\n", "more than one column called reference"),
        ("\n\n", "is empty"),
    ],
)
def test_parse_csv_refuses_a_file_without_a_reference_column(text, message):
    with pytest.raises(InvalidInput) as error:
        importing.parse_csv(text)
    assert message in error.value.errors["file"][0]


def test_parse_pasted_skips_blank_lines_and_a_heading_but_keeps_line_numbers():
    rows = importing.parse_pasted("Reference\nCIN/001\n\n  CIN/002  \r\nJane Smith\n")
    assert [(r.line, r.reference) for r in rows] == [(2, "CIN/001"), (4, "CIN/002"), (5, "Jane Smith")]


# Adding many cases -----------------------------------------------------------------------


def test_add_cases_adds_every_row_in_one_go_with_history(dip_sample):
    rows = importing.parse_csv("reference,team,age_band\nCIN/001,MASH,0-4\nCIN/002,,\n")
    importing.add_cases(dip_sample, dip_sample.lead_auditor, rows, field_name="file")
    assert _cases(dip_sample) == ["CIN/001", "CIN/002"]
    notes = db.session.scalar(select(SampledCase.notes).where(SampledCase.case_reference == "CIN/001"))
    assert notes == "Team: MASH. Age band: 0-4."
    created = db.session.scalar(select(func.count()).select_from(HistoryEntry).where(HistoryEntry.entity == "sampled_case", HistoryEntry.event == "create"))
    assert created == 2


def test_one_bad_row_saves_nothing_and_every_bad_row_is_reported(dip_sample):
    services.add_case(dip_sample, dip_sample.lead_auditor, "CIN/009")
    text = "reference,team\nCIN/001,MASH\nJane Smith,MASH\nCIN/003,MASH\nCIN/001,MASH\nCIN/009,MASH\nCIN/010,Locality, North\n"
    with pytest.raises(RowProblems) as error:
        importing.add_cases(dip_sample, dip_sample.lead_auditor, importing.parse_csv(text), field_name="file")
    problems = {p.line: p.message for p in error.value.problems}
    assert set(problems) == {3, 5, 6, 7}
    assert "not a name" in problems[3]
    assert problems[5] == "Case CIN/001 is also on line 2"
    assert problems[6] == "Case CIN/009 is already in this sample"
    assert "more values than there are column headings" in problems[7]
    assert "4 rows have problems" in error.value.errors["file"][0]
    assert _cases(dip_sample) == ["CIN/009"]  # nothing of the file was saved


def test_a_single_bad_row_is_named_in_the_message(dip_sample):
    rows = importing.parse_pasted("CIN/001\nJane Smith")
    with pytest.raises(RowProblems) as error:
        importing.add_cases(dip_sample, dip_sample.lead_auditor, rows)
    assert error.value.errors["references"][0].startswith("Line 2: Enter a case reference from the case system")
    assert _cases(dip_sample) == []


def test_an_optional_column_too_long_is_a_bad_row(dip_sample):
    rows = [CaseRow(line=2, reference="CIN/001", worker="x" * 101)]
    with pytest.raises(RowProblems) as error:
        importing.add_cases(dip_sample, dip_sample.lead_auditor, rows)
    assert "Worker must be 100 characters or fewer" in error.value.problems[0].message


def test_add_cases_keeps_the_rules_of_add_case(dip_sample, make_user, make_audit):
    rows = [CaseRow(line=1, reference="CIN/001")]
    with pytest.raises(NotAllowed):
        importing.add_cases(dip_sample, make_user("auditor"), rows)
    with pytest.raises(Conflict):
        importing.add_cases(make_audit("dip_sample", lead=dip_sample.lead_auditor), dip_sample.lead_auditor, rows)  # planned
    focus_group = make_audit("focus_group", status="in_progress")
    with pytest.raises(Conflict):
        importing.add_cases(focus_group, focus_group.lead_auditor, rows)
    with pytest.raises(InvalidInput):
        importing.add_cases(dip_sample, dip_sample.lead_auditor, [])
    too_many = [CaseRow(line=n, reference=f"CIN/{n:05d}") for n in range(1, importing.MAX_CASES_AT_ONCE + 2)]
    with pytest.raises(InvalidInput, match="up to 1,000 cases"):
        importing.add_cases(dip_sample, dip_sample.lead_auditor, too_many)
    assert _cases(dip_sample) == []


# Random draws ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sizes, number, expected",
    [
        ([50, 30, 20], 10, [5, 3, 2]),
        ([90, 5, 5], 10, [8, 1, 1]),  # proportional would give 9, 0.5, 0.5: at least one each
        ([97, 2, 1], 3, [1, 1, 1]),
        ([97, 2, 1], 2, [2, 0, 0]),  # fewer than the strata: proportional only
        ([1, 1, 1, 1], 4, [1, 1, 1, 1]),
        ([3, 3, 3], 9, [3, 3, 3]),
        ([10, 10, 10], 5, [2, 2, 1]),
    ],
)
def test_allocate_is_proportional_with_at_least_one_from_each_stratum(sizes, number, expected):
    counts = importing.allocate(sizes, number)
    assert counts == expected
    assert sum(counts) == number and all(c <= s for c, s in zip(counts, sizes))


def test_a_draw_is_reproducible_from_its_seed():
    rows = importing.parse_csv(_case_list(240))
    first = importing.draw(rows, 12, seed=12345)
    assert importing.draw(rows, 12, seed=12345) == first
    assert importing.draw(rows, 12, seed=54321) != first
    assert len({row.reference for row in first}) == 12
    assert [row.line for row in first] == sorted(row.line for row in first)


def test_a_stratified_draw_takes_each_stratums_share():
    rows = importing.parse_csv(_case_list(100, teams=["MASH"] * 7 + ["Locality North"] * 2 + ["Disabled children"]))
    sizes = Counter(row.team for row in rows)
    assert sizes == {"MASH": 70, "Locality North": 20, "Disabled children": 10}
    drawn = importing.draw(rows, 10, seed=7, stratify_by="team")
    assert Counter(row.team for row in drawn) == {"MASH": 7, "Locality North": 2, "Disabled children": 1}
    drawn = importing.draw(rows, 3, seed=7, stratify_by="team")
    assert Counter(row.team for row in drawn) == {"MASH": 1, "Locality North": 1, "Disabled children": 1}
    assert importing.draw(rows, 10, seed=7, stratify_by="team") == importing.draw(rows, 10, seed=7, stratify_by="team")


def test_draw_cases_adds_the_drawn_cases_and_records_the_seed(dip_sample):
    rows = importing.parse_csv(_case_list(240))
    drawn = importing.draw_cases(dip_sample, dip_sample.lead_auditor, rows, 10, seed=12345)
    assert drawn.seed == 12345 and drawn.eligible == 240 and drawn.left_out == 0
    assert _cases(dip_sample) == [row.reference for row in importing.draw(rows, 10, seed=12345)]
    notes = db.session.scalars(select(SampledCase.notes).where(SampledCase.audit_id == dip_sample.id)).all()
    assert all(note.startswith("Drawn at random, seed 12345, from 240 cases.") for note in notes)


def test_draw_cases_chooses_a_seed_when_none_is_given(dip_sample, monkeypatch):
    monkeypatch.setattr(importing.secrets, "randbelow", lambda limit: 4242 if limit == 2**31 else 0)
    drawn = importing.draw_cases(dip_sample, dip_sample.lead_auditor, importing.parse_csv(_case_list(20)), 5)
    assert drawn.seed == 4242
    assert "seed 4242" in drawn.cases[0].notes


def test_the_same_file_seed_and_options_draw_the_same_cases_for_another_audit(dip_sample, make_audit):
    other = make_audit("dip_sample", status="in_progress", lead=dip_sample.lead_auditor, question_set_id=dip_sample.question_set_id, scheduled_for=date(2028, 1, 1))
    rows = importing.parse_csv(_case_list(240))
    importing.draw_cases(dip_sample, dip_sample.lead_auditor, rows, 15, seed=99, stratify_by="team")
    importing.draw_cases(other, other.lead_auditor, rows, 15, seed=99, stratify_by="team")
    assert _cases(dip_sample) == _cases(other)


def test_draw_leaves_out_cases_already_sampled_and_audited_recently(make_audit, make_question_set, make_user):
    lead = make_user("auditor")
    questions = make_question_set()
    audit = make_audit("dip_sample", status="in_progress", lead=lead, question_set_id=questions.id, scheduled_for=date(2026, 12, 1))
    recent = make_audit("dip_sample", status="in_progress", lead=lead, question_set_id=questions.id, scheduled_for=date(2026, 7, 1))
    long_ago = make_audit("dip_sample", status="in_progress", lead=lead, question_set_id=questions.id, scheduled_for=date(2026, 5, 31))
    cancelled = make_audit("dip_sample", status="in_progress", lead=lead, question_set_id=questions.id, scheduled_for=date(2026, 11, 1))
    later = make_audit("dip_sample", status="in_progress", lead=lead, question_set_id=questions.id, scheduled_for=date(2027, 1, 1))
    services.add_case(recent, lead, "CIN/0001")
    services.add_case(long_ago, lead, "CIN/0002")
    services.add_case(cancelled, lead, "CIN/0003")
    services.add_case(later, lead, "CIN/0004")
    services.add_case(audit, lead, "CIN/0005")
    from qa_audit.audits import services as audit_services

    audit_services.change_status(cancelled, "cancelled", make_user("qa_lead"), reason="Not needed")
    assert importing.recently_audited(audit, 6) == {"CIN/0001"}  # 1 June to 1 December
    assert importing.recently_audited(audit, 7) == {"CIN/0001", "CIN/0002"}

    rows = importing.parse_csv(_case_list(6))
    drawn = importing.draw_cases(audit, lead, rows, 4, exclude_months=6, seed=1)
    assert drawn.left_out == 2 and drawn.eligible == 4
    assert set(_cases(audit)) == {"CIN/0002", "CIN/0003", "CIN/0004", "CIN/0005", "CIN/0006"}
    assert "leaving out cases audited in the 6 months before" in drawn.cases[0].notes


def test_draw_cannot_take_more_than_the_list_holds(dip_sample):
    rows = importing.parse_csv(_case_list(5))
    services.add_case(dip_sample, dip_sample.lead_auditor, "CIN/0001")
    with pytest.raises(InvalidInput) as error:
        importing.draw_cases(dip_sample, dip_sample.lead_auditor, rows, 5, seed=1)
    assert error.value.errors["number"] == ["The case list has 4 cases that can be drawn (1 are already in this sample or were audited recently): enter 4 or fewer"]
    assert _cases(dip_sample) == ["CIN/0001"]


def test_draw_checks_every_option_and_every_row_at_once(dip_sample):
    rows = importing.parse_csv("reference,team\nCIN/001,MASH\nJane Smith,MASH\n")
    with pytest.raises(RowProblems) as error:
        importing.draw_cases(dip_sample, dip_sample.lead_auditor, rows, 0, stratify_by="colour", exclude_months=500, seed=2**31)
    assert {"file", "number", "stratify_by", "exclude_months", "seed"} <= set(error.value.errors)
    assert error.value.problems[0].line == 3
    with pytest.raises(InvalidInput) as error:
        importing.draw_cases(dip_sample, dip_sample.lead_auditor, importing.parse_csv("reference\nCIN/001\n"), 1, stratify_by="worker")
    assert "no worker values" in error.value.errors["stratify_by"][0]
    assert _cases(dip_sample) == []


# The grid ----------------------------------------------------------------------------------------


def _grid(audit, answers: dict[str, dict[int, str]], notes: dict[str, str] | None = None, versions: dict | None = None):
    """The inputs the grid would post: answers by case reference and question number."""
    questions = list(audit.question_set.questions)
    cases = {case.case_reference: case for case in grid.grid_cases(audit)}
    return {
        cases[ref].id: CaseInput(
            version=(versions or {}).get(ref) or grid.case_version(cases[ref], questions),
            answers={questions[n - 1].id: value for n, value in by_number.items()},
            notes=(notes or {}).get(ref),
        )
        for ref, by_number in answers.items()
    }


def _answers(audit) -> dict[tuple[str, int], str]:
    positions = {q.id: n for n, q in enumerate(audit.question_set.questions, start=1)}
    rows = db.session.execute(
        select(SampledCase.case_reference, Answer.question_id, Answer.value).join(Answer.sampled_case).where(SampledCase.audit_id == audit.id)
    ).all()
    return {(ref, positions[qid]): value.value for ref, qid, value in rows}


def test_save_grid_writes_changed_answers_and_notes_in_one_go(dip_sample):
    lead = dip_sample.lead_auditor
    services.add_case(dip_sample, lead, "CIN/001")
    services.add_case(dip_sample, lead, "CIN/002")
    changed = grid.save_grid(
        dip_sample,
        lead,
        _grid(dip_sample, {"CIN/001": {1: "met", 2: "not_met", 3: ""}, "CIN/002": {1: "not_applicable", 2: "", 3: ""}}, notes={"CIN/001": "Checked\r\nwith the manager"}),
    )
    assert changed == 4
    assert _answers(dip_sample) == {("CIN/001", 1): "met", ("CIN/001", 2): "not_met", ("CIN/002", 1): "not_applicable"}
    assert db.session.scalar(select(SampledCase.notes).where(SampledCase.case_reference == "CIN/001")) == "Checked\nwith the manager"
    assert services.unanswered(dip_sample) == 3


def test_a_blank_cell_removes_the_answer_and_answer_notes_are_kept(dip_sample):
    lead = dip_sample.lead_auditor
    q1, q2, _ = [q.id for q in dip_sample.question_set.questions]
    case = services.add_case(dip_sample, lead, "CIN/001", {str(q1): "met", str(q2): "met"})
    services.answer(case, lead, q2, "met", notes="Seen alone at school")
    grid.save_grid(dip_sample, lead, _grid(dip_sample, {"CIN/001": {1: "", 2: "partially_met"}}))
    answer = db.session.scalar(select(Answer).where(Answer.question_id == q2))
    assert answer.value is AnswerValue.PARTIALLY_MET and answer.notes == "Seen alone at school"
    assert db.session.scalar(select(Answer).where(Answer.question_id == q1)) is None
    deleted = db.session.scalar(select(func.count()).select_from(HistoryEntry).where(HistoryEntry.entity == "answer", HistoryEntry.event == "delete"))
    assert deleted == 1


def test_save_grid_bumps_the_case_version_only_when_the_case_changed(dip_sample):
    lead = dip_sample.lead_auditor
    services.add_case(dip_sample, lead, "CIN/001")
    services.add_case(dip_sample, lead, "CIN/002")
    assert grid.save_grid(dip_sample, lead, _grid(dip_sample, {"CIN/001": {1: "met"}, "CIN/002": {1: ""}})) == 1
    versions = dict(db.session.execute(select(SampledCase.case_reference, SampledCase.version)).all())
    assert versions == {"CIN/001": 2, "CIN/002": 1}
    updates = db.session.scalar(select(func.count()).select_from(HistoryEntry).where(HistoryEntry.entity == "sampled_case", HistoryEntry.event == "update"))
    assert updates == 0  # the version alone is not a change worth recording


def test_someone_elses_change_is_a_conflict_and_nothing_is_saved(dip_sample):
    lead = dip_sample.lead_auditor
    q1 = dip_sample.question_set.questions[0].id
    services.add_case(dip_sample, lead, "CIN/001")
    services.add_case(dip_sample, lead, "CIN/002")
    shown = _grid(dip_sample, {"CIN/001": {1: "", 2: ""}, "CIN/002": {1: "", 2: ""}})
    # Someone else answers question 1 of CIN/001 (one answer at a time, as the API does).
    services.answer(db.session.scalar(select(SampledCase).where(SampledCase.case_reference == "CIN/001")), lead, q1, "not_met")
    ids = {ref: cid for cid, ref in db.session.execute(select(SampledCase.id, SampledCase.case_reference)).all()}
    mine = {
        ids["CIN/001"]: CaseInput(shown[ids["CIN/001"]].version, {q1: "met"}, None),
        ids["CIN/002"]: CaseInput(shown[ids["CIN/002"]].version, {q1: "met"}, None),
    }
    with pytest.raises(GridConflict) as error:
        grid.save_grid(dip_sample, lead, mine)
    assert error.value.case_ids == [ids["CIN/001"]] and "CIN/001" in error.value.message
    assert _answers(dip_sample) == {("CIN/001", 1): "not_met"}  # CIN/002 was not saved either


def test_a_case_changed_by_someone_else_but_not_by_me_is_no_conflict(dip_sample):
    lead = dip_sample.lead_auditor
    q1 = dip_sample.question_set.questions[0].id
    services.add_case(dip_sample, lead, "CIN/001")
    services.add_case(dip_sample, lead, "CIN/002")
    shown = _grid(dip_sample, {"CIN/001": {1: ""}, "CIN/002": {1: ""}})
    services.answer(db.session.scalar(select(SampledCase).where(SampledCase.case_reference == "CIN/001")), lead, q1, "not_met")
    ids = {ref: cid for cid, ref in db.session.execute(select(SampledCase.id, SampledCase.case_reference)).all()}
    shown[ids["CIN/002"]].answers[q1] = "met"
    grid.save_grid(dip_sample, lead, shown)  # CIN/001 is sent as it was shown: left alone
    assert _answers(dip_sample) == {("CIN/001", 1): "not_met", ("CIN/002", 1): "met"}


def test_save_grid_checks_values_and_who_saves(dip_sample, make_user, make_audit):
    lead = dip_sample.lead_auditor
    services.add_case(dip_sample, lead, "CIN/001")
    with pytest.raises(InvalidInput) as error:
        grid.save_grid(dip_sample, lead, _grid(dip_sample, {"CIN/001": {1: "excellent"}}, notes={"CIN/001": "x" * 10001}))
    case_id = next(iter(_grid(dip_sample, {"CIN/001": {}})))
    q1 = dip_sample.question_set.questions[0].id
    assert error.value.errors[grid.cell_name(case_id, q1)] == ["Select met, partially met, not met or not applicable"]
    assert grid.notes_name(case_id) in error.value.errors
    with pytest.raises(NotAllowed):
        grid.save_grid(dip_sample, make_user("viewer"), _grid(dip_sample, {"CIN/001": {1: "met"}}))
    assert _answers(dip_sample) == {}
