"""The terminal conversation: a handler answers the prompts of sample complaint 02, by number, from
"which organisations" to the named contact, with the letters ending up in the outbox."""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.case_text import case_text
from bot.chat.waiting import waiting
from bot.config import Config
from bot.directory import actor, org_ref, system_actor
from bot.intake import Intake
from bot.runner import EffectRunner
from bot.service import CaseService
from bot.terminal import Conversation, TerminalChat, parse_day
from flows import commands as c
from flows.conversation import Choice, Field, FieldKind
from flows.model import Actor, ConsentMethod, ConsentState, LeadCriterion, Sender, Status
from mail.maildir import MaildirInbox
from tests.bot.support import NOW, RECEIVED, files, opened, plain_text, read_eml, sample

TRUST, COUNCIL, MEADOWBANK = "northshire-trust", "northshire-council", "meadowbank"
ORGANISATIONS = "Which organisations does this complaint involve?"


@dataclass
class Script:
    """The keyboard: answers each question in turn from a list, and keeps the questions asked."""

    answers: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    async def __call__(self, question: str) -> str:
        self.asked.append(question)
        assert self.answers, f"asked {question!r} with no answer left"
        return self.answers.pop(0)


@dataclass
class Desk:
    """A handler at the terminal, on one case."""

    service: CaseService
    handler: Actor
    ref: str
    script: Script
    out: io.StringIO
    talk: Conversation

    async def answer(self, prompt_id: str, *answers: str, all_asked: bool = True) -> str:
        """Answer the case's prompt `prompt_id` with `answers`; by default each must be asked for."""
        [prompt] = [
            p for r, p in waiting(self.service, self.handler, NOW) if (r, p.id) == (self.ref, prompt_id)
        ]
        self.script.answers = list(answers)
        self.out.seek(0)
        self.out.truncate()
        result = await self.talk.answer_one(self.ref, prompt, NOW)
        if all_asked:
            assert self.script.answers == [], "the conversation did not ask for every answer given"
        return result

    @property
    def said(self) -> str:
        return self.out.getvalue()

    def status(self) -> Status:
        return self.service.load(self.ref).status


@pytest.fixture
def desk(config: Config, service: CaseService, inbox: MaildirInbox, intake: Intake, handler: Actor) -> Desk:
    inbox.deliver(sample(2), RECEIVED)
    [ref] = opened(intake.poll(NOW))
    script, out = Script(), io.StringIO()
    return Desk(service, handler, ref, script, out, Conversation(config, service, handler, script, out))


def emails_to(outbox_dir: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for message in map(read_eml, files(outbox_dir)):
        found.setdefault(message["To"].addresses[0].addr_spec, []).append(plain_text(message))
    return found


async def test_sample_02_from_organisations_to_named_contact(
    desk: Desk, runner: EffectRunner, outbox_dir: Path
) -> None:
    await desk.answer("organisations", "1", "1 3 4")
    assert desk.status() is Status.AWAITING_CONSENT
    assert desk.service.load(desk.ref).involved == (TRUST, COUNCIL, MEADOWBANK)

    await desk.answer("consent", "1", "3", "24/11/2026", "y")
    assert desk.status() is Status.AGREEING_LEAD
    consent = desk.service.load(desk.ref).consents[COUNCIL]
    assert (consent.state, consent.method, consent.given_on) == (
        ConsentState.GIVEN,
        ConsentMethod.PHONE,
        date(2026, 11, 24),
    )
    assert desk.service.load(desk.ref).consent_active(MEADOWBANK)

    await desk.answer("complainant_view", "1", "Happy for the hospital to lead")
    await desk.answer("propose_lead", "1", "1 2", "")
    assert desk.status() is Status.AGREEING_LEAD
    proposal = desk.service.load(desk.ref).proposal
    assert proposal is not None and proposal.org_id == TRUST
    assert proposal.criteria == (LeadCriterion.GREATEST_RESPONSIBILITY, LeadCriterion.BEST_RELATIONSHIP)

    await desk.answer(f"lead_answer:{COUNCIL}", "1")
    assert desk.status() is Status.AGREEING_LEAD
    await desk.answer(f"lead_answer:{MEADOWBANK}", "1")
    assert desk.status() is Status.NAMING_CONTACT
    assert desk.service.load(desk.ref).lead == TRUST

    await desk.answer("update_every", "1", "10")
    assert desk.status() is Status.NAMING_CONTACT
    assert desk.service.load(desk.ref).update_every == 10

    await desk.answer("named_contact", "1", "", "asha.patel@northshire-trust.example", "01632 960 101")
    assert "Recorded" in desk.said
    assert desk.status() is Status.PLANNING
    contact = desk.service.load(desk.ref).named_contact
    assert contact is not None and contact.name == "Asha Patel"

    await runner.run_due(NOW)

    assert all(letter.sent_at == NOW for letter in desk.service.load(desk.ref).letters.values())
    sent = emails_to(outbox_dir)
    assert len(sent["complaints@northshire-council.example"]) == 1
    assert len(sent["manager@meadowbank-care.example"]) == 1
    [acknowledgement, named] = sorted(sent["d.okafor@example.com"], key=lambda text: "Asha Patel" in text)
    assert "Asha Patel" in named and "01632 960 101" in named
    assert "every 10 working days" in named
    assert "Northshire Advocacy Hub" in named


async def test_enter_accepts_the_organisations_spotted_in_the_complaint(desk: Desk) -> None:
    await desk.answer("organisations", "1", "")

    assert "Northshire County Council, Adult Social Care; Meadowbank Care Home" in desk.script.asked[-1]
    assert set(desk.service.load(desk.ref).involved) == {TRUST, COUNCIL, MEADOWBANK}


async def test_a_date_that_cannot_be_read_is_asked_again_with_the_formats(desk: Desk) -> None:
    await desk.answer("organisations", "1", "1 3")

    await desk.answer("consent", "1", "3", "abc", "24 Nov 2026", "y")

    assert "write the date as 2026-12-01, 1/12/2026 or 1 Dec 2026" in desk.said
    assert [q.strip() for q in desk.script.asked].count("Given on [2026-11-25]:") == 2
    assert desk.service.load(desk.ref).consents[COUNCIL].given_on == date(2026, 11, 24)


async def test_consent_dated_in_the_future_is_not_recorded_and_says_why(desk: Desk) -> None:
    await desk.answer("organisations", "1", "1 3")
    version = desk.service.load(desk.ref).version

    assert await desk.answer("consent", "1", "3", "1 Dec 2026", "y") == "answered"

    assert "Not recorded: consent cannot be given on a future day" in desk.said
    assert desk.service.load(desk.ref).version == version
    assert desk.status() is Status.AWAITING_CONSENT


async def test_an_organisation_number_out_of_range_is_asked_again(desk: Desk) -> None:
    await desk.answer("organisations", "1", "1 9", "1 3")

    assert "'9' is not one of the numbers shown" in desk.said
    assert desk.service.load(desk.ref).involved == (TRUST, COUNCIL)


async def test_a_required_answer_left_empty_is_asked_again(desk: Desk, config: Config) -> None:
    unlisted = replace(desk.handler, email="")  # no email of their own to offer as the contact's
    talk = Conversation(config, desk.service, unlisted, desk.script, desk.out)
    desk = replace(desk, handler=unlisted, talk=talk)
    desk.service.execute(
        desk.ref, c.IdentifyOrganisations(actor=desk.handler, orgs=(org_ref(config, TRUST),)), NOW
    )

    await desk.answer("named_contact", "1", "", "", "asha.patel@northshire-trust.example", "")

    assert "an answer is needed" in desk.said
    assert desk.status() is Status.PLANNING


async def test_a_date_in_the_past_is_not_recorded_and_says_why(desk: Desk, config: Config) -> None:
    desk.service.execute(
        desk.ref, c.IdentifyOrganisations(actor=desk.handler, orgs=(org_ref(config, TRUST),)), NOW
    )
    version = desk.service.load(desk.ref).version

    assert await desk.answer("response_period", "1", "1/1/2020") == "answered"

    assert "Not recorded: the response date Wednesday 1 January 2020 is in the past" in desk.said
    assert desk.service.load(desk.ref).version == version
    assert desk.service.load(desk.ref).response_period is None


@pytest.mark.parametrize(
    ("reply", "result"), [("s", "skip"), ("q", "quit"), ("7", "answered"), ("x", "answered")]
)
async def test_skip_quit_and_a_number_not_shown_record_nothing(desk: Desk, reply: str, result: str) -> None:
    assert await desk.answer("organisations", reply) == result

    assert desk.status() is Status.RECEIVED
    assert desk.service.load(desk.ref).version == 2
    assert ("Please type one of the numbers shown" in desk.said) is (result == "answered")


async def test_a_number_that_cannot_be_read_is_asked_again_in_plain_words(desk: Desk, config: Config) -> None:
    desk.service.execute(
        desk.ref, c.IdentifyOrganisations(actor=desk.handler, orgs=(org_ref(config, TRUST),)), NOW
    )

    await desk.answer("update_every", "1", "abc", "10")

    assert desk.service.load(desk.ref).update_every == 10
    assert "invalid literal" not in desk.said
    assert "whole number" in desk.said


async def test_a_yes_no_answer_that_is_neither_is_asked_again(desk: Desk) -> None:
    await desk.answer("organisations", "1", "1 3")

    await desk.answer("consent", "1", "3", "24/11/2026", "maybe", "y", all_asked=False)

    assert "Not recorded" not in desk.said
    assert desk.service.load(desk.ref).consent_active(COUNCIL)


def test_waiting_lists_the_prompts_of_each_open_case_for_the_handler(
    config: Config, service: CaseService, inbox: MaildirInbox, intake: Intake, handler: Actor
) -> None:
    for number in (1, 2, 3):
        inbox.deliver(sample(number), RECEIVED)
    refs = sorted(opened(intake.poll(NOW)))

    assert [(r, p.id) for r, p in waiting(service, handler, NOW)] == [(r, "organisations") for r in refs]

    service.execute(refs[0], c.WithdrawComplaint(actor=handler, note="resolved by phone"), NOW)
    service.execute(refs[1], c.IdentifyOrganisations(actor=handler, orgs=(org_ref(config, TRUST),)), NOW)
    assert [(r, p.id) for r, p in waiting(service, handler, NOW)] == [
        (refs[1], "update_every"),
        (refs[1], "named_contact"),
        (refs[1], "response_period"),
        (refs[2], "organisations"),
    ]


def test_waiting_puts_the_oldest_of_cases_due_the_same_day_first(
    service: CaseService, inbox: MaildirInbox, intake: Intake, handler: Actor
) -> None:
    for number in (1, 2, 3):  # received in this order, on the same day
        inbox.deliver(sample(number), RECEIVED + timedelta(minutes=number))
    refs = opened(intake.poll(NOW))  # taken in order of receipt

    assert [r for r, _ in waiting(service, handler, NOW)] == refs


async def test_waiting_asks_involved_organisations_only(desk: Desk, config: Config) -> None:
    await desk.answer("organisations", "1", "1 3 4")
    await desk.answer("consent", "1", "3", "", "")
    await desk.answer("propose_lead", "1", "1", "")

    def prompts(person: str) -> list[str]:
        return [p.id for _, p in waiting(desk.service, actor(config.person(person)), NOW)]

    assert prompts("sam-price") == []  # Riverside Medical Practice is not part of this complaint
    assert prompts("lena-okafor") == [f"lead_answer:{COUNCIL}"]
    assert prompts("ruth-moss") == [f"lead_answer:{MEADOWBANK}"]


async def test_terminal_chat_prints_notices_and_names_people_it_is_meant_for(service: CaseService) -> None:
    out = io.StringIO()
    chat = TerminalChat(service, out)

    await chat.say("JC-1", "JC-1: something", ["handlers"])
    await chat.say("JC-1", "JC-1: help", ["tom-reed", "david-hughes"])

    assert out.getvalue() == "  [chat] JC-1: something\n  [chat (to tom-reed, david-hughes)] JC-1: help\n"


async def test_a_new_email_notice_names_the_case_and_shows_its_first_lines(
    desk: Desk, config: Config
) -> None:
    paragraphs = [f"Paragraph {n}: more about what happened on the ward." for n in range(1, 8)]
    reply = c.ReceiveMessage(
        actor=system_actor(config), message_id="<reply-1@example.org>", sender=Sender.COMPLAINANT,
        from_address="d.okafor@example.com", received_at=NOW, subject="Re: my father's discharge",
        text="\n\n".join(paragraphs),
    )  # fmt: skip
    desk.service.execute(desk.ref, reply, NOW)
    chat = TerminalChat(desk.service, desk.out)

    notice = f"{desk.ref}: a new email from the person: read it."
    await chat.say(desk.ref, notice, ["handlers"], reply.message_id)

    said = desk.said
    assert f"[chat] {desk.ref}: a new email from the person: read it." in said
    assert "Subject: Re: my father's discharge" in said and "d.okafor@example.com" in said
    assert "Paragraph 1:" in said and "Paragraph 2:" in said and "Paragraph 7:" not in said
    assert "[...]" in said and f"r on any question of {desk.ref} reads it whole" in said


@pytest.mark.parametrize("written", ["2026-12-01", "1/12/2026", "1 Dec 2026"])
def test_dates_are_read_in_three_ways(written: str) -> None:
    assert parse_day(written) == date(2026, 12, 1)


def test_an_unreadable_date_says_how_to_write_one() -> None:
    with pytest.raises(ValueError, match="write the date as"):
        parse_day("next Tuesday")


async def test_read_shows_the_whole_complaint_a_screenful_at_a_time_then_asks_again(
    desk: Desk, config: Config
) -> None:
    talk = Conversation(config, desk.service, desk.handler, desk.script, desk.out, screen=(50, 12))
    desk = replace(desk, talk=talk)
    case = desk.service.load(desk.ref)
    lines = case_text(case, NOW.date(), 49)
    enters = [""] * ((len(lines) - 1) // 10)  # a screen of 12 lines shows 10 of the case

    assert await desk.answer("organisations", "r", *enters, "s") == "skip"

    assert len(enters) >= 2
    assert [q for q in desk.script.asked if q.startswith("-- ")][-1].startswith(f"-- {10 * len(enters)} of")
    assert desk.script.asked[-1] == "> "  # the same question, asked again after reading
    assert desk.said.count(ORGANISATIONS) == 2
    assert " ".join(case.text.split()) in " ".join(desk.said.split())
    assert all(len(line) <= 49 for line in lines)
    assert all(line in desk.said for line in lines)
    assert desk.status() is Status.RECEIVED


async def test_q_stops_reading_and_the_question_comes_back(desk: Desk, config: Config) -> None:
    talk = Conversation(config, desk.service, desk.handler, desk.script, desk.out, screen=(60, 10))
    desk = replace(desk, talk=talk)

    assert await desk.answer("organisations", "r", "q", "s") == "skip"

    [first, more, again] = desk.script.asked
    assert (first, again) == ("> ", "> ")
    assert more.startswith("-- 8 of ") and more.endswith("Enter for more, q to stop -- ")
    assert "Waiting" not in desk.said
    assert desk.said.count(ORGANISATIONS) == 2
    assert "r) read the case" in desk.said


DRAFT = "Dear Mr Okafor,\n\n[To complete: what the council found]\n\nYours sincerely,"


def written(
    config: Config, service: CaseService, handler: Actor, typed: list[str], editor: list[str]
) -> Conversation:
    return Conversation(config, service, handler, Script(list(typed)), io.StringIO(), editor=editor)


async def long_answer(talk: Conversation, field: Field) -> Any:
    """What the terminal makes of a long field, as `answer_one` asks it (`Conversation._fields`)."""
    placeholder = c.WithdrawComplaint(actor=talk.actor)  # never run
    return (await talk._fields(Choice("Save", placeholder, (field,)), NOW))[field.name]


def said(talk: Conversation) -> str:
    assert isinstance(talk.out, io.StringIO)
    return talk.out.getvalue()


def script(tmp_path: Path, body: str) -> list[str]:
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\n" + body + "\n")
    editor.chmod(0o755)
    return [str(editor)]


async def test_the_editor_opens_on_the_current_draft_and_what_it_saves_is_the_answer(
    tmp_path: Path, config: Config, service: CaseService, handler: Actor
) -> None:
    editor = script(
        tmp_path, "sed -i 's/\\[To complete: what the council found\\]/The council found no record./' \"$1\""
    )
    talk = written(config, service, handler, [], editor)
    field = Field("text", "Draft joint response", FieldKind.TEXT, default=DRAFT, long=True)

    answer = await long_answer(talk, field)

    assert answer == DRAFT.replace("[To complete: what the council found]", "The council found no record.")
    assert f"opening {editor[0]}" in said(talk)


async def test_an_editor_that_fails_gives_way_to_typed_lines(
    tmp_path: Path, config: Config, service: CaseService, handler: Actor
) -> None:
    talk = written(config, service, handler, ["First line.", "Second line.", "."], script(tmp_path, "exit 3"))
    field = Field("notes", "Notes: what was agreed", FieldKind.TEXT, long=True)

    assert await long_answer(talk, field) == "First line.\nSecond line."
    assert "did not run: it ended with status 3" in said(talk)
    assert talk.editor == []  # not tried again on every question


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ([""], DRAFT),  # Enter keeps the draft shown
        (["Dear Mr Okafor,", "", "We are sorry.", "."], "Dear Mr Okafor,\n\nWe are sorry."),
        (["  One line, indented.  ", "."], "One line, indented."),
    ],
)
async def test_a_long_answer_is_typed_up_to_a_dot_or_kept(
    config: Config, service: CaseService, handler: Actor, typed: list[str], answer: str
) -> None:
    talk = written(config, service, handler, typed, [])
    field = Field("text", "Draft joint response", FieldKind.TEXT, default=DRAFT, long=True)

    assert await long_answer(talk, field) == answer
    assert "      | [To complete: what the council found]" in said(talk)


async def test_a_list_takes_one_item_per_line_and_semicolons_stay_in_an_item(
    config: Config, service: CaseService, handler: Actor
) -> None:
    talk = written(config, service, handler, ["Ward visit; with the family", "", "Records checked", "."], [])
    field = Field("milestones", "Milestones", FieldKind.LINES, required=False)

    assert await long_answer(talk, field) == ["Ward visit; with the family", "Records checked"]


async def test_a_required_long_answer_left_empty_is_asked_again(
    config: Config, service: CaseService, handler: Actor
) -> None:
    talk = written(config, service, handler, [".", "At last.", "."], [])

    assert (
        await long_answer(talk, Field("summary", "What they found", FieldKind.TEXT, long=True)) == "At last."
    )
    assert "an answer is needed" in said(talk)


async def session(desk: Desk, *typed: str) -> str:
    """The handler's session at the terminal, typing `typed` (and nothing more: the last must quit)."""
    desk.script.answers = list(typed)

    async def cycle() -> None:
        return None

    await desk.talk.session(cycle, lambda: NOW)
    assert desk.script.answers == []
    return desk.said


async def test_g_to_no_such_case_says_so_and_asks_on(desk: Desk) -> None:
    said = await session(desk, "g JC-000000-NONE", "q")

    assert "There is no case JC-000000-NONE." in said
    assert said.count(f"{desk.ref}: {ORGANISATIONS}") == 2


async def test_g_to_a_case_with_nothing_waiting_offers_to_read_it(desk: Desk, handler: Actor) -> None:
    desk.service.execute(desk.ref, c.WithdrawComplaint(actor=handler, note="resolved by phone"), NOW)

    desk.talk.screen = (80, 24)
    said = await session(desk, desk.ref.lower(), "r", "q", "q")  # the bare reference goes there too

    assert f"Nothing waits for you on {desk.ref} now." in said
    assert "The complaint" in said and "Received " in said  # read in full from there
    assert "Nothing else is waiting. Press Enter to look again" in said
