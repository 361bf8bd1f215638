"""Rules from receipt to the named contact: intake, organisations, consent, the lead.

DOMAIN.md section 2, steps 1 to 6. Consent is per organisation; nothing identifiable goes to
another organisation before its consent is recorded (`flows.decide` enforces it for every rule).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flows import commands as c
from flows import events as ev
from flows.calendar import end_of_next_working_day, london_date
from flows.errors import Forbidden, InvalidCommand
from flows.evolve import fold
from flows.model import Case, Channel, ClosureReason, ConsentState, Role
from flows.rules import (
    Out,
    Rule,
    complainant,
    correspondent,
    direct_contacts,
    letterhead,
    long_date,
    names,
    organisation,
    require_coordinator,
    require_for_org,
    require_involved,
    require_others,
    require_text,
    today,
)


def receive(case: Case, cmd: c.ReceiveComplaint, now: datetime) -> Out:
    if cmd.received_at.tzinfo is None:
        raise InvalidCommand("the time of receipt must carry its time zone")
    oral = cmd.channel in (Channel.PHONE, Channel.IN_PERSON)
    if oral and Role.HANDLER not in cmd.actor.roles:
        raise Forbidden("only a complaint handler can log an oral complaint", actor=cmd.actor.id)
    out = Out(case, cmd.actor.id, now).event(
        ev.ComplaintReceived,
        channel=cmd.channel,
        received_at=cmd.received_at,
        complainant=cmd.complainant,
        home_org=cmd.home_org,
        subject=cmd.subject,
        text=cmd.text,
        message_id=cmd.message_id,
        suggested_orgs=cmd.suggested_orgs,
        happened_on=cmd.happened_on,
        aware_on=cmd.aware_on,
        related=cmd.related,
        attachments=cmd.attachments,
    )
    letter: dict[str, Any] = dict(
        org_name=cmd.home_org.name,
        complainant_name=cmd.complainant.name,
        received_on=long_date(london_date(cmd.received_at)),
    )
    to = complainant(cmd.complainant) if cmd.acknowledge else None
    if oral:
        out.letter("written_record", to, summary=cmd.text, **letter)
    else:
        out.letter("acknowledgement", to, automatic=True, in_reply_to=cmd.message_id, **letter)
    if cmd.related:
        return out.notify("new_case_related", related=", ".join(cmd.related))
    return out.notify("new_case")


def identify(case: Case, cmd: c.IdentifyOrganisations, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    ids = [o.id for o in cmd.orgs]
    if not ids or len(set(ids)) != len(ids):
        raise InvalidCommand("name each organisation involved once", org_ids=ids)
    if not set(ids) - case.signposted_orgs:
        raise InvalidCommand("the person was signposted to these organisations: name one still involved")
    committed = {case.lead} | {s.org_id for s in case.strands.values()} | case.passed_on
    committed |= {a.owner_org for a in case.actions.values()}
    dropped = sorted(o for o in committed - set(ids) if o)
    if dropped:
        raise InvalidCommand(
            "these organisations already lead, have work in the plan or have the complaint, "
            f"so they stay: {', '.join(names(case, dropped))}",
            org_ids=dropped,
        )
    out = Out(case, cmd.actor.id, now).event(ev.OrganisationsIdentified, orgs=cmd.orgs)
    if ids == [case.home_org] and case.lead is None:
        out.event(ev.LeadAgreed, org_id=case.home_org, criteria=(), agreed_by=(case.home_org,))
    return out


def pass_on(case: Case, cmd: c.PassOn, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_others(case, (cmd.org_id,))
    if case.ours:
        raise InvalidCommand("we are involved in this complaint: coordinate it rather than pass it on")
    consent = case.consents.get(cmd.org_id)
    out = Out(case, cmd.actor.id, now).event(ev.PassedOn, org_id=cmd.org_id)
    out.letter(
        "pass_on",
        organisation(case, cmd.org_id),
        org_name=case.orgs[case.home_org].name,
        to_org_name=case.orgs[cmd.org_id].name,
        complainant_name=case.complainant.name,
        complainant_address=case.complainant.email or case.complainant.address,
        received_on=long_date(case.received_on),
        complaint_text=case.text,
        consent_on=long_date(consent.given_on) if consent and consent.given_on else "",
    )
    return _close_if_handed_over(case, out, passed=cmd.org_id)


def signpost(case: Case, cmd: c.Signpost, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_others(case, cmd.org_ids)
    out = Out(case, cmd.actor.id, now).event(ev.OrganisationsSignposted, org_ids=cmd.org_ids)
    out.letter(
        "signposting",
        correspondent(case),
        **letterhead(case),
        organisations=direct_contacts(case, cmd.org_ids),
    )
    if case.ours and case.lead is None and set(case.involved) - set(cmd.org_ids) == {case.home_org}:
        out.event(ev.LeadAgreed, org_id=case.home_org, criteria=(), agreed_by=(case.home_org,))
    return _close_if_handed_over(case, out, signposted=cmd.org_ids)


def _close_if_handed_over(case: Case, out: Out, passed: str = "", signposted: tuple[str, ...] = ()) -> Out:
    """A complaint that is not ours ends once every organisation has it or was signposted."""
    remaining = set(case.others) - case.passed_on - {passed} - set(signposted)
    if not case.ours and not remaining:
        reason = ClosureReason.PASSED_ON if case.passed_on or passed else ClosureReason.SIGNPOSTED
        out.event(ev.CaseClosed, reason=reason)
    return out


def propose_lead(case: Case, cmd: c.ProposeLead, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_involved(case, (cmd.org_id,))
    if not cmd.criteria:
        raise InvalidCommand("choose at least one of the guide's criteria for the lead")
    out = Out(case, cmd.actor.id, now).event(
        ev.LeadProposed, org_id=cmd.org_id, criteria=cmd.criteria, reason=cmd.reason
    )
    out.event(ev.LeadResponded, org_id=cmd.actor.org_id, agrees=True, reason="proposed it")
    for org_id in case.others:
        if org_id == cmd.actor.org_id:
            continue
        out.letter(
            "lead_proposal",
            organisation(case, org_id),
            org_name=case.orgs[case.home_org].name,
            to_org_name=case.orgs[org_id].name,
            lead_org_name=case.orgs[cmd.org_id].name,
            criteria=[criterion.value for criterion in cmd.criteria],
            summary=case.subject,
            consent_on=_consent_on(case, org_id),
        )
    return _agree_if_all(case, out)


def respond_to_lead(case: Case, cmd: c.RespondToLead, now: datetime) -> Out:
    require_for_org(case, cmd.actor, cmd.org_id)
    if case.proposal is None:
        raise InvalidCommand("no organisation has been proposed as the lead yet")
    if not cmd.agrees:
        require_text(cmd.reason, "the reason for objecting")
    out = Out(case, cmd.actor.id, now).event(
        ev.LeadResponded, org_id=cmd.org_id, agrees=cmd.agrees, reason=cmd.reason
    )
    if not cmd.agrees:
        return out.notify("lead_objected", organisation=case.orgs[cmd.org_id].name)
    return _agree_if_all(case, out)


def _agree_if_all(case: Case, out: Out) -> Out:
    """The lead is agreed once every organisation involved agrees and the person's view is on record
    (the guide asks the person which organisation they would like to lead before it is settled)."""
    after = fold(case, out.events)
    proposal = after.proposal
    if proposal is None or not after.complainant_lead_view:
        return out
    agreed = tuple(o for o, r in proposal.responses.items() if r.agrees)
    if set(after.involved) <= set(agreed):
        out.event(ev.LeadAgreed, org_id=proposal.org_id, criteria=proposal.criteria, agreed_by=agreed)
        out.notify("lead_agreed", lead=after.orgs[proposal.org_id].name)
    return out


def complainant_view(case: Case, cmd: c.RecordComplainantView, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_text(cmd.view, "the person's view on which organisation leads")
    return _agree_if_all(case, Out(case, cmd.actor.id, now).event(ev.ComplainantViewRecorded, view=cmd.view))


def named_contact(case: Case, cmd: c.SetNamedContact, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_text(cmd.name, "the named contact's name")
    require_text(cmd.email, "the named contact's email")
    local, at, domain = cmd.email.strip().partition("@")
    if not (local and at and "." in domain) or " " in cmd.email.strip():
        raise InvalidCommand(f"'{cmd.email}' is not an email address", field="email")
    advocacy = next((case.orgs[o].advocacy for o in case.involved if case.orgs[o].advocacy), None)
    every = f"every {case.update_every} working days" if case.update_every else ""
    return (
        Out(case, cmd.actor.id, now)
        .event(ev.NamedContactSet, name=cmd.name, email=cmd.email, phone=cmd.phone)
        .letter(
            "named_contact",
            correspondent(case),
            **letterhead(case),
            lead_org_name=case.orgs[case.coordinator].name,
            contact_name=cmd.name,
            contact_email=cmd.email,
            contact_phone=cmd.phone,
            update_every=every,
            advocacy=(
                {"name": advocacy.name, "phone": advocacy.phone, "website": advocacy.website}
                if advocacy
                else None
            ),
        )
    )


def shared_understanding(case: Case, cmd: c.RecordSharedUnderstanding, now: datetime) -> Out:
    """The guide's step after the discussion with the person: what the complaint is about, as both
    understand it, and the outcomes they want; the plan's requests and the response draft carry it."""
    require_coordinator(case, cmd.actor)
    require_text(cmd.understanding, "the shared understanding of the complaint")
    require_text(cmd.outcomes, "the outcomes the person wants")
    return Out(case, cmd.actor.id, now).event(
        ev.SharedUnderstandingRecorded, understanding=cmd.understanding.strip(), outcomes=cmd.outcomes.strip()
    )


def resolve_informally(case: Case, cmd: c.ResolveInformally, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_text(cmd.note, "how it was resolved")
    if case.channel not in (Channel.PHONE, Channel.IN_PERSON):
        raise InvalidCommand("only an oral complaint can be resolved without the formal process")
    if today(now) > end_of_next_working_day(case.received):
        raise InvalidCommand(
            "an oral complaint can be resolved informally only by the end of "
            "the next working day after it was made"
        )
    return Out(case, cmd.actor.id, now).event(
        ev.CaseClosed, reason=ClosureReason.RESOLVED_INFORMALLY, note=cmd.note
    )


def record_acknowledgement(case: Case, cmd: c.RecordAcknowledgement, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    if cmd.on > today(now):
        raise InvalidCommand("an acknowledgement cannot be recorded for a future day")
    return Out(case, cmd.actor.id, now).event(ev.Acknowledged, method=cmd.method, on=cmd.on)


def letter_sent(
    case: Case, cmd: c.RecordLetterSent | c.RecordLetterFailed | c.RecordLetterRead, now: datetime
) -> Out:
    if Role.SYSTEM not in cmd.actor.roles:
        raise Forbidden("only the assistant records what became of a letter", actor=cmd.actor.id)
    if cmd.key not in case.letters:
        raise InvalidCommand(f"no letter {cmd.key} on this case", key=cmd.key)
    out = Out(case, cmd.actor.id, now)
    if isinstance(cmd, c.RecordLetterFailed):
        out.event(ev.LetterFailed, key=cmd.key, reason=cmd.reason)
        return out.notify("letter_failed", letter=case.letters[cmd.key].template.replace("_", " "))
    if isinstance(cmd, c.RecordLetterRead):
        return out.event(ev.LetterRead, key=cmd.key)
    return out.event(ev.LetterSent, key=cmd.key, message_id=cmd.message_id)


def _consent_on(case: Case, org_id: str) -> str:
    consent = case.consents.get(org_id)
    if consent is None or consent.state is not ConsentState.GIVEN or consent.given_on is None:
        return ""
    return long_date(consent.given_on)


INTAKE_RULES: dict[type[c.Command], Rule] = {
    c.ReceiveComplaint: receive,
    c.IdentifyOrganisations: identify,
    c.PassOn: pass_on,
    c.Signpost: signpost,
    c.ProposeLead: propose_lead,
    c.RespondToLead: respond_to_lead,
    c.RecordComplainantView: complainant_view,
    c.SetNamedContact: named_contact,
    c.RecordSharedUnderstanding: shared_understanding,
    c.ResolveInformally: resolve_informally,
    c.RecordAcknowledgement: record_acknowledgement,
    c.RecordLetterSent: letter_sent,
    c.RecordLetterFailed: letter_sent,
    c.RecordLetterRead: letter_sent,
}
