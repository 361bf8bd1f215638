"""Rules for the person's consent, organisation by organisation, and for whoever acts for them.

DOMAIN.md section 2, step 3. Consent is given, refused or withdrawn for each organisation apart,
and one answer may do both ("yes for the council, no for the care home"). An organisation without
consent on record is sent nothing (`flows.decide` refuses any disclosure to it); those that did
consent carry on. A representative (a relative with lasting power of attorney, a deputy, someone
acting in the person's best interests) is recorded once for the case: the letters go to them and
say whom they are about.
"""

from __future__ import annotations

from datetime import datetime

from flows import commands as c
from flows import events as ev
from flows.errors import InvalidCommand
from flows.model import Case, Representative, RepresentativeBasis
from flows.rules import (
    Out,
    Rule,
    correspondent,
    direct_contacts,
    letterhead,
    long_date,
    names,
    require_coordinator,
    require_others,
    require_text,
    today,
)


def request_consent(case: Case, cmd: c.RequestConsent, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_others(case, cmd.org_ids)
    return (
        Out(case, cmd.actor.id, now)
        .event(ev.ConsentRequested, org_ids=cmd.org_ids)
        .letter(
            "consent_request", correspondent(case), organisations=names(case, cmd.org_ids), **letterhead(case)
        )
    )


def record_consent(case: Case, cmd: c.RecordConsent, now: datetime) -> Out:
    """The person's answer: consent given for `org_ids`, refused for `refused`, in one go."""
    require_coordinator(case, cmd.actor)
    if not cmd.org_ids and not cmd.refused:
        raise InvalidCommand("say which organisations the person consented to, or refused")
    both = sorted(set(cmd.org_ids) & set(cmd.refused))
    if both:
        raise InvalidCommand(f"consent cannot be both given and refused for {', '.join(names(case, both))}")
    require_others(case, (*cmd.org_ids, *cmd.refused))
    if cmd.given_on > today(now):
        raise InvalidCommand(f"consent cannot be given on a future day ({long_date(cmd.given_on)})")
    rep = cmd.representative
    if cmd.org_ids and not cmd.capacity_confirmed and rep is None and case.representative is None:
        raise InvalidCommand(
            "confirm the person can consent, or record the representative and their authority"
        )
    out = Out(case, cmd.actor.id, now)
    if rep is not None:
        _check_representative(rep)
        out.event(ev.RepresentativeRecorded, representative=rep)
    if cmd.org_ids:
        out.event(
            ev.ConsentGiven,
            org_ids=cmd.org_ids,
            method=cmd.method,
            given_on=cmd.given_on,
            capacity_confirmed=cmd.capacity_confirmed,
            representative=rep or case.representative,
            joint=cmd.joint,
            includes_learning=cmd.includes_learning,
        )
    if cmd.refused:
        out.event(
            ev.ConsentRefused, org_ids=cmd.refused, note=f"Said on {long_date(cmd.given_on)}."
        )
    return out


def refuse_consent(case: Case, cmd: c.RecordConsentRefused, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_others(case, cmd.org_ids)
    return Out(case, cmd.actor.id, now).event(ev.ConsentRefused, org_ids=cmd.org_ids, note=cmd.note)


def withdraw_consent(case: Case, cmd: c.WithdrawConsent, now: datetime) -> Out:
    """The person takes their consent back: that organisation hears nothing more of the case until
    consent is given again (the handler may instead signpost the person to it), and the person
    (with its direct contact details) and the lead's handlers are told what that means."""
    require_coordinator(case, cmd.actor)
    require_others(case, cmd.org_ids)
    not_given = [o for o in cmd.org_ids if not case.consent_active(o)]
    if not_given:
        raise InvalidCommand(f"no consent on record to withdraw for {', '.join(names(case, not_given))}")
    if case.lead in cmd.org_ids:
        raise InvalidCommand(
            f"{case.orgs[case.lead].name} leads this complaint: it cannot go on leading without the "
            "person's consent. Raise an impasse so that senior managers agree who takes it over."
        )
    out = Out(case, cmd.actor.id, now).event(ev.ConsentWithdrawn, org_ids=cmd.org_ids, note=cmd.note)
    out.letter(
        "consent_withdrawn",
        correspondent(case),
        organisations=direct_contacts(case, cmd.org_ids),
        withdrawn_on=long_date(today(now)),
        **letterhead(case),
    )
    return out.notify("consent_withdrawn", organisations=names(case, cmd.org_ids))


def record_representative(case: Case, cmd: c.RecordRepresentative, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    rep = Representative(
        name=cmd.name.strip() or case.complainant.name,  # most often, the one who wrote in
        relationship=cmd.relationship.strip(),
        basis=cmd.basis,
        evidence=cmd.evidence.strip(),
        acts_for=cmd.acts_for.strip(),
        email=cmd.email.strip(),
        capacity_note=cmd.capacity_note.strip(),
    )
    _check_representative(rep)
    require_text(rep.acts_for, "the name of the person they act for")
    require_text(rep.relationship, "their relationship to the person")
    if rep.basis is RepresentativeBasis.BEST_INTERESTS and not rep.capacity_note:
        raise InvalidCommand(
            "acting in the person's best interests needs your note on why they cannot consent"
        )
    if rep.email and ("@" not in rep.email or " " in rep.email):
        raise InvalidCommand(f"'{rep.email}' is not an email address", field="email")
    return Out(case, cmd.actor.id, now).event(ev.RepresentativeRecorded, representative=rep)


def _check_representative(rep: Representative) -> None:
    if not rep.name.strip():
        raise InvalidCommand("the representative's name is required")
    if rep.basis is RepresentativeBasis.WRITTEN_CONSENT and not rep.evidence:
        raise InvalidCommand("record where the person's written consent for the representative is")


CONSENT_RULES: dict[type[c.Command], Rule] = {
    c.RequestConsent: request_consent,
    c.RecordConsent: record_consent,
    c.RecordConsentRefused: refuse_consent,
    c.WithdrawConsent: withdraw_consent,
    c.RecordRepresentative: record_representative,
}
