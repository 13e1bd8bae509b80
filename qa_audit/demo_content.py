"""What the demo council's audits found and recorded, drawn from shared/seeds (FACTS.md).

Pure data: the findings, focus-group and strategy-meeting details, question sets and
the pattern of dip-sample answers. qa_audit.demo records them through the services.
Staff are described by role or by invented names; no child is named anywhere, and a
sampled case is only a case reference.
"""

from __future__ import annotations

from datetime import date


def finding(kind: str, summary: str, *, theme: str | None = None, judgement: str | None = None, evidence: str | None = None) -> dict:
    return {"kind": kind, "theme": theme, "judgement": judgement, "summary": summary, "evidence": evidence}


def strength(summary: str, **more) -> dict:
    return finding("strength", summary, **more)


def improvement(summary: str, **more) -> dict:
    return finding("area_for_improvement", summary, **more)


# Question sets ------------------------------------------------------------------
# (title, description, questions). The first three were in the first demo.

QUESTION_SETS = [
    (
        "Younger children: medical investigations",
        "Dip sample of children under two referred with injuries (seeds: dip samples, early 2022).",
        [
            "Was a child protection medical arranged when the threshold was met?",
            "Was the medical investigation undertaken within the expected timescale?",
            "Did the strategy discussion consider the medical findings?",
            "Is the outcome of the medical recorded on the child's file?",
        ],
    ),
    (
        "Locality strategy meetings: multi-agency attendance",
        "Were the right agencies at the strategy meeting, and did they contribute?",
        [
            "Was the strategy meeting held within timescale?",
            "Did police attend?",
            "Did health attend?",
            "Did education attend?",
            "Were decisions and actions recorded?",
        ],
    ),
    (
        "Repeated contacts from friends or family",
        "Contacts made by friends or family, especially repeated ones.",
        [
            "Was the contact screened within 24 hours?",
            "Was the history of previous contacts considered?",
            "Was the threshold decision proportionate?",
        ],
    ),
    (
        "Contacts and decision-making",
        "Contacts and referrals at the front door: timeliness, thresholds, partner information and management decisions.",
        [
            "Was the contact screened and a decision made within 24 hours?",
            "Was the threshold applied in line with the threshold guidance?",
            "Was information from partner agencies gathered and checked?",
            "Is the manager's decision and its rationale recorded?",
            "Was the referrer told the outcome?",
        ],
    ),
    (
        "Child protection enquiries lasting over 10 days",
        "Child protection enquiries still open after 10 working days: line of sight on risk.",
        [
            "Is the reason the enquiry has lasted over 10 days recorded?",
            "Has a manager reviewed the enquiry since day 10?",
            "Has the child been seen and spoken to alone?",
            "Is there a plan and a date for the outcome of the enquiry?",
        ],
    ),
    (
        "Children on child protection plans for 2 years or more",
        "Children on a plan for 2 years or more, tracked at regular meetings with the head of service.",
        [
            "Has the plan been reviewed at a tracking meeting with the head of service in the last three months?",
            "Are statutory visits in line with the plan?",
            "Has the core group met in the last six weeks?",
            "Is there a clear plan to step down or to escalate?",
        ],
    ),
]


# Dip-sample answers ---------------------------------------------------------------
# For each question (by position): weights of met, partially met, not met, not
# applicable; and the notes an auditor wrote against an answer that was not met.

DEFAULT_WEIGHTS = (78, 10, 6, 6)

ANSWER_PATTERNS: dict[str, dict[int, dict]] = {
    "Younger children: medical investigations": {
        1: {"weights": (80, 4, 4, 12), "not_applicable": "Bruising was explained and seen by the GP the same day; the strategy discussion agreed a medical was not needed.", "partially_met": "A medical was arranged, but only after a second discussion with the police."},
        2: {"weights": (76, 14, 6, 4), "partially_met": "Medical held on the second day: no paediatrician was available on the first.", "not_met": "The medical took place four days after the strategy discussion; no reason is recorded."},
        3: {"weights": (84, 10, 2, 4), "partially_met": "The medical findings were shared by email but not discussed at the reconvened meeting."},
        4: {"weights": (86, 8, 6, 0), "not_met": "The paediatric report is not on the file; the social worker has asked for it."},
    },
    "Locality strategy meetings: multi-agency attendance": {
        1: {"weights": (84, 8, 6, 2), "not_met": "Held on day 4 after the referral: the police could not attend earlier."},
        2: {"weights": (90, 4, 6, 0), "partially_met": "Police joined for the first half of the meeting only."},
        3: {"weights": (82, 8, 8, 2), "not_met": "No health practitioner attended; the health visitor sent a written report."},
        4: {"weights": (64, 8, 10, 18), "not_applicable": "The child is under school age and not in a nursery.", "not_met": "The school was not invited although the child attends full time."},
        5: {"weights": (88, 8, 4, 0), "partially_met": "Decisions recorded, but actions have no named owner."},
    },
    "Contacts and decision-making": {
        1: {"weights": (86, 8, 6, 0), "partially_met": "Screened on day 2 during a period of high demand."},
        2: {"weights": (88, 8, 4, 0), "partially_met": "The decision was right but the rationale does not refer to the threshold guidance."},
        3: {"weights": (70, 20, 10, 0), "partially_met": "The referral lacked background; the MASH gathered it from health and the school.", "not_met": "The referral gave no reason for concern or background, and no partner checks were made."},
        4: {"weights": (90, 6, 4, 0), "partially_met": "A domestic abuse notification was triaged again although an assessment had already been assigned."},
        5: {"weights": (72, 10, 8, 10), "not_applicable": "Anonymous referrer.", "not_met": "No record that the referring school was told the outcome."},
    },
    "Child protection enquiries lasting over 10 days": {
        1: {"weights": (74, 14, 12, 0), "not_met": "No reason is recorded for the enquiry continuing past day 10."},
        2: {"weights": (80, 8, 12, 0), "partially_met": "Reviewed by a senior practitioner; the manager's review is due this week."},
        3: {"weights": (84, 4, 6, 6), "not_applicable": "Pre-verbal child: seen with the parent present."},
        4: {"weights": (76, 12, 12, 0), "not_met": "No date set for the outcome; escalated to the team manager."},
    },
    "Children on child protection plans for 2 years or more": {
        1: {"weights": (82, 6, 12, 0), "not_met": "Not yet discussed at a tracking meeting; added to next month's list."},
        2: {"weights": (74, 14, 12, 0), "not_met": "Visits fell behind the plan during a change of social worker."},
        3: {"weights": (72, 16, 12, 0), "partially_met": "The core group met, but the school did not attend."},
        4: {"weights": (66, 20, 14, 0), "partially_met": "Step down discussed but no date or conditions agreed."},
    },
}

# Notes written against a few sampled cases.
CASE_NOTES = [
    "Sampled from the front-door log for the week.",
    "Case transferred between teams during the period audited.",
    "Sibling group: each child's file checked.",
    "Second referral in six months.",
]


# The multi-agency partnership visit, 22 November 2021 (004) -------------------------

VISIT_2021 = {
    "title": "Multi-agency partnership visit to the Initial Response Team and MASH",
    "on": date(2021, 11, 22),
    "purpose": (
        "Assurance about the quality and compliance of work in the Initial Response Team and the Multi-Agency "
        "Safeguarding Hub. Led by the Director of Children's Services with senior officers from children's social care, "
        "the police, the clinical commissioning group, education and quality assurance. Methods: practitioner focus group, "
        "live case tracking, contact and decision-making audits, strategy meeting professional feedback, strategy meeting "
        "audits and interviews with key managers. Recommendations go into an action plan for approval at the Practice and "
        "Development Board."
    ),
    "completed_on": date(2021, 12, 3),
}

FOCUS_GROUP_2021 = {
    "title": "Practitioner focus group",
    "details": {
        "participants_count": 11,
        "participant_roles": (
            "Social workers and senior practitioners from the Reception Teams and the Initial Response Team; "
            "two MASH police officers; a MASH health practitioner; an education safeguarding officer."
        ),
        "facilitator": "Tom Hallam, Quality Assurance Officer",
        "themes": (
            "Quality of referrals from partners; thresholds and decision-making; direct work with children at the front door; "
            "domestic abuse triage; support and supervision."
        ),
        "key_messages": (
            "Practitioners are confident in threshold decisions and say managers are available and decisive. "
            "Direct work with children is routine in the Reception Teams, and practitioners were keen to share examples. "
            "Referrals from some partners lack detail, a clear purpose and background, which sometimes leads to assessments "
            "practitioners felt were unnecessary."
        ),
        "assurance_statement": (
            "The focus group gives assurance that practitioners understand and apply thresholds and that direct work is part "
            "of the rhythm of practice in the Reception Teams. The quality of partners' referrals needs to improve."
        ),
    },
    "findings": [
        strength(
            "Direct work is part of the rhythm of practice in the Reception Teams, and practitioners were keen to share it.",
            theme="voice_of_the_child", judgement="good",
            evidence="Practitioners described direct work sessions with children during assessments; examples seen on two of the tracked cases.",
        ),
        improvement(
            "Referrals into the department can lack detail, clarity about the purpose of the referral and background. "
            "This sometimes leads to assessments that practitioners felt were unnecessary.",
            theme="referral_quality", judgement="requires_improvement",
            evidence="Raised by most practitioners in the focus group; seen in three of the ten contacts tracked on the day.",
        ),
    ],
}

CONTACT_AUDIT_2021 = {
    "title": "Live case tracking: contact and decision-making audit",
    "question_set": "Contacts and decision-making",
    "cases": 10,
    "findings": [
        strength(
            "Decision-making is timely, and thresholds are fairly applied by children's social care.",
            theme="thresholds_and_decision_making", judgement="good",
            evidence="Ten contacts tracked live from receipt to decision; the threshold decision was proportionate in each.",
        ),
        improvement(
            "Domestic abuse triage can lead to duplication of input where an assessment has already been assigned.",
            theme="multi_agency_working", judgement="requires_improvement",
            evidence="Two of the contacts tracked were police domestic abuse notifications for families already allocated for assessment; both were triaged again by the Domestic Abuse Hub.",
        ),
    ],
}

# (meeting date, invited, attended, within timescale, chairing, contributions, decision recorded)
STRATEGY_MEETINGS_2021 = [
    (date(2021, 11, 16), ["social_care", "police", "health", "education"], ["social_care", "police", "health", "education"], True, "good",
     {"social_care": "good", "police": "good", "health": "good", "education": "outstanding"}, True),
    (date(2021, 11, 18), ["social_care", "police", "health"], ["social_care", "police", "health"], True, "outstanding",
     {"social_care": "outstanding", "police": "good", "health": "outstanding"}, True),
    (date(2021, 11, 19), ["social_care", "police", "health", "education"], ["social_care", "police", "health", "education"], True, "good",
     {"social_care": "good", "police": "good", "health": "requires_improvement", "education": "good"}, True),
]

STRATEGY_FINDING_2021 = strength(
    "Strategy meetings are well attended and focus on the safety of children.",
    theme="multi_agency_working", judgement="good",
    evidence=(
        "The three strategy meetings audited were held within timescale with police and health at each, and education at both "
        "meetings where the child attends school. Professional feedback from police, health and education described discussion "
        "focused on the children's safety."
    ),
)

INTERVIEWS_2021 = {
    "title": "Interviews with key managers",
    "details": {
        "participants_count": 6,
        "participant_roles": (
            "Head of service for the front door; team managers of the MASH, the Initial Response Team and the Reception Teams; "
            "the Domestic Abuse Hub manager; the MASH police detective sergeant."
        ),
        "facilitator": "Helen Carter, Director of Children's Services",
        "themes": "Management oversight at each stage; contacts persistently above 2,000 a month; quality of partners' referrals; domestic abuse triage.",
        "key_messages": (
            "Managers know their cases and their teams' pressures. Oversight is recorded at contact, referral and strategy "
            "stages, and managers challenge partners about referral quality."
        ),
        "assurance_statement": "There is good management oversight and grip at each stage of the process.",
    },
    "findings": [
        strength(
            "There is good management oversight and grip at each stage of the process.",
            theme="management_oversight", judgement="good",
            evidence="Manager interviews, confirmed by recorded management decisions on every contact tracked on the day.",
        ),
    ],
}


# The MASH visits of 2019 (000) ----------------------------------------------------------

AUGUST_2019_FINDINGS = [
    # What the November visit followed up (000 §4.8: "improvement ... following work from the August targeted visit").
    improvement("Too few referrals from partners are made in writing.", theme="referral_quality"),
    improvement("Workloads of MASH social workers are high and unstable.", theme="workload"),
    improvement("Management arrangements in the MASH are not resilient enough.", theme="management_oversight"),
]

NOVEMBER_2019_FINDINGS = [
    strength("More written referrals are now received from partners.", theme="referral_quality",
             evidence="Progress on the August visit's actions; the online referral form was launched in May 2019."),
    strength("Workload has stabilised for social workers in the MASH.", theme="workload",
             evidence="Average MASH caseload fell from 24 (March 2019) to 15 (October 2019)."),
    strength("Management arrangements in the MASH are more resilient.", theme="management_oversight"),
]

NOVEMBER_2019_PARTS = {
    "Focus group: MASH social workers": {
        "details": {
            "participants_count": 8,
            "participant_roles": "Social workers and senior practitioners in the MASH.",
            "facilitator": "Priya Chandran, Head of Children's Quality Assurance",
            "themes": "Supervision and support; workloads; co-location of the new services; all MASH teams in the Council House.",
            "key_messages": (
                "Social workers receive supervision and support of sufficient quality, and their workloads are manageable. "
                "Co-locating early help and health at the front door, with all MASH teams in the Council House, has had a positive impact."
            ),
            "assurance_statement": "Assured: supervision and support are sufficient, workloads manageable, and co-location is working.",
        },
        "findings": [
            strength("Social workers receive supervision and support of sufficient quality.", theme="supervision", judgement="good"),
            strength("Social workers in the MASH have manageable workloads.", theme="workload", judgement="good"),
            strength(
                "Co-location of the new services, and all MASH teams being in the Council House, has had a positive impact.",
                theme="multi_agency_working", judgement="good",
            ),
        ],
    },
    "Focus group: Domestic Abuse Hub": {
        "details": {
            "participants_count": 6,
            "participant_roles": "Domestic Abuse Hub social workers, triage officers and the police domestic abuse officer.",
            "facilitator": "Priya Chandran, Head of Children's Quality Assurance",
            "themes": "The LEAN review of domestic abuse triage; processing of police notifications.",
            "key_messages": "The LEAN review has made the processing of domestic abuse referrals more efficient and effective.",
            "assurance_statement": "Assured of the positive impact of the LEAN review on processing domestic abuse referrals.",
        },
        "findings": [
            strength(
                "The LEAN review has led to more efficient and effective processing of domestic abuse referrals.",
                theme="timeliness", judgement="good",
            ),
        ],
    },
    "Observed child protection strategy meeting": {
        "details": {
            "meeting_date": date(2019, 11, 12),
            "agencies_invited": ["social_care", "police", "health", "education"],
            "agencies_attended": ["social_care", "police", "health", "education"],
            "within_timescale": True,
            "chairing_quality": "outstanding",
            "agency_contributions": {"social_care": "good", "police": "good", "health": "outstanding", "education": "outstanding"},
            "decision_recorded": True,
        },
        "findings": [
            strength(
                "The quality of chairing was excellent in understanding holistic risk and facilitating decisions.",
                theme="thresholds_and_decision_making", judgement="outstanding",
            ),
            strength(
                "Health and education contributions were excellent in understanding holistic risk and facilitating decisions.",
                theme="multi_agency_working", judgement="outstanding",
            ),
        ],
    },
    "Audit of referrals (contacts)": {
        "cases": 10,
        "findings": [
            strength("Information received from partners was of satisfactory quality.", theme="referral_quality"),
            strength("Thresholds were appropriately applied.", theme="thresholds_and_decision_making", judgement="good"),
        ],
    },
}


# Dip samples reported early in 2022 (004) -------------------------------------------

DIP_SAMPLES_2021 = [
    {
        "title": "Younger children: medical investigations undertaken",
        "question_set": "Younger children: medical investigations",
        "service": "Initial Response Team",
        "on": date(2021, 12, 6),
        "completed_on": date(2021, 12, 10),
        "lead": "auditor",
        "cases": 9,
        "findings": [
            strength(
                "Medical investigations were undertaken for younger children where needed: no concerns identified.",
                theme="thresholds_and_decision_making", judgement="good",
                evidence="Practice guidance on medical investigations for younger children was re-issued as a reminder.",
            ),
        ],
    },
    {
        "title": "Locality strategy meetings: multi-agency attendance",
        "question_set": "Locality strategy meetings: multi-agency attendance",
        "service": "Locality 1",
        "on": date(2022, 1, 10),
        "completed_on": date(2022, 1, 14),
        "lead": "senior.practitioner",
        "cases": 10,
        "findings": [
            strength(
                "Locality strategy meetings have multi-agency attendance: no concerns noted.",
                theme="multi_agency_working", judgement="good",
            ),
        ],
    },
]


# This year's programme ------------------------------------------------------------

RECEPTION_FOCUS_GROUP = {
    "details": {
        "participants_count": 7,
        "participant_roles": "Social workers and senior practitioners from the Reception Teams.",
        "facilitator": "Hannah Price, Team Manager",
        "themes": "Supervision; workloads with contacts above 2,000 a month; wellbeing; learning and development.",
        "key_messages": (
            "Supervision is regular and reflective. Practitioners feel the pressure of contacts staying above 2,000 a month "
            "and value the wellbeing working group."
        ),
        "assurance_statement": "Assured about supervision; workload pressure is reported to the head of service.",
    },
    "findings": [
        strength("Supervision in the Reception Teams is regular and reflective.", theme="supervision", judgement="good"),
        improvement(
            "Practitioners report rising workloads as contacts stay above 2,000 a month.",
            theme="workload", judgement="requires_improvement",
        ),
    ],
}

ASYE_FOCUS_GROUP = {
    "details": {
        "participants_count": 9,
        "participant_roles": "Newly qualified social workers on the ASYE programme, from locality and front-door teams.",
        "facilitator": "Priya Chandran, with the Principal Social Worker",
        "themes": "Protected caseloads; supervision; the learning and development offer.",
        "key_messages": "Caseloads are protected in the first six months; the learning offer and the Principal Social Worker are valued.",
        "assurance_statement": "Assured that newly qualified social workers are supported through the ASYE programme.",
    },
    "findings": [
        strength("Newly qualified social workers have protected caseloads and value the learning offer.", theme="supervision", judgement="good"),
    ],
}

CONCERN = finding(
    "concern",
    "On a child protection plan for 27 months with no statutory visit for seven weeks, and the core group has not met since the last review.",
    theme="timeliness",
    evidence="Case CS-104871. Escalated to the team manager the same day; a visit was arranged for the next morning.",
)

# Strategy meeting audits through the year: the services they rotate through.
STRATEGY_MEETING_SERVICES = ["Locality 1", "Locality 2", "Initial Response Team", "Child Protection"]
AGENCY_NAMES = {"social_care": "children's social care", "police": "the police", "health": "health", "education": "education", "early_help": "early help"}
CHAIRING = ["good", "good", "outstanding", "good", "requires_improvement", "good"]


def strategy_meeting(index: int, meeting_date: date, *, school_age: bool | None = None) -> dict:
    """A plausible strategy meeting, varied by its place in the year: police and
    health nearly always attend, education when the child is at school."""
    school_age = index % 4 != 2 if school_age is None else school_age
    invited = ["social_care", "police", "health"] + (["education"] if school_age else []) + (["early_help"] if index % 5 == 0 else [])
    attended = ["social_care"]
    if index % 7 != 3:
        attended.append("police")
    if index % 5 != 2:
        attended.append("health")
    if school_age and index % 3 != 1:
        attended.append("education")
    if "early_help" in invited:
        attended.append("early_help")
    grades = {"social_care": "good", "police": "outstanding" if index % 3 == 0 else "good", "health": "good" if index % 4 else "requires_improvement",
              "education": "good", "early_help": "good"}
    return {
        "meeting_date": meeting_date,
        "agencies_invited": invited,
        "agencies_attended": attended,
        "within_timescale": index % 6 != 4,
        "chairing_quality": CHAIRING[index % len(CHAIRING)],
        "agency_contributions": {agency: grades[agency] for agency in attended},
        "decision_recorded": index % 8 != 5,
    }


def strategy_meeting_findings(details: dict) -> list[dict]:
    """What an auditor would write up from the meeting's details."""
    found = []
    missing = [a for a in details["agencies_invited"] if a not in details["agencies_attended"]]
    if not details["within_timescale"]:
        found.append(improvement("The strategy meeting was not held within timescale.", theme="timeliness", judgement="requires_improvement"))
    if missing:
        names = " and ".join(AGENCY_NAMES[agency] for agency in missing)
        found.append(improvement(f"{names[0].upper()}{names[1:]} did not attend although invited.", theme="multi_agency_working", judgement="requires_improvement"))
    if not details["decision_recorded"]:
        found.append(improvement("The decisions and actions of the strategy meeting were not recorded.", theme="recording", judgement="requires_improvement"))
    if not missing and details["within_timescale"] and details["decision_recorded"]:
        found.append(strength("Every agency invited attended, and the meeting focused on the child's safety.", theme="multi_agency_working", judgement="good"))
    return found


# Improvement plans and their actions (000 §4.2 and §4.8, 004) ---------------------------
# An action's story is a list of steps, each done through the actions service by the
# person who would have done it: progress from the owner (any progress starts the
# action), completion with evidence, sign-off or sending back by a manager who is not
# the owner, cancelling with a reason. Dates are the council's; in this year's plan a
# date is a number of days from today (negative: in the past), so the plan has actions
# overdue, due soon and later whatever day the demo is loaded.

MASH_BOARD = "Strategic MASH Board"
PRACTICE_BOARD = "Practice and Development Board"


def progress(on, note: str, evidence: str | None = None) -> dict:
    return {"step": "progress", "on": on, "note": note, "evidence": evidence}


def done(on, note: str, evidence: str) -> dict:
    return {"step": "completed", "on": on, "note": note, "evidence": evidence}


def signed_off(on, by: str, note: str) -> dict:
    return {"step": "verified", "on": on, "by": by, "note": note}


def sent_back(on, by: str, reason: str) -> dict:
    return {"step": "sent_back", "on": on, "by": by, "note": reason}


def cancelled(on, by: str, reason: str) -> dict:
    return {"step": "cancelled", "on": on, "by": by, "note": reason}


def action(title: str, priority: str, owner: str, due, *story: dict, level: str = "medium", raised=None, finding: str | None = None,
           judgement: tuple[str, str] | None = None) -> dict:
    """``raised``: when the board approved it (this year: days from today, the board
    meeting on or before then); ``finding``: the summary of the finding it was raised
    from; ``judgement``: what the follow-up visit judged of its progress, and why."""
    return {"title": title, "priority": priority, "owner": owner, "due": due, "story": list(story), "level": level, "raised": raised,
            "finding": finding, "judgement": judgement}


def measure(title: str, unit: str, baseline, baseline_on, target, values) -> dict:
    """``values``: (date, value, note) for a past plan; for this year's plan one value a
    month from April, recorded at each month's end that has passed."""
    return {"title": title, "unit": unit, "baseline": baseline, "baseline_on": baseline_on, "target": target, "values": values}


FRONT_DOOR, WORKFORCE, MULTI_AGENCY, VOICE = "Front door", "Workforce", "Multi-agency working", "Voice of the child"

JTAI_PLAN = {
    "title": "Joint targeted area inspection (March 2019): local area improvement plan",
    "description": (
        "The partnership's plan after the joint targeted area inspection of the multi-agency response to abuse and neglect "
        "(18 to 22 March 2019), which evaluated the front door: every enquiry or concern about a child comes through the MASH. "
        "Progress is reported to the Strategic MASH Board and was reported to the scrutiny board in December 2019."
    ),
    "owner": "hos.front.door",
    "service": "Multi-Agency Safeguarding Hub (MASH)",
    "board": MASH_BOARD,
    "starts_on": date(2019, 4, 1),
    "ends_on": date(2020, 3, 31),
    "created_on": date(2019, 4, 24),
    "priorities": [FRONT_DOOR, WORKFORCE, MULTI_AGENCY],
    "recorded_by": "qa.officer",
    "measures": {
        FRONT_DOOR: [
            measure(
                "Single assessments completed in timescale", "%", "63.4", date(2019, 3, 31), "90",
                [
                    (date(2019, 4, 30), "78.2", None),
                    (date(2019, 5, 31), "90.4", "Above 90% for the first time, the month the online referral form was launched."),
                    (date(2019, 6, 30), "91.7", None),
                    (date(2019, 7, 31), "92.6", None),
                    (date(2019, 8, 31), "90.8", "Summer leave: still above 90%."),
                    (date(2019, 9, 30), "92.0", None),
                    (date(2019, 10, 31), "91.3", "End of October 2019, as reported to the scrutiny board."),
                ],
            ),
        ],
        WORKFORCE: [
            measure(
                "Average MASH caseload", "children", "24", date(2019, 3, 31), "15",
                [
                    (date(2019, 4, 30), "23", None),
                    (date(2019, 5, 31), "22", None),
                    (date(2019, 6, 30), "21", "First month of the performance dashboard."),
                    (date(2019, 7, 31), "19", None),
                    (date(2019, 8, 31), "18", None),
                    (date(2019, 9, 30), "16", "Weekly caseload review started in the MASH."),
                    (date(2019, 10, 31), "15", None),
                ],
            ),
            measure(
                "Agency social workers", "social workers", "18", date(2019, 3, 31), "10",
                [
                    (date(2019, 4, 30), "17", None),
                    (date(2019, 5, 31), "16", None),
                    (date(2019, 6, 30), "14", None),
                    (date(2019, 7, 31), "13", None),
                    (date(2019, 8, 31), "11", None),
                    (date(2019, 9, 30), "9", "Fewer than 10 for the first time."),
                    (date(2019, 10, 31), "9", None),
                    (date(2019, 11, 30), "8", None),
                    (date(2019, 12, 31), "8", "5.6% of the social work establishment: an all-time low."),
                ],
            ),
        ],
    },
    "approved_on": date(2019, 4, 24),
    "actions": [
        action(
            "Launch an online referral form for partner agencies", FRONT_DOOR, "team.manager", date(2019, 5, 31),
            progress(date(2019, 5, 8), "Form built with the council's digital team; tested with two schools and the police MASH team."),
            done(date(2019, 5, 20), "Online referral form launched to every partner agency on 20 May 2019.",
                 "Launch briefing to partners; the form is live on the Safeguarding Partnership's website; 86 referrals came through it in its first two weeks."),
            signed_off(date(2019, 6, 11), "hos.front.door", "Referral figures seen at the Strategic MASH Board."),
            level="high",
        ),
        action(
            "Partner agencies to make every referral through the online form", FRONT_DOOR, "board.member", date(2019, 9, 30),
            progress(date(2019, 7, 17), "Police and health agreed to stop referring by email; schools briefed at the designated safeguarding leads' forum."),
            done(date(2019, 9, 25), "Police, health and schools now refer through the online form.",
                 "92% of partners' referrals in September came through the online form (front-door report)."),
            signed_off(date(2019, 10, 16), "hos.front.door", "Checked against the front-door report for September."),
        ),
        action(
            "Monthly performance dashboard for senior managers, with caseloads by team", WORKFORCE, "qa.lead", date(2019, 6, 30),
            done(date(2019, 6, 26), "First dashboard presented to senior managers.",
                 "The June dashboard: caseloads by team and social worker, agency staff, timeliness of single assessments."),
            signed_off(date(2019, 7, 10), "hos.front.door", "The dashboard is now on the agenda of every senior managers' meeting."),
        ),
        action(
            "Recruit permanent social workers to replace agency staff in the MASH and assessment teams", WORKFORCE, "hos.fieldwork", date(2019, 12, 31),
            progress(date(2019, 7, 3), "Recruitment campaign launched; six offers made."),
            progress(date(2019, 10, 2), "Agency social workers down to 9, fewer than 10 for the first time."),
            done(date(2019, 12, 18), "Agency social workers down to 8, 5.6% of the social work establishment.",
                 "HR establishment report, December 2019."),
            signed_off(date(2020, 1, 15), "director", "Agreed: the target of fewer than 10 has held since September."),
            level="high",
        ),
        action(
            "Complete the review of the MASH: early help and health co-located at the front door", MULTI_AGENCY, "hos.front.door", date(2019, 9, 30),
            progress(date(2019, 6, 19), "Review findings agreed by the Strategic MASH Board; space for early help and health found in the Council House."),
            progress(date(2019, 8, 14), "Health practitioners started in the MASH on 5 August; early help workers join in September."),
            done(date(2019, 9, 23), "Review implemented: early help and health are co-located at the front door.",
                 "Revised MASH operating model; staffing rota showing early help and health practitioners in the MASH since September 2019."),
            signed_off(date(2019, 10, 16), "director", "Seen on a visit to the MASH."),
            level="high",
        ),
        action(
            "Give MASH colleagues access to youth offending systems", MULTI_AGENCY, "admin", date(2019, 7, 31),
            progress(date(2019, 6, 5), "Data-sharing agreement with the youth offending service signed; accounts requested."),
            done(date(2019, 7, 22), "MASH staff can read the youth offending case system.",
                 "Read-only accounts for 14 MASH staff; the first month's access log checked."),
            signed_off(date(2019, 8, 7), "hos.front.door", "Confirmed with the MASH team manager: the information is used in decisions."),
        ),
        action(
            "LEAN review of front-door processes, including domestic abuse triage", MULTI_AGENCY, "qa.officer", date(2019, 10, 31),
            progress(date(2019, 7, 10), "Workshops held with the police, health, early help and the Domestic Abuse Hub."),
            done(date(2019, 10, 15), "New triage process for police domestic abuse notifications in place from 1 October.",
                 "LEAN review report and the new triage process map; processing times in the Domestic Abuse Hub."),
            signed_off(date(2019, 11, 19), "hos.front.door", "The Domestic Abuse Hub focus group at the November visit confirmed that referrals are processed more efficiently."),
        ),
        action(
            "Base the police domestic abuse triage officer in the MASH", MULTI_AGENCY, "board.member", date(2019, 10, 31),
            cancelled(date(2019, 9, 11), "hos.front.door",
                      "No longer needed: the LEAN review moved domestic abuse triage to the Domestic Abuse Hub, where the police officer is already based. Agreed at the Strategic MASH Board."),
            level="low",
        ),
    ],
}

# Raised from the August 2019 visit's findings, approved by the Strategic MASH Board and
# judged by the November follow-up visit (000 §4.8).
AUGUST_2019_ACTIONS_APPROVED_ON = date(2019, 9, 11)
AUGUST_2019_ACTIONS = [
    action(
        "Partners to confirm every telephone referral in writing within 24 hours", FRONT_DOOR, "hos.front.door", date(2019, 10, 31),
        progress(date(2019, 10, 1), "Reminder sent to partners through the Safeguarding Partnership; written confirmations checked every week."),
        done(date(2019, 11, 28), "Written confirmation is now the norm for partners' telephone referrals.",
             "Referrals confirmed in writing: 61% in August, 88% in November (front-door report)."),
        signed_off(date(2019, 12, 11), "director", "Agreed, on the November figures."),
        finding=AUGUST_2019_FINDINGS[0]["summary"],
        judgement=("sufficient", "More written referrals are now received from partners, and the audit of referrals found their information of satisfactory quality."),
    ),
    action(
        "Tell every referrer the outcome of their referral within 3 working days", FRONT_DOOR, "senior.practitioner", date(2019, 10, 31),
        progress(date(2019, 10, 23), "Outcome letter agreed; not yet used by every MASH team."),
        progress(date(2019, 12, 4), "Outcome letter built into the case system, to be sent when the decision is recorded."),
        done(date(2020, 1, 29), "Outcome letters go out from the case system when the MASH decision is recorded.",
             "Case system change notice, January 2020; a check of 10 February referrals found 9 referrers told the outcome."),
        signed_off(date(2020, 2, 19), "qa.lead", "Checked against the February sample."),
        finding=AUGUST_2019_FINDINGS[0]["summary"],
        judgement=("insufficient", "Referrers are still not always told the outcome: the outcome letter is not used by every MASH team."),
    ),
    action(
        "Weekly caseload review in the MASH, moving work to keep every social worker within the caseload limit", WORKFORCE, "team.manager", date(2019, 10, 31),
        progress(date(2019, 9, 25), "Weekly review started; two cases moved from each of the four highest caseloads."),
        done(date(2019, 10, 30), "Caseloads reviewed every week since September.",
             "Weekly caseload review notes; the performance dashboard shows an average MASH caseload of 15 in October."),
        signed_off(date(2019, 11, 20), "hos.front.door", "Workloads have stabilised: confirmed by the MASH social workers' focus group."),
        finding=AUGUST_2019_FINDINGS[1]["summary"],
        judgement=("sufficient", "Workload has stabilised for MASH social workers; in the focus group they described their workloads as manageable."),
        level="high",
    ),
    action(
        "Appoint a permanent second team manager for the MASH, with a deputy rota for cover", WORKFORCE, "hos.fieldwork", date(2019, 11, 30),
        progress(date(2019, 10, 16), "Interim second team manager in post; the permanent post is advertised; deputy rota agreed."),
        done(date(2020, 1, 20), "The permanent second team manager started on 6 January 2020.",
             "Appointment confirmed by HR; deputy rota for 2020."),
        signed_off(date(2020, 2, 12), "director", "Management arrangements in the MASH are now resilient."),
        finding=AUGUST_2019_FINDINGS[2]["summary"],
        judgement=("some", "The interim manager and the deputy rota make management more resilient, but the permanent appointment is still to be made."),
    ),
]

# The November 2021 visit's two areas for improvement, in an action plan approved by the
# Practice and Development Board (004).
VISIT_2021_PLAN = {
    "title": "Multi-agency partnership visit (November 2021): action plan",
    "description": (
        "The recommendations of the multi-agency partnership visit to the Initial Response Team and the MASH on 22 November 2021, "
        "approved at the Practice and Development Board."
    ),
    "owner": "director",
    "service": None,
    "board": PRACTICE_BOARD,
    "starts_on": date(2021, 12, 14),
    "ends_on": date(2022, 6, 30),
    "created_on": date(2021, 12, 14),
    "priorities": [FRONT_DOOR, MULTI_AGENCY],
    "recorded_by": "qa.officer",
    "measures": {},
    "approved_on": date(2021, 12, 14),
    "actions": [
        action(
            "Guidance for partners on what a good referral contains, with examples", FRONT_DOOR, "qa.officer", date(2022, 2, 28),
            progress(date(2022, 1, 19), "Draft written with the police and the education safeguarding team."),
            done(date(2022, 2, 23), "Guidance published.",
                 "Guidance on the Safeguarding Partnership's website, sent to every school's designated safeguarding lead and to GP practices."),
            signed_off(date(2022, 3, 8), "hos.front.door", "Seen, and shared at the MASH partnership meeting."),
            finding=FOCUS_GROUP_2021["findings"][1]["summary"],
        ),
        action(
            "Monthly feedback to each partner agency on the quality of its referrals", FRONT_DOOR, "team.manager", date(2022, 3, 31),
            progress(date(2022, 2, 16), "Feedback template agreed; January's feedback sent to the police."),
            done(date(2022, 3, 29), "Feedback goes to the police, health and education leads every month.",
                 "Feedback reports for February and March."),
            signed_off(date(2022, 4, 12), "hos.front.door", "Referral quality is now a standing item at the MASH partnership meeting."),
            finding=FOCUS_GROUP_2021["findings"][1]["summary"],
        ),
        action(
            "Check for an allocated assessment before triaging a domestic abuse notification, and pass it to the allocated social worker",
            MULTI_AGENCY, "senior.practitioner", date(2022, 1, 31),
            done(date(2022, 1, 26), "Triage checklist changed; the case system shows the Domestic Abuse Hub when a family is allocated.",
                 "Revised triage checklist; case system change notice."),
            signed_off(date(2022, 2, 8), "hos.front.door", "No duplicated triage in the February dip check."),
            finding=CONTACT_AUDIT_2021["findings"][1]["summary"],
            level="high",
        ),
        action(
            "Agree with the police how notifications about allocated families are shared", MULTI_AGENCY, "board.member", date(2022, 3, 31),
            progress(date(2022, 2, 9), "Discussed at the MASH partnership meeting; the police will change their notification form."),
            done(date(2022, 4, 20), "Joint protocol agreed.", "Protocol signed by the police and children's social care, April 2022."),
            signed_off(date(2022, 5, 10), "director", "Protocol seen."),
            finding=CONTACT_AUDIT_2021["findings"][1]["summary"],
        ),
    ],
}

# This financial year's annual improvement plan. Days are counted from today.
ANNUAL_PLAN = {
    "description": (
        "The annual improvement plan that guides the work of the Children and Young People Practice and Development Board. "
        "Managers report progress on its actions every quarter."
    ),
    "owner": "hos.front.door",
    "board": PRACTICE_BOARD,
    "priorities": [FRONT_DOOR, WORKFORCE, MULTI_AGENCY, VOICE],
    "recorded_by": "qa.officer",
    "measures": {
        FRONT_DOOR: [measure("Single assessments completed in timescale", "%", "84.6", None, "90",
                             ["85.1", "86.4", "85.9", "87.8", "88.5", "89.2", "88.7", "90.3", "90.8", "91.2", "90.6", "91.5"])],
        WORKFORCE: [measure("Agency social workers", "social workers", "14", None, "8",
                            ["14", "13", "13", "12", "12", "11", "10", "10", "9", "9", "8", "8"])],
        MULTI_AGENCY: [measure("Strategy meetings with health present", "%", "74", None, "90",
                               ["75", "73", "78", "80", "79", "82", "84", "83", "86", "87", "88", "90"])],
        VOICE: [measure("Children seen alone at their last statutory visit", "%", "68", None, "80",
                        ["68", "70", "69", "72", "73", "75", "74", "76", "78", "77", "79", "81"])],
    },
    "actions": [
        # Front door
        action(
            "Relaunch the online referral form with guidance on what a good referral contains", FRONT_DOOR, "team.manager", -12,
            progress(-150, "Guidance drafted with the education safeguarding team and the police MASH sergeant."),
            progress(-60, "New form built; testing with three schools held up by the case system upgrade."),
            progress(-20, "Testing restarted. Launch moves to next month: a new date goes to the board."),
            level="high", raised=-200,
        ),
        action(
            "Quarterly audit of the quality of schools' referrals, with feedback to each school", FRONT_DOOR, "qa.officer", 10,
            progress(-120, "First quarter's audit done: 30 referrals from 14 schools."),
            done(-6, "Second quarter's audit done and feedback sent to every school.",
                 "Audit reports for both quarters; feedback letters to 14 schools; average referral quality up from 2.6 to 3.1 out of 4."),
            raised=-200,
        ),
        action(
            "Review the MASH threshold guidance with partners", FRONT_DOOR, "hos.front.door", 6,
            progress(-90, "Workshop held with the police, health and education; comments collected."),
            progress(-25, "Revised guidance drafted; it goes to the Safeguarding Partnership for agreement."),
            level="high", raised=-170,
        ),
        action(
            "Daily MASH triage meeting with the police and health", FRONT_DOOR, "board.member", -120,
            progress(-190, "Meeting trialled two days a week."),
            done(-140, "The daily triage meeting has run every working day since the start of the quarter.",
                 "Meeting log: held on 58 of 60 working days, with the police and health at each."),
            signed_off(-125, "hos.front.door", "Meeting log seen; I observed one meeting."),
            raised=-230,
        ),
        action(
            "Extend the MASH's link with the Emergency Duty Team out of hours", FRONT_DOOR, "senior.practitioner", 75,
            level="low", raised=-60,
        ),
        action(
            "Pilot a telephone helpline for schools' referrals", FRONT_DOOR, "auditor", 30,
            progress(-180, "Costs and staffing options drafted."),
            cancelled(-100, "hos.front.door",
                      "Not needed: an education safeguarding officer now works in the MASH and advises schools. Agreed at the Practice and Development Board."),
            level="low", raised=-230,
        ),
        # Workforce
        action(
            "Recruit to the social worker vacancies in the locality teams", WORKFORCE, "hos.fieldwork", -25,
            progress(-180, "Recruitment campaign launched, with a refer-a-friend scheme."),
            progress(-95, "Eight offers made and four started; four vacancies remain in Locality 2.", "Recruitment tracker, month 5."),
            progress(-30, "Second campaign for Locality 2 open; interviews next month."),
            level="high", raised=-230,
        ),
        action(
            "Bring agency social workers down to 8 or fewer", WORKFORCE, "director", 110,
            progress(-100, "Three agency social workers are converting to permanent contracts."),
            raised=-230,
        ),
        action(
            "Monthly wellbeing sessions for the Reception Teams", WORKFORCE, "team.manager", 20,
            progress(-90, "Wellbeing working group set up; the first two sessions held."),
            done(-4, "Sessions held every month since the focus group, with attendance recorded.",
                 "Session plans and attendance: 7 sessions, 9 practitioners on average."),
            raised=-150,
        ),
        action(
            "Exit interview with every social worker who leaves, summarised for the board each quarter", WORKFORCE, "hos.fieldwork", 9,
            progress(-120, "Exit interview form agreed with HR."),
            done(-40, "Exit interviews in place; the first quarterly summary is written.", "Quarterly summary of exit interviews."),
            sent_back(-33, "hos.front.door", "The summary covers two of the five social workers who left this quarter. Include every leaver, or say why not."),
            progress(-14, "HR now books an exit interview for every leaver; the three missing interviews are arranged."),
            raised=-200,
        ),
        action(
            "Monthly supervision audit: every practitioner supervised at least once a month", WORKFORCE, "senior.practitioner", -7,
            raised=-120,
        ),
        action(
            "Run the ASYE focus group twice a year and report it to the board", WORKFORCE, "qa.lead", -40,
            done(-60, "Focus group held with newly qualified social workers; report presented to the board.", "Focus group report and board minutes."),
            signed_off(-45, "hos.front.door", "Report received at the board."),
            raised=-230,
        ),
        # Multi-agency working
        action(
            "Invite the school's designated safeguarding lead to every strategy meeting for a school-age child", MULTI_AGENCY, "auditor", 10,
            progress(-80, "Invitation template changed; business support briefed."),
            progress(-21, "Dip sample of 10 meetings: education invited to 8, attended 6.", "Dip sample results."),
            raised=-170,
        ),
        action(
            "Health to attend strategy meetings within 3 working days of the referral", MULTI_AGENCY, "board.member", -40,
            progress(-150, "Raised with the designated nurse; a health rota for strategy meetings is being agreed."),
            progress(-45, "Rota agreed in principle; the provider has not yet confirmed staff for it."),
            level="high", raised=-200,
        ),
        action(
            "Quarterly multi-agency case audit with the Safeguarding Partnership", MULTI_AGENCY, "qa.lead", 20,
            progress(-110, "First multi-agency audit held: 6 cases, with police, health and education auditors."),
            done(-3, "Second audit held and its findings reported to the Partnership's sub-group.", "Audit tools, findings report and the sub-group's minutes."),
            raised=-200,
        ),
        action(
            "Share the front-door performance dashboard with partners every month", MULTI_AGENCY, "admin", -150,
            done(-170, "Dashboard published to partners' secure site on the fifth working day of each month.", "Partner access list; publication log."),
            signed_off(-160, "hos.front.door", "The police and health leads confirm they receive it."),
            raised=-230,
        ),
        action(
            "Peer review of the front door with a neighbouring council", MULTI_AGENCY, "dfe.adviser", 90,
            level="low", raised=-90,
        ),
        # Voice of the child
        action(
            "Record the child's own words in every single assessment", VOICE, "senior.practitioner", 45,
            progress(-60, "Assessment template changed: a required section for the child's own words."),
            raised=-170,
        ),
        action(
            "Direct work toolkit for the locality teams", VOICE, "auditor", -90,
            progress(-180, "Toolkit drafted with the Reception Teams, whose direct work the 2021 visit found part of the rhythm of practice."),
            done(-120, "Toolkit launched at the locality team meetings.", "The toolkit; attendance at 4 launch sessions."),
            signed_off(-110, "hos.front.door", "Seen in use on two cases in a dip sample."),
            raised=-230,
        ),
        action(
            "Children in care council to review the care plan template", VOICE, "director", 12,
            raised=-60,
        ),
        action(
            "Audit whether the child's voice is recorded in child protection plans", VOICE, "qa.officer", -3,
            progress(-30, "Sample of 20 plans drawn; 12 audited so far."),
            raised=-110,
        ),
        action(
            "Translate the 'My views' form into the five most spoken community languages", VOICE, "qa.officer", 60,
            cancelled(-70, "hos.front.door", "Replaced by the interpreting service's app, which interprets during the visit: the form is read with the child."),
            level="low", raised=-150,
        ),
    ],
}
