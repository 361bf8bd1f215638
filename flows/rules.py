"""What the rules share: the `Out` builder, actor checks, recipients and effect keys.

A rule is `rule(case, command, now) -> Out`. It may raise a `DomainError`; it never reads the
clock or performs I/O. Keys of effects are deterministic (case, version, purpose, recipient), so
deciding the same command on the same case twice yields the same keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flows import events as ev
from flows.calendar import is_working_day, london_date
from flows.effects import Effect, Notify, Recipient, RecipientKind, SendLetter
from flows.errors import Forbidden, InvalidCommand
from flows.model import Actor, Case, Person, Role, Strand

COORDINATING_ROLES = frozenset({Role.HANDLER, Role.ADMIN, Role.SYSTEM})
ORG_ROLES = frozenset({Role.HANDLER, Role.CONTRIBUTOR, Role.MANAGER, Role.ADMIN})


@dataclass
class Out:
    """What a rule decided: events, then effects (letters, notifications)."""

    case: Case
    by: str
    now: datetime
    events: list[ev.Event] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)

    def event(self, cls: type[ev.Event], **fields: Any) -> Out:
        self.events.append(cls(at=self.now, by=self.by, **fields))
        return self

    def letter(
        self,
        template: str,
        to: Recipient | None,
        *,
        automatic: bool = False,
        in_reply_to: str = "",
        tag: str = "",
        **context: Any,
    ) -> Out:
        """Queue a letter; to the complainant with no email address, nothing is queued. `tag` tells
        apart several letters of one template to one recipient in the same decision."""
        if to is None or not to.address:
            return self
        discloses = to.org_id if to.kind is not RecipientKind.COMPLAINANT else None
        self.effects.append(
            SendLetter(
                key=self.key(template + tag, to.org_id or to.kind.value),
                ref=self.case.ref,
                discloses_to=discloses,
                template=template,
                to=to,
                context={"ref": self.case.ref, **context},
                automatic=automatic,
                in_reply_to=in_reply_to,
            )
        )
        return self

    def notify(
        self,
        message: str,
        audience: str = "handlers",
        discloses_to: str | None = None,
        tag: str = "",
        **context: Any,
    ) -> Out:
        """Tell people in chat; `discloses_to` names another organisation that will read it."""
        self.effects.append(
            Notify(
                key=self.key("notify-" + message + tag, audience),
                ref=self.case.ref,
                discloses_to=discloses_to,
                audience=audience,
                message=message,
                context={"ref": self.case.ref, **context},
            )
        )
        return self

    def key(self, purpose: str, recipient: str) -> str:
        return f"{self.case.ref}/{self.case.version}/{purpose}/{recipient}"


Rule = Callable[[Case, Any, datetime], Out]


def long_date(day: date) -> str:
    """'Tuesday 24 November 2026', the way letters write dates."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def today(now: datetime) -> date:
    return london_date(now)


def complainant(person: Person) -> Recipient | None:
    if not person.email:
        return None
    return Recipient(RecipientKind.COMPLAINANT, person.email, person.name)


def direct_contacts(case: Case, org_ids: tuple[str, ...]) -> list[dict[str, str]]:
    """How the person can reach each organisation directly: its name, email and phone."""
    return [
        {
            "name": case.orgs[o].name,
            "contact": ", ".join(x for x in (case.orgs[o].email, case.orgs[o].phone) if x),
        }
        for o in org_ids
    ]


def correspondent(case: Case) -> Recipient | None:
    """Who the case's letters go to: the representative when one with their own address acts for
    the person, else the person who complained."""
    rep = case.representative
    if rep is not None and rep.email:
        return Recipient(RecipientKind.COMPLAINANT, rep.email, rep.name)
    return complainant(case.complainant)


def organisation(case: Case, org_id: str) -> Recipient:
    org = case.orgs[org_id]
    return Recipient(RecipientKind.ORGANISATION, org.email, org.name, org.id)


def require_coordinator(case: Case, actor: Actor) -> None:
    """Handlers (or the assistant itself) of the coordinating organisation run the case."""
    if not actor.roles & COORDINATING_ROLES:
        raise Forbidden("only a complaint handler can do this", actor=actor.id)
    if Role.SYSTEM not in actor.roles and actor.org_id != case.coordinator:
        org = case.orgs.get(case.coordinator)
        raise Forbidden(
            f"only {org.name if org else case.coordinator} coordinates this case",
            actor=actor.id,
            org_id=actor.org_id,
        )


def require_for_org(case: Case, actor: Actor, org_id: str) -> None:
    """Someone of `org_id` answers for it; the coordinating handler may record it on their behalf."""
    if org_id not in case.involved:
        raise InvalidCommand(f"{org_id} is not involved in this case", org_id=org_id)
    if actor.org_id == org_id and actor.roles & ORG_ROLES:
        return
    require_coordinator(case, actor)


def require_involved(case: Case, org_ids: tuple[str, ...] | list[str]) -> None:
    unknown = [o for o in org_ids if o not in case.involved]
    if unknown or not org_ids:
        raise InvalidCommand(
            f"not involved in this case: {', '.join(unknown)}" if unknown else "name an organisation",
            org_ids=unknown,
        )


def require_text(value: str, what: str) -> None:
    if not value.strip():
        raise InvalidCommand(f"{what} is required", field=what)


def require_not_past(day: date, now: datetime, what: str) -> None:
    if day < today(now):
        raise InvalidCommand(f"{what} {long_date(day)} is in the past", field=what)


def require_target(day: date, now: datetime) -> None:
    """A date someone is held to: a working day, not in the past."""
    require_not_past(day, now, "the date")
    if not is_working_day(day):
        raise InvalidCommand(f"{long_date(day)} is not a working day")


def letterhead(case: Case) -> dict[str, Any]:
    """What every letter to the person says of who writes and to whom: the coordinating
    organisation, the one it is addressed to, and whom they act for when a representative does."""
    rep = case.representative
    return {
        "org_name": case.orgs[case.coordinator].name,
        "complainant_name": rep.name if rep else case.complainant.name,
        "on_behalf_of": rep.acts_for if rep else "",
    }


def require_others(case: Case, org_ids: tuple[str, ...]) -> None:
    """Organisations involved other than the receiving one: those whose consent is asked."""
    require_involved(case, org_ids)
    if case.home_org in org_ids:
        raise InvalidCommand("consent is needed only for other organisations", org_id=case.home_org)


def strand_of(case: Case, strand_id: str) -> Strand:
    strand = case.strands.get(strand_id)
    if strand is None:
        raise InvalidCommand(f"no strand {strand_id} in the plan", strand_id=strand_id)
    return strand


def names(case: Case, org_ids: tuple[str, ...] | list[str]) -> list[str]:
    return [case.orgs[o].name for o in org_ids]
