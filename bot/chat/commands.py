"""What a chat's commands do, whichever chat types them: logging a complaint made by phone or in
person, and finding a case (`/complaint` in Slack, the bot's commands in Teams)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.chat.answers import visible
from bot.config import Config
from bot.directory import org_ref, spot_organisations
from bot.service import CaseService
from flows import commands as c
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.model import Actor, Channel, Person, Role

NEW = "New complaint"  # the "case" a new complaint's form names, before it has a reference
ORAL = (Channel.PHONE, Channel.IN_PERSON, Channel.LETTER)
NEW_FIELDS = (
    Field("channel", "How was it made?", FieldKind.CHOICE,
          tuple((ch.value, ch.value.replace("_", " ")) for ch in ORAL), default=Channel.PHONE.value),
    Field("name", "The person's name", FieldKind.TEXT),
    Field("email", "Their email (for the written record)", FieldKind.TEXT, required=False),
    Field("phone", "Their phone", FieldKind.TEXT, required=False),
    Field("subject", "In a few words", FieldKind.TEXT),
    Field("text", "The complaint, as the person put it", FieldKind.TEXT),
)  # fmt: skip
FOUND_AT_MOST = 20
ALREADY_LOGGED = "This complaint is already logged; its thread is in the complaints channel."


def new_prompt(who: Actor) -> Prompt:
    """The oral complaint form, as a question whose fields a chat's form renders."""
    placeholder = c.WithdrawComplaint(actor=who)  # never run: the form builds a ReceiveComplaint
    return Prompt(
        "new", "A complaint made by phone or in person", (Choice("Log it", placeholder, NEW_FIELDS),)
    )


def oral_complaint(config: Config, who: Actor, values: dict[str, Any], now: datetime) -> c.ReceiveComplaint:
    """The complaint the form's `values` (from `NEW_FIELDS`) record."""
    text = str(values["text"])
    return c.ReceiveComplaint(
        actor=who,
        channel=Channel(values["channel"]),
        received_at=now,
        complainant=Person(str(values["name"]), str(values.get("email", "")), str(values.get("phone", ""))),
        home_org=org_ref(config, config.service.home_organisation),
        subject=str(values["subject"]),
        text=text,
        suggested_orgs=spot_organisations(config, text),
    )


def find_cases(config: Config, service: CaseService, who: Actor, needle: str) -> list[str]:
    """The case `needle` names, if `who` may know of it; else, for a handler of the organisation
    holding the cases, the open cases whose complainant's name holds it."""
    found = visible(service, who, needle.upper())
    if found:
        return [found.ref]
    if who.org_id != config.service.home_organisation or Role.HANDLER not in who.roles:
        return []
    folded = needle.casefold()
    refs = [c.ref for c in service.store.open_cases()]
    hits = [ref for ref in refs if folded in service.load(ref).complainant.name.casefold()]
    return sorted(hits)[:FOUND_AT_MOST]
