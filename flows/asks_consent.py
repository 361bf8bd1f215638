"""What to ask about the person's consent, organisation by organisation, and about whoever acts for
them (DOMAIN.md section 2, step 3); the rules are in `flows.rules_consent`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from flows import commands as c
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.model import Actor, Case, ConsentMethod, ConsentState, RepresentativeBasis

BASIS_WORDING = {
    RepresentativeBasis.WRITTEN_CONSENT: "the person's written consent",
    RepresentativeBasis.LASTING_POWER_OF_ATTORNEY: "lasting power of attorney",
    RepresentativeBasis.DEPUTYSHIP: "deputyship (Court of Protection)",
    RepresentativeBasis.PROBATE: "executor of the estate (the person has died)",
    RepresentativeBasis.PARENTAL_RESPONSIBILITY: "parental responsibility (a child)",
    RepresentativeBasis.BEST_INTERESTS: "acting in the best interests of a person who lacks capacity",
}


def consent(case: Case, actor: Actor, today: date) -> list[Prompt]:
    if not case.orgs_identified or case.lead is not None:
        return []
    waiting = tuple(o for o in case.others if not case.consent_active(o) and not is_refused(case, o))
    prompts = []
    if waiting:
        names = ", ".join(case.orgs[o].name for o in waiting)
        prompts.append(
            Prompt(
                "consent",
                f"Has the person consented to sharing with {names}?",
                consent_choices(case, actor, today, waiting),
                detail="Consent is asked for each organisation: it covers sharing their details and "
                "learning, so the complaint is handled together, with one contact and one response.",
            )
        )
    refused = tuple(o for o in case.others if is_refused(case, o))
    if refused:
        names = ", ".join(case.orgs[o].name for o in refused)
        prompts.append(
            Prompt(
                "signpost",
                f"Consent refused for {names}: tell the person how to contact them directly.",
                (Choice("Send the signposting letter", c.Signpost(actor=actor, org_ids=refused)),),
            )
        )
    if not case.ours:
        for org_id in case.others:
            if case.consent_active(org_id) and org_id not in case.passed_on:
                prompts.append(
                    Prompt(
                        f"pass_on:{org_id}",
                        "This is not ours: pass it on to "
                        f"{case.orgs[org_id].name} with the person's consent?",
                        (Choice("Pass it on", c.PassOn(actor=actor, org_id=org_id)),),
                    )
                )
    return prompts


def consent_choices(case: Case, actor: Actor, today: date, waiting: tuple[str, ...]) -> tuple[Choice, ...]:
    """The person's answer for the organisations `waiting` (the question names them all): given,
    given for some and refused for others, or refused; the request letter; who acts for them."""
    fields = consent_fields(case, today)
    given = c.RecordConsent(
        actor=actor, org_ids=waiting, method=ConsentMethod.PHONE, given_on=today, capacity_confirmed=True
    )
    choices = [Choice("Consent given", given, fields)]
    if len(waiting) > 1:
        options = tuple((o, case.orgs[o].name) for o in waiting)
        split = (
            Field("org_ids", "Consent given for", FieldKind.MULTI_CHOICE, options=options, default=()),
            Field("refused", "Consent refused for", FieldKind.MULTI_CHOICE, options=options, default=()),
        )
        choices.append(
            Choice("Given for some, refused for others", replace(given, org_ids=()), split + fields)
        )
    if not any(consent_state(case, o) is ConsentState.REQUESTED for o in waiting):
        choices.append(
            Choice("Send the consent request letter", c.RequestConsent(actor=actor, org_ids=waiting))
        )
    choices.append(Choice("Consent refused", c.RecordConsentRefused(actor=actor, org_ids=waiting)))
    if case.representative is None:
        choices.append(representative_choice(case, actor))
    return tuple(choices)


def consent_fields(case: Case, today: date) -> tuple[Field, ...]:
    return (
        method_field(),
        Field("given_on", "Given on", FieldKind.DATE, default=today),
        Field(
            "capacity_confirmed",
            "You are satisfied they can consent"
            if case.representative is None
            else "The person consented themselves",
            FieldKind.BOOL,
            default=case.representative is None,
        ),
    )


def representative_choice(case: Case, actor: Actor) -> Choice:
    """Someone acts for the person: who, their relationship, on what authority, for whom."""
    fields = (
        Field(
            "name", "Their name (empty: the one who complained)", FieldKind.TEXT, required=False, default=""
        ),
        Field("relationship", "Their relationship to the person", FieldKind.TEXT),
        Field(
            "basis",
            "Their authority",
            FieldKind.CHOICE,
            options=tuple((b.value, BASIS_WORDING[b]) for b in RepresentativeBasis),
            default=RepresentativeBasis.WRITTEN_CONSENT,
        ),
        Field("acts_for", "The person they act for (name)", FieldKind.TEXT),
        Field(
            "evidence",
            "Where the consent, power or order is held",
            FieldKind.TEXT,
            required=False,
            default="",
        ),
        Field(
            "capacity_note", "Your note on the person's capacity", FieldKind.TEXT, required=False, default=""
        ),
        Field(
            "email",
            "Their email, if letters should go to them instead",
            FieldKind.TEXT,
            required=False,
            default="",
        ),
    )
    cmd = c.RecordRepresentative(
        actor=actor, name="", relationship="", basis=RepresentativeBasis.WRITTEN_CONSENT, acts_for=""
    )
    if case.representative is None:
        return Choice("Someone acts for the person: record who and on what authority", cmd, fields)
    return Choice(f"Change who acts for the person (now {case.representative.relationship})", cmd, fields)


def method_field() -> Field:
    return Field(
        "method",
        "How",
        FieldKind.CHOICE,
        options=tuple((m.value, m.value.replace("_", " ")) for m in ConsentMethod),
        default=ConsentMethod.PHONE,
    )


def consent_state(case: Case, org_id: str) -> ConsentState | None:
    consent = case.consents.get(org_id)
    return consent.state if consent else None


def is_refused(case: Case, org_id: str) -> bool:
    return consent_state(case, org_id) in (ConsentState.REFUSED, ConsentState.WITHDRAWN)
