"""What to ask for the record the law keeps: how the complaint is coded, before it is closed.

One question, once every organisation has its outcome: the subjects, services, staff groups, the
person's age band, who complained and the site. What the case already tells (the organisations'
kinds, a representative on the consent, the coordinating organisation) fills in the defaults; the
subjects and staff groups need the handler's judgement, so they start empty. DOMAIN.md section 4.
"""

from __future__ import annotations

from datetime import date

from flows import commands as c
from flows import ko41a
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.model import Actor, Case, Status

# The service area an organisation of each directory kind most likely provides; ICBs and NHS
# England commission rather than provide, so they suggest none.
SERVICE_OF_KIND = {
    "nhs_trust": "acute",
    "gp_practice": "gp",
    "dental_practice": "dental",
    "local_authority": "social_care",
    "care_provider": "social_care",
}


def coding(case: Case, actor: Actor, today: date) -> list[Prompt]:
    """After every action is done and each outcome recorded, until the case is coded."""
    if case.status is not Status.RESPONDED or case.coding is not None:
        return []
    if any(a.completed_at is None for a in case.actions.values()):
        return []
    if any(o not in case.outcomes for o in case.involved):
        return []
    coordinator = case.orgs.get(case.coordinator)
    fields = (
        Field("subjects", "What it is about (every subject it touches)", FieldKind.MULTI_CHOICE,
              options=ko41a.SUBJECTS),
        Field("service_areas", "Services complained about", FieldKind.MULTI_CHOICE,
              options=ko41a.SERVICE_AREAS, default=guessed_services(case) or None),
        Field("professions", "Staff groups complained about", FieldKind.MULTI_CHOICE,
              options=ko41a.PROFESSIONS),
        Field("age_band", "Age of the patient or service user", FieldKind.CHOICE,
              options=ko41a.AGE_BANDS, default="unknown"),
        Field("complainant_status", "Who complained", FieldKind.CHOICE,
              options=ko41a.COMPLAINANT_STATUS, default=guessed_status(case)),
        Field("site", "Site (hospital, practice or service)", FieldKind.TEXT, required=False,
              default=coordinator.name if coordinator else ""),
    )  # fmt: skip
    cmd = c.CodeCase(
        actor=actor, service_areas=(), subjects=(), professions=(), age_band="", complainant_status=""
    )
    return [
        Prompt(
            "coding",
            "How should this complaint be counted in the complaints returns?",
            (Choice("Record the coding", cmd, fields),),
            detail="For the KO41a return and the annual report: the complaint counts once, "
            "under every subject it touches.",
        )
    ]


def guessed_services(case: Case) -> tuple[str, ...]:
    """The service areas the organisations involved suggest by their kind, in their order."""
    kinds = (case.orgs[o].kind for o in case.involved if o in case.orgs)
    return tuple(dict.fromkeys(SERVICE_OF_KIND[k] for k in kinds if k in SERVICE_OF_KIND))


def guessed_status(case: Case) -> str:
    """'on_behalf' when someone acts for the person (recorded for the case, or on a consent given
    before representatives were recorded for the case), else 'patient'."""
    represented = case.representative is not None or any(
        consent.representative is not None for consent in case.consents.values()
    )
    return "on_behalf" if represented else "patient"
