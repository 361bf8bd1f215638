"""Letters and notices whose details come from configuration, not from the case: the Ombudsmen quoted
in a response, and the senior managers alerted to an impasse. Cases are driven through the flows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.config import Config
from bot.directory import org_ref
from bot.intake import Intake
from bot.runner import EffectRunner
from bot.service import CaseService
from flows import commands as c
from flows.model import Actor, ConsentMethod, LeadCriterion, Status
from mail.letters import message_id_for
from mail.maildir import MaildirInbox
from mail.outbox import FileOutbox
from store.store import Store
from tests.bot.fakes import RecordingChat
from tests.bot.support import NOW, RECEIVED, SAMPLE_NAMES, SECRET, files, opened, plain_text, read_eml, sample

LATER = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # the Monday after the impasse deadline
RESOLVE_BY = date(2026, 11, 27)
PHSO_PHONE = "0345 015 4033"
LGSCO_PHONE = "0300 061 0614"

Drive = Callable[[CaseService, Config, Actor, str], datetime]


def identify(service: CaseService, config: Config, handler: Actor, ref: str, *org_ids: str) -> None:
    orgs = tuple(org_ref(config, o) for o in org_ids)
    service.execute(ref, c.IdentifyOrganisations(actor=handler, orgs=orgs), NOW)


def with_council_agreed(service: CaseService, config: Config, handler: Actor, ref: str) -> None:
    identify(service, config, handler, ref, "northshire-trust", "northshire-council")
    consent = c.RecordConsent(
        actor=handler,
        org_ids=("northshire-council",),
        method=ConsentMethod.PHONE,
        given_on=NOW.date(),
        capacity_confirmed=True,
    )
    service.execute(ref, consent, NOW)
    criteria = (LeadCriterion.GREATEST_RESPONSIBILITY,)
    service.execute(ref, c.RecordComplainantView(actor=handler, view="No preference given"), NOW)
    service.execute(ref, c.ProposeLead(actor=handler, org_id="northshire-trust", criteria=criteria), NOW)
    service.execute(ref, c.RespondToLead(actor=handler, org_id="northshire-council", agrees=True), NOW)


def impasse(service: CaseService, handler: Actor, ref: str) -> None:
    raised = c.RaiseImpasse(
        actor=handler, matter="who answers for the discharge", reason="no agreement", resolve_by=RESOLVE_BY
    )
    service.execute(ref, raised, NOW)


def partial_response(service: CaseService, handler: Actor, ref: str) -> datetime:
    impasse(service, handler, ref)
    partial = c.SendPartialResponse(
        actor=handler,
        answered="The discharge time.",
        not_possible="The home care visits.",
        why_no_agreement="The organisations disagree on who arranged them.",
    )
    service.execute(ref, partial, LATER)
    return LATER


def partial_from_us_alone(service: CaseService, config: Config, handler: Actor, ref: str) -> datetime:
    identify(service, config, handler, ref, "northshire-trust")
    return partial_response(service, handler, ref)


def partial_with_the_council(service: CaseService, config: Config, handler: Actor, ref: str) -> datetime:
    with_council_agreed(service, config, handler, ref)
    return partial_response(service, handler, ref)


def final_from_us_alone(service: CaseService, config: Config, handler: Actor, ref: str) -> datetime:
    identify(service, config, handler, ref, "northshire-trust")
    for command in (
        c.SetNamedContact(actor=handler, name="Asha Patel", email="asha.patel@northshire-trust.example"),
        c.AddStrand(actor=handler, org_id="northshire-trust", matters="The discharge", target=RESOLVE_BY),
        c.AgreePlan(actor=handler, org_id="northshire-trust"),
        c.RecordContribution(actor=handler, strand_id="S1", summary="Discharged without a plan."),
        c.RecordDraft(actor=handler, text="We are sorry."),
        c.RecordNoActionNeeded(actor=handler, reason="the discharge process has since changed."),
        c.ShareDraftWithComplainant(actor=handler),
        c.SendFinalResponse(actor=handler, body="We are sorry.", signed_by="Dr Jane Hale", signed_role="CEO"),
    ):
        service.execute(ref, command, NOW)
    return NOW


@dataclass
class Office:
    """The complaints office of these tests: everything needed to open, drive and answer a case."""

    config: Config
    service: CaseService
    store: Store
    inbox: MaildirInbox
    intake: Intake
    outbox_dir: Path
    handler: Actor
    chat: RecordingChat

    def open(self, number: int) -> str:
        self.inbox.deliver(sample(number), RECEIVED)
        [ref] = opened(self.intake.poll(NOW))
        return ref

    async def run(self, at: datetime, config: Config | None = None) -> None:
        outbox = FileOutbox(self.outbox_dir)
        runner = EffectRunner(config or self.config, self.service, outbox, self.chat, SECRET)
        await runner.run_due(at)

    def letter_text(self, ref: str, template: str) -> str:
        [letter] = [x for x in self.service.load(ref).letters.values() if x.template == template]
        assert letter.message_id == message_id_for(letter.key, self.config.service.reply_domain, SECRET)
        [message] = [m for m in map(read_eml, files(self.outbox_dir)) if m["Message-ID"] == letter.message_id]
        return plain_text(message)


@pytest.fixture
def office(
    config: Config,
    service: CaseService,
    store: Store,
    inbox: MaildirInbox,
    intake: Intake,
    outbox_dir: Path,
    handler: Actor,
    chat: RecordingChat,
) -> Office:
    return Office(config, service, store, inbox, intake, outbox_dir, handler, chat)


@pytest.mark.parametrize(
    ("drive", "template"),
    [(partial_from_us_alone, "partial_response"), (final_from_us_alone, "final_response")],
)
async def test_a_health_response_quotes_the_phso_contact_details_from_configuration(
    office: Office, drive: Drive, template: str
) -> None:
    ref = office.open(1)
    at = drive(office.service, office.config, office.handler, ref)
    assert office.service.load(ref).status is Status.RESPONDED
    [stored] = [r.effect for r in office.store.load(ref).effects if r.effect.get("template") == template]
    assert stored["context"]["ombudsmen"] == ["phso"]  # ids on the case; the details come at sending

    await office.run(at)

    text = office.letter_text(ref, template)
    assert "Parliamentary and Health Service Ombudsman" in text
    assert PHSO_PHONE in text
    assert LGSCO_PHONE not in text
    assert ref in text


async def test_a_response_about_health_and_social_care_quotes_both_ombudsmen(office: Office) -> None:
    ref = office.open(2)
    at = partial_with_the_council(office.service, office.config, office.handler, ref)

    await office.run(at)

    text = office.letter_text(ref, "partial_response")
    assert PHSO_PHONE in text
    assert LGSCO_PHONE in text
    assert "Local Government and Social Care Ombudsman" in text


async def test_the_ombudsman_details_are_the_configured_ones(office: Office) -> None:
    phso = office.config.ombudsmen.phso.model_copy(update={"phone": "0345 000 9999"})
    configured = office.config.model_copy(
        update={"ombudsmen": office.config.ombudsmen.model_copy(update={"phso": phso})}
    )
    ref = office.open(1)
    at = partial_from_us_alone(office.service, office.config, office.handler, ref)

    await office.run(at, configured)

    text = office.letter_text(ref, "partial_response")
    assert "0345 000 9999" in text
    assert PHSO_PHONE not in text


async def test_an_impasse_alerts_the_senior_managers_of_each_organisation(office: Office) -> None:
    ref = office.open(2)
    with_council_agreed(office.service, office.config, office.handler, ref)
    impasse(office.service, office.handler, ref)

    await office.run(NOW)

    alerts = [s for s in office.chat.said if "senior manager" in s.text]
    assert sorted(s.to for s in alerts) == [("david-hughes",), ("tom-reed",)]
    for alert in alerts:
        assert alert.ref == ref
        assert ref in alert.text
        assert "who answers for the discharge" in alert.text
        assert not any(name in alert.text for name in SAMPLE_NAMES)
