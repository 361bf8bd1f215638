"""Every message lands once: on its case, as a new case, or recorded as automatic and never answered."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from bot.config import Config
from bot.directory import actor, org_ref, system_actor
from bot.intake import Intake, Outcome
from bot.runner import EffectRunner
from bot.service import CaseService
from bot.threads import SENT
from flows import commands as c
from flows.calendar import london_date
from flows.model import ConsentMethod, LeadCriterion, Sender
from flows.prompts import next_prompts
from mail.letters import message_id_for
from mail.maildir import MaildirInbox
from mail.tokens import ReplyToken, reply_address
from store.store import Store
from tests.bot.support import NOW, RECEIVED, SECRET, complaint, files, read_eml

PAT = "Pat Example <pat@example.org>"


def take(intake: Intake, inbox: MaildirInbox, data: bytes, minutes: int = 0) -> Outcome:
    inbox.deliver(data, RECEIVED + timedelta(minutes=minutes))
    [outcome] = intake.poll(NOW + timedelta(minutes=minutes))
    return outcome


async def first_case(intake: Intake, inbox: MaildirInbox, runner: EffectRunner) -> tuple[str, str]:
    """A new complaint from Pat, acknowledged; its reference and the acknowledgement's Message-ID."""
    outcome = take(intake, inbox, complaint(sender=PAT))
    assert outcome.outcome == "new" and outcome.ref
    await runner.run_due(NOW)
    [letter] = runner.service.load(outcome.ref).letters.values()
    return outcome.ref, letter.message_id


async def test_a_reply_to_our_acknowledgement_lands_on_its_case(
    intake: Intake, inbox: MaildirInbox, runner: EffectRunner, service: CaseService, config: Config
) -> None:
    ref, acknowledgement = await first_case(intake, inbox, runner)
    reply = complaint(
        "<reply-1@example.org>",
        "Thank you, call me on Friday.",
        "Re: We have received it",
        PAT,
        (f"In-Reply-To: {acknowledgement}",),
    )

    outcome = take(intake, inbox, reply, minutes=5)

    assert (outcome.outcome, outcome.ref, outcome.detail) == ("threaded", ref, "complainant")
    [message] = service.load(ref).messages
    assert (message.sender, message.text) == (Sender.COMPLAINANT, "Thank you, call me on Friday.")
    handler = actor(config.person("asha-patel"))
    assert [p.id for p in next_prompts(service.load(ref), handler, NOW)][0] == "message:<reply-1@example.org>"


async def test_the_reference_in_the_subject_from_the_complainant_threads(
    intake: Intake, inbox: MaildirInbox, runner: EffectRunner
) -> None:
    ref, _ = await first_case(intake, inbox, runner)
    outcome = take(intake, inbox, complaint("<r2@example.org>", "More", f"About {ref.lower()}", PAT), 5)
    assert (outcome.outcome, outcome.ref) == ("threaded", ref)


def unkeyed_id(key: str, config: Config) -> str:
    """A letter's Message-ID as it was before ids were keyed: anyone knowing the reference could
    compute it, since an effect's key is the reference and the letter's name."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{config.service.reply_domain}>"


async def test_a_stranger_computing_a_letter_id_from_the_reference_opens_a_new_case(
    intake: Intake, inbox: MaildirInbox, runner: EffectRunner, service: CaseService, config: Config
) -> None:
    ref, acknowledgement = await first_case(intake, inbox, runner)
    [letter] = service.load(ref).letters.values()
    assert letter.key.startswith(ref)
    assert acknowledgement == message_id_for(letter.key, config.service.reply_domain, SECRET)
    computed = unkeyed_id(letter.key, config)
    eve = "Eve <eve@elsewhere.example>"

    quoting = complaint("<e1@x.example>", "Add this", f"Re: {ref}", eve, (f"In-Reply-To: {computed}",))
    first = take(intake, inbox, quoting, minutes=5)
    assert first.outcome == "new" and service.load(first.ref or "").related == (ref,)

    silent = complaint("<e2@x.example>", "And this", "Re: hello", eve, (f"References: {computed}",))
    outcome = take(intake, inbox, silent, minutes=6)
    assert outcome.outcome == "new"
    assert service.load(outcome.ref or "").related == (first.ref,)  # Eve's own case, never the other
    assert service.load(ref).messages == ()


def test_a_store_from_before_keyed_ids_still_threads_replies_to_its_letters(
    intake: Intake, inbox: MaildirInbox, service: CaseService, store: Store, config: Config
) -> None:
    ref = take(intake, inbox, complaint(sender=PAT)).ref or ""
    [record] = [r for s, r in store.due_effects(NOW) if s == ref and r.effect["type"] == "SendLetter"]
    old = unkeyed_id(record.key, config)  # sent and recorded as the runner did before the change
    sent = c.RecordLetterSent(actor=system_actor(config), key=record.key, message_id=old)
    service.complete(ref, record.key, sent, NOW, keys=[SENT + old])

    reply = complaint("<r-old@example.org>", "Thank you.", "Re: your letter", PAT, (f"In-Reply-To: {old}",))
    outcome = take(intake, inbox, reply, minutes=5)

    assert (outcome.outcome, outcome.ref, outcome.detail) == ("threaded", ref, "complainant")
    assert [m.text for m in service.load(ref).messages] == ["Thank you."]


async def test_a_stranger_quoting_a_reference_opens_a_new_related_case(
    intake: Intake, inbox: MaildirInbox, runner: EffectRunner, service: CaseService, config: Config
) -> None:
    ref, _ = await first_case(intake, inbox, runner)
    stranger = complaint("<s1@example.org>", "Me too", f"Re: {ref}", "Sam <sam@elsewhere.example>")

    outcome = take(intake, inbox, stranger, minutes=5)

    assert outcome.outcome == "new" and outcome.ref != ref
    assert service.load(ref).messages == ()
    new = service.load(outcome.ref or "")
    assert new.related == (ref,)
    handler = actor(config.person("asha-patel"))
    [related] = [p for p in next_prompts(new, handler, NOW) if p.id == "related"]
    service.execute(new.ref, related.choices[0].command, NOW)  # "Merge it into <ref>"
    await runner.run_due(NOW + timedelta(minutes=6))
    assert service.load(new.ref).status.value == "closed"
    assert [m.text for m in service.load(ref).messages] == ["Me too"]


async def test_a_contributor_reply_to_a_signed_address_lands_on_its_strand(
    intake: Intake,
    inbox: MaildirInbox,
    runner: EffectRunner,
    service: CaseService,
    config: Config,
    outbox_dir: Path,
) -> None:
    ref, _ = await first_case(intake, inbox, runner)
    handler = actor(config.person("asha-patel"))
    council = config.organisation("northshire-council")
    orgs = (org_ref(config, "northshire-trust"), org_ref(config, council.id))
    today = london_date(NOW)
    for command in (
        c.IdentifyOrganisations(actor=handler, orgs=orgs),
        c.RecordConsent(
            actor=handler,
            org_ids=(council.id,),
            method=ConsentMethod.PHONE,
            given_on=today,
            capacity_confirmed=True,
        ),
        c.RecordComplainantView(actor=handler, view="No preference given"),
        c.ProposeLead(
            actor=handler, org_id="northshire-trust", criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)
        ),
    ):
        service.execute(ref, command, NOW)
    await runner.run_due(NOW + timedelta(minutes=1))
    letters = [read_eml(f) for f in files(outbox_dir)]
    [proposal] = [m for m in letters if council.complaints_email in str(m["To"])]
    reply_to = str(proposal["Reply-To"])
    assert reply_to == reply_address(config.outbox.from_address, SECRET, ReplyToken(ref, council.id, ""))

    answer = complaint(
        "<c1@council.example>",
        "We agree the trust leads.",
        "Re: lead",
        f"Lena <{council.complaints_email}>",
        (f"Delivered-To: {reply_to}",),
    )
    outcome = take(intake, inbox, answer, minutes=5)
    assert (outcome.outcome, outcome.ref, outcome.detail) == ("threaded", ref, "contributor")
    [message] = service.load(ref).messages
    assert (message.sender, message.org_id) == (Sender.CONTRIBUTOR, council.id)

    forged = reply_to.replace(reply_to.split("@")[0][-4:], "aaaa")
    stranger = complaint(
        "<f1@example.org>", "Let me in", "Hello", "Eve <eve@example.org>", (f"Delivered-To: {forged}",)
    )
    outcome = take(intake, inbox, stranger, minutes=6)
    assert outcome.outcome == "new" and "forged" in outcome.detail


async def test_a_bounce_of_our_acknowledgement_is_recorded_on_the_case_and_not_answered(
    intake: Intake, inbox: MaildirInbox, runner: EffectRunner, service: CaseService, store: Store
) -> None:
    ref, acknowledgement = await first_case(intake, inbox, runner)
    bounce = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        "To: complaints@northshire-trust.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.example.org>\r\nAuto-Submitted: auto-replied\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; pat@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {acknowledgement}\r\n"
        "Subject: We have received your complaint\r\n\r\n--B--\r\n"
    ).encode()

    outcome = take(intake, inbox, bounce, minutes=5)

    assert (outcome.outcome, outcome.ref, outcome.detail) == ("automatic", ref, "bounce")
    [letter] = service.load(ref).letters.values()
    assert letter.failed.startswith("bounced: status 5.1.1")
    sent = len(files(runner.mailer.path))  # type: ignore[attr-defined]
    await runner.run_due(NOW + timedelta(minutes=6))
    assert len(files(runner.mailer.path)) == sent  # type: ignore[attr-defined]  # nothing answers it
    assert any("could not be sent" in s.text for s in runner.chat.said)  # type: ignore[attr-defined]


def test_an_out_of_office_is_recorded_and_never_acknowledged(
    intake: Intake, inbox: MaildirInbox, store: Store
) -> None:
    away = complaint(
        "<ooo@example.org>", "I am away", "Automatic reply", PAT, ("Auto-Submitted: auto-replied",)
    )
    outcome = take(intake, inbox, away)
    assert (outcome.outcome, outcome.ref, outcome.detail) == ("automatic", None, "auto_reply")
    assert store.has_key("mail:<ooo@example.org>")
    assert not [s for s in store.summaries() if s.stream.startswith("JC-")]
    assert take(intake, inbox, away, minutes=1).outcome == "duplicate"


def test_automatic_letters_to_one_sender_are_limited_per_day(
    intake: Intake, inbox: MaildirInbox, store: Store, config: Config
) -> None:
    limit = config.service.automatic_letters_per_sender_per_day
    acknowledged = []
    for n in range(limit + 2):
        outcome = take(intake, inbox, complaint(f"<loop-{n}@example.org>", f"Message {n}", "Hi", PAT), n)
        case = store.load(outcome.ref or "")
        acknowledged.append(any(e["type"] == "LetterQueued" for e in case.events))
    assert acknowledged == [True] * limit + [False, False]
    later = take(intake, inbox, complaint("<loop-late@example.org>", "Next day", "Hi", PAT), 60 * 25)
    assert any(e["type"] == "LetterQueued" for e in store.load(later.ref or "").events)


def test_attachments_are_kept_under_generated_names_and_recorded_with_type_and_size(
    intake: Intake, inbox: MaildirInbox, service: CaseService, config: Config
) -> None:
    letter = EmailMessage()
    letter["From"], letter["To"], letter["Subject"] = PAT, "complaints@northshire-trust.example", "Photos"
    letter["Message-ID"] = "<att-1@example.org>"
    letter.set_content("Please see the attached discharge letter.")
    letter.add_attachment(
        b"%PDF-1.4 discharge letter", maintype="application", subtype="pdf", filename="../../etc/passwd"
    )

    outcome = take(intake, inbox, letter.as_bytes())

    [kept] = service.load(outcome.ref or "").attachments
    assert (kept.filename, kept.content_type, kept.size) == ("passwd", "application/pdf", 25)
    stored = config.service.data_dir / "attachments"
    [path] = [p for p in stored.rglob("*") if p.is_file()]
    assert path.name == kept.name and path.name.endswith(".pdf") and "passwd" not in str(path)
    assert path.read_bytes() == b"%PDF-1.4 discharge letter"
