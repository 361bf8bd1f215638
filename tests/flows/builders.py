"""Fictional organisations and people, and `Run`: a case driven through `decide` and `fold`.

Every decision a `Run` applies is checked on the way: each status change must be an edge of
`flows.moves.EDGES`, and the events and effects are kept so the codec tests can replay them.
Times are fixed; nothing here reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from flows import commands as c
from flows.calendar import add_working_days
from flows.decide import Decision, decide
from flows.due import Policy, due
from flows.effects import Effect, SendLetter
from flows.events import Event
from flows.evolve import fold
from flows.model import (
    Actor,
    Advocacy,
    Case,
    Channel,
    ConsentMethod,
    LeadCriterion,
    OrgRef,
    Outcome,
    Person,
    Role,
    Sector,
    Status,
)
from flows.moves import EDGES

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday
TODAY = date(2026, 11, 24)
SATURDAY = date(2026, 11, 28)
CHRISTMAS = date(2026, 12, 25)
BOXING_DAY_SUBSTITUTE = date(2026, 12, 28)

TRUST = OrgRef(
    id="trust",
    name="Riverside Hospitals NHS Foundation Trust",
    sector=Sector.HEALTH,
    kind="nhs_trust",
    email="complaints@riverside.example.nhs.uk",
    phone="0100 000 0001",
)
COUNCIL = OrgRef(
    id="council",
    name="Millbrook Borough Council",
    sector=Sector.SOCIAL_CARE,
    kind="local_authority",
    email="complaints@millbrook.example.gov.uk",
    phone="0100 000 0002",
    advocacy=Advocacy(
        name="Millbrook Advocacy Hub", phone="0100 000 0099", website="https://adv.example.org"
    ),
)
ICB = OrgRef(
    id="icb",
    name="North Vale Integrated Care Board",
    sector=Sector.HEALTH,
    kind="icb",
    email="complaints@northvale.example.nhs.uk",
)
DIRECTORY = {o.id: o for o in (TRUST, COUNCIL, ICB)}

PERSON = Person(name="Jo Example", email="jo@example.org", phone="0100 111 2222")


def actor(org: OrgRef, role: Role, name: str = "") -> Actor:
    return Actor(id=f"{org.id}-{role.value}", org_id=org.id, roles=frozenset({role}), name=name)


SYSTEM = Actor(id="jointly", org_id=TRUST.id, roles=frozenset({Role.SYSTEM}), name="jointly")
TRUST_HANDLER = actor(TRUST, Role.HANDLER, "Alex Rivers")
TRUST_CONTRIBUTOR = actor(TRUST, Role.CONTRIBUTOR, "Pat Ward")
COUNCIL_HANDLER = actor(COUNCIL, Role.HANDLER, "Sam Brook")
COUNCIL_CONTRIBUTOR = actor(COUNCIL, Role.CONTRIBUTOR, "Kim Social")
COUNCIL_MANAGER = actor(COUNCIL, Role.MANAGER, "Lee Senior")
ICB_CONTRIBUTOR = actor(ICB, Role.CONTRIBUTOR, "Ash Vale")
ICB_HANDLER = actor(ICB, Role.HANDLER, "Ray Vale")

H = TRUST_HANDLER


def at(day: date) -> datetime:
    """10:00 UTC on `day`: when a test's sweep or answer happens on that day."""
    return datetime.combine(day, time(10), tzinfo=UTC)


def working_day(n: int, hour: int = 10) -> datetime:
    """10:00 UTC on the n-th working day after the fixed `TODAY` (0: `NOW`'s day)."""
    return datetime.combine(add_working_days(TODAY, n), time(hour), tzinfo=UTC)


@dataclass
class Run:
    """A case and everything that happened to it, one accepted decision at a time."""

    case: Case = field(default_factory=lambda: Case(ref="JC-2026-0001"))
    now: datetime = NOW
    decisions: list[Decision] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)

    def do(self, command: c.Command, now: datetime | None = None) -> Decision:
        decision = decide(self.case, command, now or self.now)
        before = self.case
        self.case = decision.after
        assert self.case == fold(before, decision.events)
        if before.version and before.status is not self.case.status:
            edge = (before.status, self.case.status)
            assert edge in EDGES, f"{type(command).__name__} moved {edge}, not an edge of the diagram"
        self.decisions.append(decision)
        self.statuses.append(self.case.status)
        return decision

    @property
    def events(self) -> list[Event]:
        return [e for d in self.decisions for e in d.events]

    @property
    def effects(self) -> list[Effect]:
        return [e for d in self.decisions for e in d.effects]


def letters(decision: Decision, template: str | None = None) -> list[SendLetter]:
    return [
        e
        for e in decision.effects
        if isinstance(e, SendLetter) and (template is None or e.template == template)
    ]


def only(items: list[SendLetter]) -> SendLetter:
    assert len(items) == 1, items
    return items[0]


def events_of(decision: Decision, cls: type[Event]) -> list[Event]:
    return [e for e in decision.events if isinstance(e, cls)]


# --- a joint trust + council complaint, one stage at a time ------------------------------------


def received(
    channel: Channel = Channel.EMAIL,
    by: Actor = SYSTEM,
    person: Person = PERSON,
    home: OrgRef = TRUST,
    related: tuple[str, ...] = (),
) -> Run:
    run = Run()
    run.do(
        c.ReceiveComplaint(
            actor=by,
            channel=channel,
            received_at=NOW,
            complainant=person,
            home_org=home,
            subject="Discharge home without a care package",
            text="My father was sent home from Ward 7 and no carers came for a week.",
            message_id="<m1@example.org>" if channel is Channel.EMAIL else "",
            suggested_orgs=(COUNCIL.id,),
            related=related,
        )
    )
    return run


def consent(org_ids: tuple[str, ...] = (COUNCIL.id,), on: date = TODAY) -> c.RecordConsent:
    return c.RecordConsent(
        actor=H, org_ids=org_ids, method=ConsentMethod.PHONE, given_on=on, capacity_confirmed=True
    )


def agreeing_lead(orgs: tuple[OrgRef, ...] = (TRUST, COUNCIL)) -> Run:
    run = received()
    run.do(c.IdentifyOrganisations(actor=H, orgs=orgs))
    run.do(consent(tuple(o.id for o in orgs if o is not TRUST)))
    run.do(c.RecordComplainantView(actor=H, view="Happy for the hospital to lead"))
    return run


def naming_contact() -> Run:
    run = agreeing_lead()
    run.do(c.ProposeLead(actor=H, org_id=TRUST.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)))
    run.do(c.RespondToLead(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, agrees=True))
    return run


def planning() -> Run:
    run = naming_contact()
    run.do(c.SetNamedContact(actor=H, name="Alex Rivers", email="alex@riverside.example.nhs.uk"))
    return run


def investigating() -> Run:
    run = planning()
    target = add_working_days(TODAY, 15)
    run.do(c.AddStrand(actor=H, org_id=TRUST.id, matters="Discharge planning on Ward 7", target=target))
    run.do(c.AddStrand(actor=H, org_id=COUNCIL.id, matters="Care package arrangements", target=target))
    run.do(c.AgreePlan(actor=H, org_id=TRUST.id))
    run.do(c.AgreePlan(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    return run


def drafting() -> Run:
    run = investigating()
    run.do(c.RecordContribution(actor=TRUST_CONTRIBUTOR, strand_id="S1", summary="Discharge was rushed."))
    run.do(c.RecordContribution(actor=COUNCIL_CONTRIBUTOR, strand_id="S2", summary="Referral was lost."))
    run.do(c.RecordNoActionNeeded(actor=H, reason="the referral process has since been replaced."))
    run.do(c.RecordDraft(actor=H, text="Dear Jo, we are sorry ..."))
    return run


def responded() -> Run:
    run = drafting()
    run.do(c.OpenCommentRound(actor=H, comment_by=add_working_days(TODAY, 5)))
    run.do(c.RecordComment(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id, comment="Fine by us."))
    run.do(c.SignOffDraft(actor=COUNCIL_CONTRIBUTOR, org_id=COUNCIL.id))
    run.do(c.ShareDraftWithComplainant(actor=H))
    run.do(c.SendFinalResponse(actor=H, body="Final.", signed_by="Chris Chief", signed_role="CEO"))
    return run


def coding(by: Actor = H) -> c.CodeCase:
    """The coding of the discharge complaint: what closure needs besides the outcomes."""
    return c.CodeCase(
        actor=by,
        service_areas=("acute", "social_care"),
        subjects=("admissions", "care_package"),
        professions=("nursing", "social_work"),
        age_band="85+",
        complainant_status="on_behalf",
        site=TRUST.name,
    )


def outcomes_recorded(run: Run, outcome: Outcome = Outcome.PARTLY_UPHELD, coded: bool = True) -> Run:
    """Each organisation's outcome, recorded by the lead, and (unless not `coded`) the case coded:
    closure needs both."""
    for org_id in run.case.involved:
        run.do(c.RecordOutcome(actor=H, org_id=org_id, outcome=outcome))
    if coded:
        run.do(coding())
    return run


def closed() -> Run:
    run = outcomes_recorded(responded())
    run.do(c.CloseCase(actor=H, outcome=Outcome.PARTLY_UPHELD))
    return run


def reminded() -> Run:
    """The clocks at work: a snooze, an 'on track', the sweep's reminders (one overdue, so the
    organisation's inbox is written to), an update letter to the person, and a later date that
    moves the person's expected date."""
    run = investigating()
    target = run.case.strands["S2"].target
    run.do(c.Snooze(actor=COUNCIL_CONTRIBUTOR, subject="S2", until=add_working_days(TODAY, 2)))
    run.do(c.ReportOnTrack(actor=COUNCIL_CONTRIBUTOR, strand_id="S2"))
    late = datetime.combine(add_working_days(target, 2), time(10), tzinfo=UTC)
    run.do(c.SendReminders(actor=SYSTEM, reminders=tuple(due(run.case, late, Policy()))), late)
    run.do(c.SendProgressUpdate(actor=H, text="Two of the three parts are complete."), late)
    run.do(c.SetResponsePeriod(actor=H, due=add_working_days(target, 20), agreed_with_complainant=True), late)
    later = add_working_days(target, 10)
    run.do(c.ChangeTargetDate(actor=H, strand_id="S2", target=later, reason="Leave"), late)
    return run
