"""Rules for email that arrives on an existing case, and for merging a case into another.

Intake threads a reply onto its case as a `ReceiveMessage` from the assistant. The handler is told
that something arrived (never what it says: chat carries no personal details) and marks it read,
or records what an organisation that only uses email said in it (`c.ByEmail`: its response, a
request for a new date, its answer to the proposed lead, or a new date the handler sets on it) as
the organisation's own command would, with the message read in the same decision.

A case opened from an email that only seemed to belong to another (a stranger quoting a
reference) can be merged into it: it closes and its complaint is carried over as a message by a
`CarryMessage` effect, so a crash between the two cases' writes repeats the carry instead of
losing it.
"""

from __future__ import annotations

from datetime import datetime

from flows import commands as c
from flows import events as ev
from flows.effects import CarryMessage
from flows.errors import Forbidden, InvalidCommand
from flows.model import REFERENCE, Case, ClosureReason, Role, Sender
from flows.rules import Out, Rule, require_coordinator
from flows.rules_intake import respond_to_lead
from flows.rules_response import change_target, contribution, propose_target


def receive_message(case: Case, cmd: c.ReceiveMessage, now: datetime) -> Out:
    if Role.SYSTEM not in cmd.actor.roles:
        raise Forbidden("messages are filed by the assistant's intake", actor=cmd.actor.id)
    if cmd.received_at.tzinfo is None:
        raise InvalidCommand("the time of receipt must carry its time zone")
    if any(m.message_id == cmd.message_id for m in case.messages):
        raise InvalidCommand("this message is already on the case", message_id=cmd.message_id)
    sender = cmd.sender
    if sender is Sender.OTHER and cmd.from_address.casefold() == case.complainant.email.casefold():
        sender = Sender.COMPLAINANT
    out = Out(case, cmd.actor.id, now).event(
        ev.MessageReceived,
        message_id=cmd.message_id,
        sender=sender,
        from_address=cmd.from_address,
        received_at=cmd.received_at,
        subject=cmd.subject,
        text=cmd.text,
        org_id=cmd.org_id,
        strand_id=cmd.strand_id,
        attachments=cmd.attachments,
    )
    who = case.sent_by(cmd.org_id, sender)
    return out.notify("message_received", who=who, strand=cmd.strand_id, message_id=cmd.message_id)



def mark_read(case: Case, cmd: c.MarkMessageRead, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    if not any(m.message_id == cmd.message_id for m in case.messages):
        raise InvalidCommand("no such message on this case", message_id=cmd.message_id)
    return Out(case, cmd.actor.id, now).event(ev.MessageRead, message_id=cmd.message_id)


def by_email(case: Case, cmd: c.Command, now: datetime) -> Out:
    """The organisation's own rule, on the handler's word, and the message read. The message is
    checked first: only the coordinating handler records what arrived on the case."""
    assert isinstance(cmd, c.ByEmail), "BY_EMAIL holds only ByEmail commands"
    read = mark_read(case, c.MarkMessageRead(actor=cmd.actor, message_id=cmd.message_id), now)
    out = BY_EMAIL[type(cmd)](case, cmd, now)
    out.events.extend(read.events)
    return out


BY_EMAIL: dict[type[c.Command], Rule] = {
    c.RecordContributionByEmail: contribution,
    c.ProposeTargetDateByEmail: propose_target,
    c.ChangeTargetDateByEmail: change_target,
    c.RespondToLeadByEmail: respond_to_lead,
}


def merge_into(case: Case, cmd: c.MergeInto, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    if not REFERENCE.fullmatch(cmd.target) or cmd.target == case.ref:
        raise InvalidCommand(f"'{cmd.target}' is not another case's reference", target=cmd.target)
    out = Out(case, cmd.actor.id, now).event(
        ev.CaseClosed, reason=ClosureReason.MERGED, note=f"merged into {cmd.target}"
    )
    out.effects.append(
        CarryMessage(
            key=out.key("carry", cmd.target),
            ref=case.ref,
            target=cmd.target,
            message_id=case.message_id or f"<{case.ref}@merged.jointly.invalid>",
            from_address=case.complainant.email,
            received_at=case.received,
            subject=case.subject,
            text=case.text,
        )
    )
    return out


def dismiss_related(case: Case, cmd: c.DismissRelated, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    if not case.related:
        raise InvalidCommand("this case is not marked as possibly related to another")
    return Out(case, cmd.actor.id, now).event(ev.RelatedDismissed)


MESSAGE_RULES: dict[type[c.Command], Rule] = {
    c.ReceiveMessage: receive_message,
    c.MarkMessageRead: mark_read,
    c.MergeInto: merge_into,
    c.DismissRelated: dismiss_related,
    **dict.fromkeys(BY_EMAIL, by_email),
}
