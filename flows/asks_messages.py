"""What to ask about email that arrived on a case, and about a case that may belong to another."""

from __future__ import annotations

from datetime import date

from flows import commands as c
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.model import Actor, Case, Sender, Status


def related(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if not case.related or case.status not in (Status.RECEIVED, Status.AWAITING_CONSENT):
        return []
    choices = [Choice(f"Merge it into {ref}", c.MergeInto(actor=actor, target=ref)) for ref in case.related]
    choices.append(Choice("It is a separate complaint", c.DismissRelated(actor=actor)))
    refs = ", ".join(case.related)
    return [
        Prompt(
            "related",
            f"This email mentions {refs} but did not come from that case's complainant or contacts. "
            "Is it part of that case?",
            tuple(choices),
        )
    ]


def messages(case: Case, actor: Actor, today: date) -> list[Prompt]:
    prompts = []
    for message in case.messages:
        if message.read:
            continue
        who = case.orgs[message.org_id].name if message.org_id in case.orgs else message.sender.value
        choices = [Choice("Mark it read", c.MarkMessageRead(actor=actor, message_id=message.message_id))]
        strand = case.strands.get(message.strand_id)
        if message.sender is Sender.CONTRIBUTOR and strand and strand.contribution is None:
            summary = Field("summary", "Their response", FieldKind.TEXT, default=message.text)
            kept = tuple(a.name for a in message.attachments)  # the files come with the response
            record = c.RecordContribution(
                actor=actor, strand_id=strand.id, summary=message.text, attachments=kept
            )
            choices.insert(0, Choice(f"Record it as the response on {strand.id}", record, (summary,)))
        prompts.append(
            Prompt(
                f"message:{message.message_id}",
                f"New email from {who}, received {message.received_at:%d %b %Y %H:%M}: read it in "
                "the case record.",
                tuple(choices),
            )
        )
    return prompts
