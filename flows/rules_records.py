"""Rules for the record the law asks for: how a complaint is coded (KO41a, the annual report),
whether it went to an Ombudsman, and its destruction at retention review.

DOMAIN.md section 4.
"""

from __future__ import annotations

from datetime import datetime

from flows import commands as c
from flows import events as ev
from flows import ko41a
from flows.calendar import london_date, retention_review_on
from flows.errors import Forbidden, InvalidCommand
from flows.model import Case, Coding, Role
from flows.rules import Out, Rule, long_date, require_coordinator, require_involved, require_text, today


def code(case: Case, cmd: c.CodeCase, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    for codes, options, what in (
        (cmd.service_areas, ko41a.SERVICE_AREAS, "service area"),
        (cmd.subjects, ko41a.SUBJECTS, "subject area"),
        (cmd.professions, ko41a.PROFESSIONS, "profession"),
        ((cmd.age_band,), ko41a.AGE_BANDS, "age band"),
        ((cmd.complainant_status,), ko41a.COMPLAINANT_STATUS, "complainant status"),
    ):
        known = {code for code, _ in options}
        unknown = [code for code in codes if code not in known]
        if unknown or not codes:
            raise InvalidCommand(
                f"choose at least one {what} from the list"
                if not codes
                else f"not in the {what} list: {', '.join(unknown)}",
                field=what,
            )
    coding = Coding(
        service_areas=tuple(dict.fromkeys(cmd.service_areas)),
        subjects=tuple(dict.fromkeys(cmd.subjects)),
        professions=tuple(dict.fromkeys(cmd.professions)),
        age_band=cmd.age_band,
        complainant_status=cmd.complainant_status,
        site=cmd.site.strip(),
    )
    return Out(case, cmd.actor.id, now).event(ev.CaseCoded, coding=coding)


def referral(case: Case, cmd: c.RecordOmbudsmanReferral, now: datetime) -> Out:
    require_coordinator(case, cmd.actor)
    require_involved(case, (cmd.org_id,))
    return Out(case, cmd.actor.id, now).event(
        ev.OmbudsmanReferralRecorded, org_id=cmd.org_id, ombudsman=cmd.ombudsman
    )


def destroy(case: Case, cmd: c.DestroyRecord, now: datetime) -> Out:
    """Only a handler of the organisation holding the record, only once its review date has come."""
    if Role.HANDLER not in cmd.actor.roles or cmd.actor.org_id != case.home_org:
        raise Forbidden("only a complaint handler of the organisation holding it destroys a record")
    require_text(cmd.reason, "why the record is destroyed")
    assert case.closed_at is not None  # the case is closed: checked by the allowed moves
    review = retention_review_on(london_date(case.closed_at))
    if today(now) < review:
        raise InvalidCommand(f"the record is kept until its review on {long_date(review)}")
    return Out(case, cmd.actor.id, now).event(
        ev.CaseDestroyed, received_on=case.received_on, closed_at=case.closed_at, reason=cmd.reason
    )


RECORD_RULES: dict[type[c.Command], Rule] = {
    c.CodeCase: code,
    c.RecordOmbudsmanReferral: referral,
    c.DestroyRecord: destroy,
}
