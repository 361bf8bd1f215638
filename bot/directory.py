"""The configured directory seen by the core: people become `Actor`s, organisations `OrgRef`s.

It also spots organisations named in a complaint, so the handler's first question comes with the
likely answer already ticked.
"""

from __future__ import annotations

from bot.config import Config, Person
from flows.model import Actor, Advocacy, OrgRef, Role, Sector

SYSTEM_ID = "jointly"


def org_ref(config: Config, org_id: str) -> OrgRef:
    org = config.organisation(org_id)
    advocacy = org.advocacy
    return OrgRef(
        id=org.id,
        name=org.name,
        sector=Sector(org.sector),
        kind=org.kind,
        email=org.complaints_email,
        phone=org.complaints_phone,
        advocacy=Advocacy(advocacy.name, advocacy.phone, advocacy.website) if advocacy else None,
        has_contacts=bool(org.contacts),
        escalation_email=org.escalation_email or "",
    )


def actor(person: Person) -> Actor:
    roles = frozenset(Role(r) for r in person.roles)
    return Actor(person.id, person.organisation, roles, person.name, person.email)


def system_actor(config: Config) -> Actor:
    """The assistant itself, acting for the organisation that runs it."""
    return Actor(SYSTEM_ID, config.service.home_organisation, frozenset({Role.SYSTEM}), "jointly")


def spot_organisations(config: Config, text: str) -> tuple[str, ...]:
    """Organisations whose name or an alias appears in `text` (case does not matter)."""
    folded = text.casefold()
    return tuple(
        org.id
        for org in config.organisations
        if any(name.casefold() in folded for name in (org.name, *org.aliases))
    )


def handlers(config: Config, org_id: str) -> list[Person]:
    return [p for p in config.people if p.organisation == org_id and "handler" in p.roles]
