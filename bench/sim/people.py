"""How the simulated people answer the assistant: through `flows.prompts.next_prompts`, the
questions the terminal and Slack put to them, filled in and recorded as those fronts record them.

- The home trust's handlers answer each question within a working day or so (`handler_delay`),
  along the guide's path: the organisations the complaint involves, consent (refused for one
  organisation now and then), the home trust proposed as lead, the contact, the period, the plan
  with a strand per organisation, the draft, the response, the outcomes, coding, closure.
- Each organisation's contacts answer their strand at their pace (`Truth.pace`): early, on the
  day, late, asking for a later date, or never, which takes the case up the impasse ladder; one
  contact of two answers (the other is on leave), and its senior manager answers an impasse.

A person's timing depends only on the seed, the case and the question, so a restarted run answers
as the first would have. Each case is looked at again when it changes or when someone on it is
next due to act (`People.wake`), so quiet cases cost nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bench.sim.calendar import LONDON, add_working_days, is_working_day
from bench.sim.world import HOME, Truth, at, slot, stable, truth
from bot.config import Config
from bot.directory import actor, org_ref
from bot.service import CaseService
from flows.codec import to_plain
from flows.conversation import Choice, FieldKind, Prompt, fill
from flows.errors import DomainError
from flows.model import Actor, Case, Role
from flows.prompts import next_prompts

Answer = tuple[str, dict[str, Any]]  # the choice's label (its start), and values beyond the defaults
NEVER = datetime.max.replace(tzinfo=LONDON)
REPEATS = 5  # answers to one question of one case before the simulation calls it stuck


def working_time(start: datetime, hours: float) -> datetime:
    """`hours` of working time (09:00 to 17:30 London on working days) after `start`."""
    local = start.astimezone(LONDON)
    day = local.date()
    begin = at(day, 9)
    moment = max(start, begin) if is_working_day(day) else at(add_working_days(day, 1), 9)
    left = timedelta(hours=hours)
    while True:
        end = at(moment.astimezone(LONDON).date(), 17, 30)
        if moment < end and moment + left <= end:
            return moment + left
        left -= max(end - moment, timedelta(0))
        moment = at(add_working_days(moment.astimezone(LONDON).date(), 1), 9)


@dataclass
class People:
    config: Config
    seed: int
    first_seen: dict[tuple[str, str, str], datetime] = field(default_factory=dict)
    wake: dict[str, datetime] = field(default_factory=dict)  # case -> when someone on it next acts
    answered: Counter[str] = field(default_factory=Counter)  # by question kind
    unknown: Counter[str] = field(default_factory=Counter)  # questions nobody here knows to answer
    refused: Counter[str] = field(default_factory=Counter)  # answers the assistant refused, by kind
    times: Counter[tuple[str, str]] = field(default_factory=Counter)  # answers to one question of a case
    stuck: Counter[str] = field(default_factory=Counter)  # questions still asked after REPEATS answers
    sent_ids: set[str] = field(default_factory=set)  # Message-IDs the SMTP server took (the sent mail)
    later: set[tuple[str, str]] = field(default_factory=set)  # strands a later date was asked for

    def __post_init__(self) -> None:
        self.actors = {p.id: actor(p) for p in self.config.people}
        self.handler = self.actors["handler-1"]
        self.names = {o.id: o.name for o in self.config.organisations}

    def act(self, service: CaseService, refs: Iterable[str], now: datetime) -> int:
        """Everyone on cases `refs` (and on those whose wake time has come) answers what is due."""
        due = {ref for ref, moment in self.wake.items() if moment <= now} | set(refs)
        done = 0
        for ref in sorted(due):
            self.wake.pop(ref, None)
            done += self._case(service, ref, now)
        return done

    def next_wake_slot(self) -> datetime:
        """When someone is next due to act, at the end of its half-hour slot."""
        soonest = min(self.wake.values(), default=NEVER)
        return soonest if soonest == NEVER else slot(soonest)

    def _case(self, service: CaseService, ref: str, now: datetime) -> int:
        done = 0
        for _ in range(40):  # one answer can bring the next question: keep going while due
            case = service.load(ref)
            n = _complaint(case)
            in_doubt = any(letter.in_doubt for letter in case.letters.values())
            if n is None or case.closed_at is not None and not in_doubt:
                return done
            step = self._next(case, truth(self.seed, n), now)
            if step is None:
                return done
            who, prompt, answer = step
            kind = prompt.id.split(":")[0]
            self.times[ref, prompt.id] += 1
            if self.times[ref, prompt.id] > REPEATS:  # the answer changes nothing: a defect to report
                self.stuck[kind] += 1
                return done
            try:
                service.execute(ref, self._command(case, prompt, answer, now), now)
                self.answered[kind] += 1
                done += 1
            except (DomainError, ValueError) as error:
                self.refused[f"{kind}: {getattr(error, 'message', error)}"[:160]] += 1
                return done
        return done

    def _next(self, case: Case, t: Truth, now: datetime) -> tuple[Actor, Prompt, Answer] | None:
        """The first answer due now on `case`; else note when the next one falls due."""
        soonest = NEVER
        for who in self._people(case, t):
            for prompt in next_prompts(case, who, now):
                when, answer = self._plan(case, t, who, prompt, now)
                if answer is None:
                    continue
                if when <= now:
                    return who, prompt, answer
                soonest = min(soonest, when)
        if soonest < NEVER:
            self.wake[case.ref] = soonest
        return None

    def _people(self, case: Case, t: Truth) -> list[Actor]:
        found = [self.handler]
        for org in case.involved:
            if org == HOME:
                continue
            cover = t.draw(f"leave/{org}").random() < 0.15
            found += [self.actors[f"{org}-c{2 if cover else 1}"], self.actors[f"{org}-sm"]]
        return found

    def _plan(
        self, case: Case, t: Truth, who: Actor, prompt: Prompt, now: datetime
    ) -> tuple[datetime, Answer | None]:
        kind, _, about = prompt.id.partition(":")
        decide = ANSWERS.get(kind)
        if decide is None:
            if kind not in OPTIONAL:
                self.unknown[kind] += 1
            return NEVER, None
        seen = self.first_seen.setdefault((case.ref, who.id, prompt.id), now)
        answer = decide(Ask(self, case, t, who, prompt, about, now))
        if answer is None:
            return NEVER, None
        when, chosen = answer
        if not any(ch.label.startswith(chosen[0]) for ch in prompt.choices):
            return NEVER, None  # not offered yet (a response before the plan is agreed): wait for it
        return (when or working_time(seen, handler_delay(self.seed, case.ref, prompt.id))), chosen

    def _command(self, case: Case, prompt: Prompt, answer: Answer, now: datetime) -> Any:
        label, values = answer
        choice = next(ch for ch in prompt.choices if ch.label.startswith(label))
        return fill(choice, self._values(choice, case, values, now))

    def _values(self, choice: Choice, case: Case, given: dict[str, Any], now: datetime) -> dict[str, Any]:
        today = now.astimezone(LONDON).date()
        values: dict[str, Any] = {}
        for f in choice.fields:
            if f.name in given:
                value = given[f.name]
            elif f.default not in (None, "", ()) or not f.required:
                value = f.default
            elif f.kind is FieldKind.DATE:
                value = add_working_days(today, 10)
            elif f.kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE):
                value = f.options[0][0] if f.kind is FieldKind.CHOICE else [f.options[0][0]]
            elif f.kind is FieldKind.INT:
                value = 10
            elif f.kind is FieldKind.BOOL:
                value = True
            else:
                value = f"Recorded by the simulation for {case.ref}."
            if f.kind is FieldKind.ORGANISATIONS:
                value = [to_plain(org_ref(self.config, getattr(o, "id", o))) for o in value or ()]
            values[f.name] = to_plain(value)
        return values


def handler_delay(seed: int, ref: str, prompt_id: str) -> float:
    """Working hours before a handler answers: mostly within the day, one in ten the next or later."""
    r = stable(seed, ref, prompt_id, "delay")
    return 0.5 + r * 5 if r < 0.9 else 8 + (r - 0.9) * 100


@dataclass(frozen=True)
class Ask:
    people: People
    case: Case
    t: Truth
    who: Actor
    prompt: Prompt
    about: str  # the part of the question's id after ":" (an organisation, a strand)
    now: datetime

    @property
    def today(self) -> date:
        return self.now.astimezone(LONDON).date()

    def r(self, what: str) -> float:
        return stable(self.people.seed, self.case.ref, self.prompt.id, what)


Decision = tuple[datetime | None, Answer] | None  # when (None: the handler's own pace), and the answer


def handlers(label: str, **values: Any) -> Callable[[Ask], Decision]:
    """The coordinating handler answers with `label`, at a handler's pace."""

    def decide(ask: Ask) -> Decision:
        return (None, (label, values)) if Role.HANDLER in ask.who.roles else None

    return decide


def _soon(ask: Ask, label: str) -> Decision:
    """Within the hour: what a handler is reminded of on its day (the person's update letter)."""
    if Role.HANDLER not in ask.who.roles:
        return None
    seen = ask.people.first_seen[(ask.case.ref, ask.who.id, ask.prompt.id)]
    return seen + timedelta(hours=1), (label, {})


def _organisations(ask: Ask) -> Decision:
    if Role.HANDLER not in ask.who.roles:
        return None
    if len(ask.t.orgs) == 1:
        return None, ("Only", {})
    return None, ("Choose the organisations", {"orgs": list(ask.t.orgs)})


def _consent(ask: Ask) -> Decision:
    if Role.HANDLER not in ask.who.roles:
        return None
    others = [o for o in ask.case.others if o not in ask.case.consents]
    if not others:
        return None
    if ask.t.refused in others:
        given = [o for o in others if o != ask.t.refused]
        values = {"org_ids": given, "refused": [ask.t.refused], "method": "phone",
                  "given_on": ask.today.isoformat(), "capacity_confirmed": True}  # fmt: skip
        return None, ("Given for some", values)
    return None, ("Consent given", {})


def _propose(ask: Ask) -> Decision:
    if Role.HANDLER not in ask.who.roles:
        return None
    home = ask.people.names[HOME]
    return None, (f"Propose {home}", {"criteria": ["greatest_responsibility"]})


def _contributor(ask: Ask, label: str, **values: Any) -> Decision:
    """Someone of the organisation asked answers within one to three working days."""
    if ask.who.org_id != ask.about or Role.CONTRIBUTOR not in ask.who.roles:
        return None
    days = 1 + int(ask.r("days") * 3)
    seen = ask.people.first_seen[(ask.case.ref, ask.who.id, ask.prompt.id)]
    return at(add_working_days(seen.astimezone(LONDON).date(), days), 11), (label, values)


def _plan(ask: Ask) -> Decision:
    if Role.HANDLER not in ask.who.roles:
        return None
    planned = {s.org_id for s in ask.case.strands.values()}
    missing = [o for o in ask.case.involved if o not in planned]
    if not missing:
        return None
    org = missing[0]
    target = add_working_days(ask.today, 10 + int(stable(ask.people.seed, ask.case.ref, org, "target") * 6))
    values = {"org_id": org, "matters": f"What {ask.people.names[org]} did", "target": target.isoformat()}
    return None, ("Add a strand", values)


def _strand_answer_day(ask: Ask, org: str, target: date) -> date | None:
    pace = ask.t.pace.get(org, "early")
    r = stable(ask.people.seed, ask.case.ref, org, "pace")
    impasse = ask.case.impasse
    if pace == "never":
        if impasse is None or impasse.resolved_at is None:
            return None
        return add_working_days(impasse.resolved_at.astimezone(LONDON).date(), 2)
    if pace == "early":
        return add_working_days(target, -(1 + int(r * 5)))
    if pace == "late":
        return add_working_days(target, 1 + int(r * 5))
    return target  # on the day; and a later date once agreed


def _strand(ask: Ask) -> Decision:
    strand = ask.case.strands.get(ask.about)
    if strand is None or ask.who.org_id != strand.org_id or Role.CONTRIBUTOR not in ask.who.roles:
        return None
    asked = (ask.case.ref, strand.id)
    later_date = ask.t.pace.get(strand.org_id) == "later_date" and strand.proposed is None
    if later_date and asked not in ask.people.later:
        when = at(max(add_working_days(strand.target, -3), ask.today), 11)
        later = add_working_days(strand.target, 10).isoformat()
        if when <= ask.now:
            ask.people.later.add(asked)
        return when, ("Can't make this date", {"target": later, "reason": "Staff away."})
    day = _strand_answer_day(ask, strand.org_id, strand.target)
    if day is None:
        return None
    return at(day, 11), ("Send our response", {"summary": f"What {ask.who.org_id} found."})


def _own_strand(ask: Ask) -> Decision:
    strand = ask.case.strands.get(ask.about)
    if strand is None or Role.HANDLER not in ask.who.roles:
        return None
    day = _strand_answer_day(ask, strand.org_id, strand.target)
    return None if day is None else (at(day, 11), ("Record it", {"summary": "What the trust found."}))


def _impasse(ask: Ask) -> Decision:
    """A senior manager answers for their organisation in one to three working days."""
    if ask.who.org_id != ask.about or Role.MANAGER not in ask.who.roles:
        return None
    seen = ask.people.first_seen[(ask.case.ref, ask.who.id, ask.prompt.id)]
    when = at(add_working_days(seen.astimezone(LONDON).date(), 1 + int(ask.r("days") * 3)), 14)
    if ask.r("resolves") < 0.6:
        return when, ("Resolved", {"outcome": "The organisation will answer within two working days."})
    return when, ("Cannot resolve", {})


def _draft(ask: Ask) -> Decision:
    """The draft as assembled, with each place left for the lead written in."""
    if Role.HANDLER not in ask.who.roles:
        return None
    [field] = [f for f in ask.prompt.choices[0].fields if f.name == "text"]
    text = re.sub(r"\[To complete:[^\]]*\]", "We looked into this together.", field.default or "")
    return None, ("Record the draft", {"text": text})


def _add_action(ask: Ask) -> Decision:
    """The response promises no action: said once, while the draft is written."""
    offered = any(ch.label.startswith("No action") for ch in ask.prompt.choices)
    return _no_action(ask) if offered and not ask.case.no_action_reason else None


_no_action = handlers("No action is needed", reason="The practice has already changed.")
# questions left unanswered: optional ones, and those the organisations answer for themselves
OPTIONAL = frozenset(
    {"meeting", "ask_contributor", "learning", "comment", "signoff", "impasse_answer", "resolve_impasse"}
)


def _in_doubt(ask: Ask) -> Decision:
    """A letter that may or may not have gone: the handler looks in the sent mail (the SMTP log)."""
    if Role.HANDLER not in ask.who.roles:
        return None
    letter = ask.case.letters.get(ask.about)
    went = letter is not None and letter.message_id in ask.people.sent_ids
    return None, ("Record it as sent" if went else "Resend it", {})


ANSWERS: dict[str, Callable[[Ask], Decision]] = {
    "organisations": _organisations,
    "consent": _consent,
    "signpost": handlers("Send the signposting letter"),
    "complainant_view": handlers("Record their view", view="Happy for the hospital trust to lead"),
    "propose_lead": _propose,
    "lead_answer": lambda ask: _contributor(ask, "Agree"),
    "update_every": handlers("Set the update frequency"),
    "named_contact": handlers("Name the contact"),
    "response_period": handlers("Agreed with them"),
    "shared_understanding": handlers(
        "Record it",
        understanding="The discharge and the care that followed.",
        outcomes="An apology and an explanation.",
    ),  # fmt: skip
    "plan_discussed": handlers("Yes: record it"),
    "plan": _plan,
    "plan_agreed": handlers("Agreed"),
    "date_proposal": handlers("Accept the new date"),
    "strand": _strand,
    "contribution": _own_strand,
    "raise_impasse": handlers("Raise an impasse", reason="No response after the reminders."),
    "impasse": _impasse,
    "partial_response": handlers("Write the partial response"),
    "ombudsman": handlers("Send the Ombudsman signposting"),
    "update": lambda ask: _soon(ask, "Send the update letter"),
    "draft": _draft,
    "complete_draft": _draft,
    "full_response": _draft,
    "late_contribution": handlers("Record it"),
    "comment_round": handlers("Send for comment"),
    "comments": lambda ask: _contributor(ask, "Approve it"),
    "share_draft": handlers("Share it"),
    "final_response": handlers("Send the final response", signed_by="Dr Ann Chief"),
    "add_action": _add_action,
    "outcome": handlers("Partly upheld"),
    "coding": handlers("Record the coding"),
    "close": handlers("Close"),
    "delay": handlers("Write the delay letter"),
    "message": handlers("Mark it read"),
    "letter_in_doubt": _in_doubt,
    "acknowledge": handlers("Record how it was acknowledged"),
    "out_of_time": handlers("Yes"),
}


def _complaint(case: Case) -> int | None:
    head = "<complaint-"
    if not case.message_id.startswith(head):
        return None
    return int(case.message_id[len(head) :].split("@")[0])
