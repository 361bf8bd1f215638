"""Every prompt the flows ask through a case's life, for any chat's rendering tests (Slack's blocks,
Teams' cards): a trust + council + care home complaint taken from receipt to closure through real
commands (`life`), the questions each handler is asked at every stage (`asked`, `stage`, `forms`),
the complainant's words that no shared message may show (`SECRETS`), and a form's answers as Slack
sends them (`submitted`, `answers_for`), the reference a Teams form is checked against.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.config import Config
from bot.directory import actor, org_ref, system_actor
from flows import commands as c
from flows.calendar import add_working_days
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.model import Actor, Case, Channel, ConsentMethod, LeadCriterion, Outcome, Person, Sender
from flows.prompts import next_prompts
from tests.flows.builders import NOW, TODAY, Run

ZEB = Person(name="Zebedee Quillfeather", email="zeb.quillfeather@example.org", phone="0100 999 8888")
SUBJECT = "Hip left untreated on Ward 9"
TEXT = "Zebedee Quillfeather was left with a broken hip for two days."
SECRETS = ("Zebedee", "Quillfeather", "zeb.quillfeather", "0100 999 8888", SUBJECT, "broken hip")
TRUST, GP, COUNCIL, CARE_HOME = "northshire-trust", "riverside-gp", "northshire-council", "meadowbank"
LATER = NOW + timedelta(days=200)  # past the six-month point: overdue prompts and deadlines
# the prompts (by id, before any ":") that `life` and `asked` reach between them
EVERY_PROMPT = frozenset({
    "related", "organisations", "consent", "propose_lead", "lead_answer", "complainant_view",
    "update_every", "named_contact", "response_period", "plan", "plan_agreed", "message",
    "contribution", "draft", "comment_round", "comment", "share_draft", "partial_response",
    "final_response", "action", "close", "delay", "acknowledge", "out_of_time",
})  # fmt: skip


# --- a case's life, through real commands ---------------------------------------------------------


def life(config: Config) -> Iterator[Case]:
    """Every stage of a trust + council + care home complaint, from receipt to closure."""
    coordinator, lena, ruth = (actor(config.person(p)) for p in ("asha-patel", "lena-okafor", "ruth-moss"))
    org = {o.id: org_ref(config, o.id) for o in config.organisations}
    system, target = system_actor(config), add_working_days(TODAY, 15)
    involved = (org[TRUST], org[COUNCIL], org[CARE_HOME])
    run = Run(case=Case(ref="JC-261124-QZBD"))

    def message(n: int, sender: Sender, text: str, strand: str = "") -> c.ReceiveMessage:
        """An email on the case, from the complainant or from the council for `strand`."""
        council = {"org_id": COUNCIL, "strand_id": strand} if strand else {}
        address = "complaints@northshire-council.example" if strand else ZEB.email
        return c.ReceiveMessage(
            actor=system, message_id=f"<m{n}|x@example.org>", sender=sender, from_address=address,
            received_at=NOW, subject=SUBJECT, text=text, **council,
        )  # fmt: skip

    steps: list[tuple[Actor, Any]] = [
        (system, lambda a: c.ReceiveComplaint(
            actor=a, channel=Channel.EMAIL, received_at=NOW, complainant=ZEB, home_org=org[TRUST],
            subject=SUBJECT, text=TEXT, message_id="<z1@example.org>", suggested_orgs=(COUNCIL, CARE_HOME),
            related=("JC-261101-ABCD",),
        )),
        (coordinator, lambda a: c.DismissRelated(actor=a)),
        (coordinator, lambda a: c.IdentifyOrganisations(actor=a, orgs=involved)),
        (coordinator, lambda a: c.RecordConsent(
            actor=a, org_ids=(COUNCIL, CARE_HOME), method=ConsentMethod.PHONE, given_on=TODAY,
            capacity_confirmed=True,
        )),
        (coordinator, lambda a: c.RecordComplainantView(actor=a, view="No preference given")),
        (coordinator, lambda a: c.ProposeLead(actor=a, org_id=TRUST, criteria=tuple(LeadCriterion)[:1])),
        (lena, lambda a: c.RespondToLead(actor=a, org_id=COUNCIL, agrees=True)),
        (ruth, lambda a: c.RespondToLead(actor=a, org_id=CARE_HOME, agrees=True)),
        (coordinator, lambda a: c.SetNamedContact(actor=a, name="Asha Patel", email="asha@example.org")),
        (coordinator, lambda a: c.AddStrand(actor=a, org_id=TRUST, matters="Ward 9 care", target=target)),
        (coordinator, lambda a: c.AddStrand(actor=a, org_id=COUNCIL, matters="Care package", target=target)),
        (coordinator, lambda a: c.AgreePlan(actor=a, org_id=TRUST)),
        (lena, lambda a: c.AgreePlan(actor=a, org_id=COUNCIL)),
        (ruth, lambda a: c.AgreePlan(actor=a, org_id=CARE_HOME)),
        (system, lambda a: message(2, Sender.COMPLAINANT, "Zebedee Quillfeather here: any news?")),
        (system, lambda a: message(3, Sender.CONTRIBUTOR, "Quillfeather: lost", "S2")),
        (coordinator, lambda a: c.RecordContribution(actor=a, strand_id="S1", summary="Hip missed.")),
        (coordinator, lambda a: c.RecordContribution(actor=a, strand_id="S2", summary="Referral lost.")),
        (coordinator, lambda a: c.RecordDraft(actor=a, text="Dear Mr Quillfeather, we are sorry.")),
        (coordinator, lambda a: c.RaiseImpasse(
            actor=a, matter="Who pays for the care package", reason="No agreement",
            resolve_by=add_working_days(TODAY, 10),
        )),
        (coordinator, lambda a: c.OpenCommentRound(actor=a, comment_by=add_working_days(TODAY, 5))),
        (lena, lambda a: c.RecordComment(actor=a, org_id=COUNCIL, comment="Fine.")),
        (ruth, lambda a: c.RecordComment(actor=a, org_id=CARE_HOME, comment="Fine.")),
        (lena, lambda a: c.SignOffDraft(actor=a, org_id=COUNCIL)),
        (ruth, lambda a: c.SignOffDraft(actor=a, org_id=CARE_HOME)),
        (coordinator, lambda a: c.ShareDraftWithComplainant(actor=a)),
        (coordinator, lambda a: c.AddAction(actor=a, owner_org=TRUST, description="Train staff", due=target)),
        (coordinator, lambda a: c.SendFinalResponse(actor=a, body="Final", signed_by="C", signed_role="CEO")),
        (coordinator, lambda a: c.CompleteAction(actor=a, action_id="A1", evidence="Training log")),
        *((coordinator, lambda a, o=o: c.RecordOutcome(actor=a, org_id=o, outcome=Outcome.UPHELD))
          for o in (TRUST, COUNCIL, CARE_HOME)),
        (coordinator, lambda a: c.CodeCase(
            actor=a, service_areas=("acute", "social_care"), subjects=("clinical/care", "care_package"),
            professions=("nursing",), age_band="85+", complainant_status="patient",
        )),
        (coordinator, lambda a: c.CloseCase(actor=a, outcome=Outcome.UPHELD)),
    ]  # fmt: skip
    for who, command in steps:
        run.do(command(who))
        yield run.case
    by_phone = Run(case=Case(ref="JC-261124-PHON"))  # no address, and long ago: asks more
    by_phone.do(
        c.ReceiveComplaint(
            actor=coordinator, channel=Channel.PHONE, received_at=NOW, complainant=replace(ZEB, email=""),
            home_org=org[TRUST], subject=SUBJECT, text=TEXT, happened_on=TODAY - timedelta(days=800),
        )
    )  # fmt: skip
    yield by_phone.case


@pytest.fixture
def stages(config: Config) -> list[Case]:
    return list(life(config))


@pytest.fixture
def people(config: Config) -> list[Actor]:
    """The trust's handler, and the council's and the care home's contributors."""
    return [actor(config.person(p)) for p in ("asha-patel", "lena-okafor", "ruth-moss")]


@pytest.fixture
def orgs(config: Config) -> list[tuple[str, str]]:
    return [(o.id, o.name) for o in config.organisations]


def asked(case: Case, people: Sequence[Actor]) -> list[tuple[Actor, Prompt]]:
    """Every prompt on `case` for each of `people`, now and after the six-month point."""
    return [(who, p) for now in (NOW, LATER) for who in people for p in next_prompts(case, who, now)]


def stage(stages: list[Case], prompt_id: str, people: list[Actor]) -> tuple[Case, Prompt]:
    """The first stage asking `prompt_id`, and that prompt."""
    return next((case, p) for case in stages for _, p in asked(case, people) if p.id == prompt_id)


def forms(stages: list[Case], people: list[Actor]) -> Iterator[tuple[Case, Prompt, int, Choice]]:
    for case in stages:
        for _, prompt in asked(case, people):
            yield from ((case, prompt, i, ch) for i, ch in enumerate(prompt.choices) if ch.fields)


def shows_nothing_of_the_complainant(shown: Any) -> None:
    words = json.dumps(shown, ensure_ascii=False).casefold()
    assert not [s for s in SECRETS if s.casefold() in words]


# --- a form's answers, as Slack sends them --------------------------------------------------------

SHOWN = object()  # the input as the form showed it


def submitted(view: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The `view.state.values` Slack sends: each input as shown, unless `answers` has another value."""
    inputs = [(b["block_id"], b["element"]) for b in view["blocks"] if b["type"] == "input"]
    return {name: {e["action_id"]: as_sent(e, answers.get(name, SHOWN))} for name, e in inputs}


def as_sent(element: Mapping[str, Any], answer: Any) -> dict[str, Any]:
    kind = element["type"]
    groups = element.get("option_groups", [{"options": element.get("options", [])}])
    options = {o["value"]: o for g in groups for o in g["options"]}
    if kind in ("plain_text_input", "number_input"):
        return {"type": kind, "value": element.get("initial_value") if answer is SHOWN else str(answer)}
    if kind == "datetimepicker":
        shown = element.get("initial_date_time")
        return {"type": kind, "selected_date_time": shown if answer is SHOWN else answer}
    if kind == "datepicker":
        return {"type": kind, "selected_date": element.get("initial_date") if answer is SHOWN else answer}
    if kind in ("static_select", "radio_buttons"):
        return {
            "type": kind,
            "selected_option": element.get("initial_option") if answer is SHOWN else options[answer],
        }
    chosen = element.get("initial_options", []) if answer is SHOWN else [options[v] for v in answer]
    return {"type": kind, "selected_options": chosen}


def answers_for(field: Field, edited: bool) -> tuple[Any, str]:
    """An answer to `field` as the form sends it and as typed at the terminal."""
    last = str(len(field.options))
    typed: dict[FieldKind, tuple[Any, str]] = {
        FieldKind.TEXT: ("Edited." if edited else "Because.",) * 2,
        FieldKind.LINES: ("Ward visit\nNotes",) * 2 if edited else ("Ward visit",) * 2,
        FieldKind.DATE: ((TODAY + timedelta(days=12 if edited else 10)).isoformat(),) * 2,
        # 3 December 2026, 14:00 in London (GMT): picked in Slack, typed at the terminal
        FieldKind.DATETIME: (1796306400, "2026-12-03 14:00") if edited else (1796223600, "2026-12-02 15:00"),
        FieldKind.INT: (12, "12") if edited else (7, "7"),
        FieldKind.BOOL: ("no", "n") if edited else ("yes", "y"),
        FieldKind.ORGANISATIONS: ([COUNCIL, GP], "3 2") if edited else ([TRUST, CARE_HOME], "1 4"),
    }
    if field.options:
        first, final = field.options[0][0], field.options[-1][0]
        typed[FieldKind.CHOICE] = (final, last) if edited else (first, "1")
        typed[FieldKind.MULTI_CHOICE] = ([final], last) if edited else ([first, final], f"1 {last}")
    return typed[field.kind]
