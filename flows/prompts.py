"""`next_prompts(case, actor, now)`: what to ask whom next. Conversation state is case state.

The coordinating handler gets the asks in `SETTLING` then `MOVING_ON`, in order of urgency; someone of
another organisation involved gets only the questions put to their organisation. The vocabulary
(`Prompt`, `Choice`, `Field`, `fill`) lives in `flows.conversation`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from flows import asks_anytime as a
from flows import asks_clock as k
from flows import asks_consent as n
from flows import asks_intake as i
from flows import asks_meetings as g
from flows import asks_messages as m
from flows import asks_plan as p
from flows import asks_records as d
from flows import asks_response as r
from flows.calendar import london_date
from flows.conversation import Choice, Field, FieldKind, Prompt, fill
from flows.model import Actor, Case, Status
from flows.rules import COORDINATING_ROLES, ORG_ROLES

__all__ = ["Choice", "Field", "FieldKind", "Prompt", "answerable", "case_menu", "fill", "next_prompts"]

Ask = Callable[[Case, Actor, date], list[Prompt]]
OrgAsk = Callable[[Case, Actor, str, date], list[Prompt]]

# What a coordinating handler is asked: first what settles the case's own standing, then what moves
# it on, which waits while it may be part of another case (`related`): a merge is possible only
# before consent is given, and answering anything after it would make the question vanish.
SETTLING: tuple[Ask, ...] = (
    r.overdue,
    m.letters_in_doubt,
    r.impasse,
    m.related,
    m.messages,
    i.acknowledge,
    m.letters_failed,
    i.time_limit,
)
MOVING_ON: tuple[Ask, ...] = (
    i.organisations,
    n.consent,
    i.lead_view,
    i.lead,
    i.named_contact,
    i.response_period,
    k.clocks,
    p.discussion,
    p.plan,
    p.date_proposals,
    g.meetings,
    p.progress,
    r.drafting,
    r.actions,
    d.coding,
    r.closing,
)


# What someone of another organisation involved is asked, for their organisation.
ORG_ASKS: tuple[OrgAsk, ...] = (
    i.lead_answer,
    p.strands_for,
    r.comments_for,
    r.actions_for,
    r.impasse_answer,
)


def next_prompts(case: Case, actor: Actor, now: datetime) -> list[Prompt]:
    """The questions waiting for `actor` on `case` at `now`, most urgent first. A closed case asks
    only about a letter that may or may not have gone, or that could not go; a case that may be
    part of another asks nothing that moves it on until that is answered."""
    if case.version == 0:
        return []
    today = london_date(now)
    closed = case.status is Status.CLOSED
    if _coordinates(case, actor):
        if closed:
            return [p for ask in (m.letters_in_doubt, m.letters_failed) for p in ask(case, actor, today)]
        settling = [p for ask in SETTLING for p in ask(case, actor, today)]
        if any(p.id == "related" for p in settling):
            return settling
        return settling + [p for ask in MOVING_ON for p in ask(case, actor, today)]
    if not closed and actor.org_id in case.involved and actor.roles & ORG_ROLES:
        return [prompt for ask in ORG_ASKS for prompt in ask(case, actor, actor.org_id, today)]
    return []


def case_menu(case: Case, actor: Actor, now: datetime) -> list[Prompt]:
    """What `actor` may do on `case` at any time, beside its questions (`flows.asks_anytime`)."""
    if case.version == 0 or not _coordinates(case, actor):
        return []
    return a.anytime(case, actor, london_date(now))


def answerable(case: Case, actor: Actor, now: datetime) -> list[Prompt]:
    """Every prompt an answer from `actor` may be to: the questions waiting, then the menu."""
    return [*next_prompts(case, actor, now), *case_menu(case, actor, now)]


def _coordinates(case: Case, actor: Actor) -> bool:
    return bool(actor.roles & COORDINATING_ROLES) and actor.org_id == case.coordinator
