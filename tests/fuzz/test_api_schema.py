"""Fuzzing the JSON API against its own OpenAPI description (issue 6).

For every operation in /api/v1/openapi.json, schemathesis generates requests that
match the description and requests that break it (wrong types, missing fields, values
out of range, strange text), and each one is sent with the token of every role, and
with a bad token, to an app holding a small realistic council (tests/fuzz/world.py).
The ids in paths, queries and bodies are often steered to records that exist, so the
requests reach the rules and not only the 404s. Every answer must be:

- not a server error (API.md: never a 500 for anything a client sends; in tests an
  unhandled exception is raised, so it fails with its traceback);
- a status code the operation documents (ApiBlueprint documents 400, 401, 403, 404,
  409, 422 and 429 where they apply);
- a body matching the documented schema of that status.

Bounded and repeatable: EXAMPLES examples per operation, derandomized (the same
examples on every run), no deadline, no example database left behind.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from qa_audit import create_app
from qa_audit.actions.models import Action
from qa_audit.audits.models import Audit, QuestionSet
from qa_audit.config import TestConfig
from qa_audit.extensions import db
from qa_audit.findings.models import Finding
from qa_audit.plans.models import ImprovementPlan
from qa_audit.recording.models import SampledCase
from tests.conftest import AppClient, _make_app, dispose, empty_tables
from tests.fuzz.world import ROLES, seed

# Examples per operation; each is sent once per role and once with a bad token.
# FUZZ_EXAMPLES raises it for a longer run by hand.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
BAD_TOKEN = "not-a-real-token"

# Which kind of record each id names, wherever it is sent.
ID_KINDS = {
    "audit_id": "audit",
    "parent_id": "audit",
    "follow_up_of_id": "audit",
    "entity_id": "audit",
    "action_id": "action",
    "plan_id": "plan",
    "plan_priority_id": "priority",
    "priority_id": "priority",
    "question_set_id": "question_set",
    "question_id": "question",
    "finding_id": "finding",
    "case_id": "case",
    "service_id": "service",
    "owner_id": "user",
    "lead_auditor_id": "user",
    "head_of_service_id": "user",
    "auditor_id": "user",
    "auditor_ids": "user",
}


def _openapi() -> dict:
    """The description the app serves (built without touching a database)."""
    settings_ = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings_["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    app = create_app(settings_)
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


SCHEMA = schemathesis.openapi.from_dict(_openapi())
OPERATIONS = sorted(result.ok().label for result in SCHEMA.get_all_operations())


# The record a path names, whose ``version`` a body may send back.
VERSIONED = {
    "audit_id": Audit,
    "action_id": Action,
    "finding_id": Finding,
    "question_set_id": QuestionSet,
    "case_id": SampledCase,
    "plan_id": ImprovementPlan,
}


def _often(data, label: str) -> bool:
    """Three times in four: steer. The rest stay as schemathesis drew them (ids that do
    not exist, stale versions). Steering is hypothesis' simplest choice (0), so that
    its bias towards simple values favours it too."""
    return data.draw(st.integers(min_value=0, max_value=3), label=label) < 3


def _steer(case, world, data) -> None:
    """Point most of the case's ids at records that exist, and send back the version
    of the record in the path, so that requests get past 404 and 409 to the rules."""

    def known(kind: str, current):
        if kind not in world.ids or not world.ids[kind] or not _often(data, "steer"):
            return current
        if isinstance(current, list):
            return data.draw(st.lists(st.sampled_from(world.ids[kind]), max_size=3), label="ids")
        return data.draw(st.sampled_from(world.ids[kind]), label="id")

    for name, value in list((case.path_parameters or {}).items()):
        if name in ID_KINDS:
            case.path_parameters[name] = known(ID_KINDS[name], value)
    for container in (case.query, case.body):
        if isinstance(container, dict):
            for name, value in list(container.items()):
                if name in ID_KINDS:
                    container[name] = known(ID_KINDS[name], value)
            if isinstance(container.get("answers"), dict) and data.draw(st.booleans(), label="answers"):
                questions = st.sampled_from(world.ids["question"]).map(str)
                values = st.sampled_from(["met", "partially_met", "not_met", "not_applicable"])
                container["answers"] = data.draw(st.dictionaries(questions, values, max_size=4), label="answers")
    if isinstance(case.body, dict) and "version" in case.body and _often(data, "version"):
        for name, model in VERSIONED.items():
            ident = (case.path_parameters or {}).get(name)
            record = db.session.get(model, ident) if isinstance(ident, int) and 0 < ident < 2**31 else None
            if record is not None:
                case.body["version"] = record.version


@pytest.fixture(scope="module")
def fuzz_app(database_url, tmp_path_factory):
    """One app for the module, so SQLAlchemy's statement cache stays warm between
    operations; rate limits out of the way; concern emails in a folder of its own."""
    app = _make_app(database_url, API_RATE_LIMIT="1000000 per minute", MAIL_OUTBOX=str(tmp_path_factory.mktemp("outbox")))
    app.test_client_class = AppClient
    yield app
    empty_tables(app)
    dispose(app)


@pytest.fixture
def world(fuzz_app):
    """A fresh council for each operation, so what one operation's fuzzing changed
    (audits completed, actions cancelled, findings removed) never starves the next."""
    empty_tables(fuzz_app)
    with fuzz_app.app_context():
        yield seed()
        db.session.remove()


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_keeps_its_contract(fuzz_app, world, label):
    operation = SCHEMA.find_operation_by_label(label)
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    client = fuzz_app.test_client()
    identities = [(role, world.tokens[role]) for role in ROLES] + [("bad token", BAD_TOKEN)]

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def fuzz(data):
        case = data.draw(strategy, label="case")
        _steer(case, world, data)
        for who, token in identities:
            try:
                case.call_and_validate(app=fuzz_app, session=client, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
            except BaseException as error:
                error.add_note(f"Sent with the token of: {who}")
                raise

    fuzz()
