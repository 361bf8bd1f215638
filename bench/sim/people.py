"""How the simulated people answer the assistant: through `flows.prompts.next_prompts`, the
questions the terminal and Slack put to them, filled in and recorded as those fronts record them.

- The home trust's handlers answer each question within a working day or so (`handler_delay`),
  along the guide's path: the organisations the complaint involves, consent (refused for one
  organisation now and then), the home trust proposed as lead, the contact, the period, the plan
  with a strand per organisation, the draft, the response, the outcomes, coding, closure.
- Each organisation's contacts answer their strand at their pace (`Truth.pace`): early, on the
  day, late, asking for a later date, or never, which takes the case up the impasse ladder; one
  contact of two answers (the other is on leave), and its senior manager answers an impasse.

- Beside their answers, people write emails (`bench.sim.emails`, `People.outbox`, which the driver
  delivers): a complainant replies to a letter or complains again about the same matter, and an
  organisation that answers by email only (`Truth.by_email`) replies to the request letter with its
  response or asking for a later date, which the handler records from the email's question
  (`flows.asks_messages`). A representative's complaint (`Truth.representative`) has the handler
  record who acts for the person, from the case's menu, before consent.

A person's timing depends only on the seed, the case and the question, so a restarted run answers
as the first would have. Each case is looked at again when it changes or when someone on it is
next due to act (`People.wake`), so quiet cases cost nothing.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bench.sim import emails
from bench.sim.calendar import LONDON, add_working_days, is_working_day
from bench.sim.emails import Outgoing, Sent
from bench.sim.world import HOME, SERIOUS_DAYS, Truth, at, slot, stable, truth
from bot.config import Config
from bot.directory import actor, org_ref
from bot.service import CaseService
from flows.codec import to_plain
from flows.conversation import Choice, FieldKind, Prompt, fill
from flows.errors import DomainError
from flows.model import Actor, Case, Letter, Role
from flows.prompts import case_menu, next_prompts

Answer = tuple[str, dict[str, Any]]  # the choice's label (its start), and values beyond the defaults
NEVER = datetime.max.replace(tzinfo=LONDON)
REPEATS = 5  # answers to one question of one case before the simulation calls it stuck
MAIL_AFTER = timedelta(minutes=5)  # an email decided at a moment goes a little after it


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
    later: set[tuple[str, str]] = field(default_factory=set)  # strands a later date was asked for
    sent: dict[str, Sent] = field(default_factory=dict)  # the sent mail, by Message-ID
    outbox: list[Outgoing] = field(default_factory=list)  # emails written, for the driver to deliver
    emailed: set[str] = field(default_factory=set)  # Message-IDs of the emails written
    email: Counter[str] = field(default_factory=Counter)  # emails written and read, by kind
    answer_s: list[float] = field(default_factory=list)  # seconds from each answer given to its decision kept

    def __post_init__(self) -> None:
        self.actors = {p.id: actor(p) for p in self.config.people}
        self.handler = self.actors["handler-1"]
        self.names = {o.id: o.name for o in self.config.organisations}

    def took(self, letters: Iterable[Sent]) -> None:
        """Letters the SMTP server took: what the people got, and the handlers' sent mail."""
        for letter in letters:
            self.sent[letter.message_id] = letter

    def written(self) -> list[Outgoing]:
        """The emails written since last asked."""
        found, self.outbox = self.outbox, []
        return found

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
        for look in range(40):  # one answer can bring the next question: keep going while due
            case = service.load(ref)
            n = _complaint(case)
            in_doubt = any(letter.in_doubt for letter in case.letters.values())
            if n is None or case.closed_at is not None and not in_doubt:
                return done
            if look == 0 and case.closed_at is None:
                self._write(case, truth(self.seed, n), n, now)
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
                began = time.perf_counter()
                service.execute(ref, self._command(case, prompt, answer, now), now)
                self.answer_s.append(time.perf_counter() - began)
                self.answered[kind] += 1
                if kind == "message":
                    self._read(prompt, answer)
                done += 1
            except (DomainError, ValueError) as error:
                self.refused[f"{kind}: {getattr(error, 'message', error)}"[:160]] += 1
                return done
        return done

    def _next(self, case: Case, t: Truth, now: datetime) -> tuple[Actor, Prompt, Answer] | None:
        """The first answer due now on `case`; else note when the next one falls due."""
        soonest = NEVER
        for who in self._people(case, t):
            menu = case_menu(case, who, now) if who is self.handler and _wants_menu(case, t) else []
            for prompt in [*next_prompts(case, who, now), *menu]:
                when, answer = self._plan(case, t, who, prompt, now)
                if answer is None:
                    continue
                if when <= now:
                    if self._by_email(case, t, who, prompt, answer, now):
                        continue
                    return who, prompt, answer
                soonest = min(soonest, when)
        self._wake(case.ref, soonest)
        return None

    def _wake(self, ref: str, when: datetime) -> None:
        if when < NEVER:
            self.wake[ref] = min(self.wake.get(ref, NEVER), when)

    # --- the emails people write -------------------------------------------------------------

    def _send(self, case: Case, mail: Outgoing) -> None:
        """Write `mail` once: not again when it is on the case or written already (a restarted host
        writes it again; the driver delivers a Message-ID once)."""
        mid = mail.arrival.message_id
        if mid in self.emailed or any(m.message_id == mid for m in case.messages):
            return
        self.emailed.add(mid)
        self.outbox.append(mail)
        self.email[mail.arrival.kind] += 1

    def _written(self, case: Case, kind: str, n: int, what: str = "") -> bool:
        mid = emails.own_id(kind, n, what)
        return mid in self.emailed or any(m.message_id == mid for m in case.messages)

    def _write(self, case: Case, t: Truth, n: int, now: datetime) -> None:
        """The person's emails on an open case of theirs: replies to letters, complaining again."""
        for template in t.replies:
            letter = self._first_sent(case, template)
            if letter is None or self._written(case, "reply", n, template):
                continue
            assert letter.sent_at is not None
            when = working_time(letter.sent_at, 1 + stable(self.seed, case.ref, template, "reply") * 16)
            if when <= now:
                self._send(case, emails.reply(n, self.sent[letter.message_id], template, now + MAIL_AFTER))
            else:
                self._wake(case.ref, when)
        acknowledged = self._first_sent(case, "acknowledgement")
        if not t.again or acknowledged is None or acknowledged.sent_at is None:
            return
        kind = "again" if t.again == "reference" else "again_new"
        if self._first_sent(case, "final_response") or self._written(case, kind, n):
            return
        days = 5 + int(stable(self.seed, case.ref, "again") * 8)
        when = at(add_working_days(acknowledged.sent_at.astimezone(LONDON).date(), days), 10)
        if when > now:
            self._wake(case.ref, when)
            return
        received = case.received.astimezone(LONDON).date()
        self._send(case, emails.again(n, case.ref, received, now + MAIL_AFTER, t.again == "reference"))

    def _read(self, prompt: Prompt, answer: Answer) -> None:
        """Tally an email of the people's read by the handler, and whether the question offered what
        it says first (the assistant's reading of it, `flows.asks_messages`)."""
        own = emails.parse_own_id(prompt.id.partition(":")[2])
        if own is None:
            return
        kind = own[0]
        self.email[f"read_{kind}"] += 1
        if kind in ("contribution", "later", "lead"):
            first = prompt.choices[0]
            right = first.label.startswith(answer[0]) and bool(prompt.detail)
            if right and kind == "later":
                [target] = [f for f in first.fields if f.name == "target"]
                right = str(target.default) == answer[1].get("target")
            self.email["suggested" if right else "not_suggested"] += 1

    def _first_sent(self, case: Case, template: str) -> Letter | None:
        """The first letter of `template` on `case` that the SMTP server took, or None."""
        went = [
            x
            for x in case.letters.values()
            if x.template == template and x.sent_at is not None and x.message_id in self.sent
        ]
        return min(went, key=lambda x: x.sent_at, default=None)

    def _by_email(
        self, case: Case, t: Truth, who: Actor, prompt: Prompt, answer: Answer, now: datetime
    ) -> bool:
        """An organisation that answers by email only emails what it would have answered (its
        response, or its request for a later date) instead, in reply to the request letter."""
        kind, _, about = prompt.id.partition(":")
        if kind not in ("strand", "lead_answer") or who.org_id not in t.by_email:
            return False
        if Role.CONTRIBUTOR not in who.roles:
            return False
        n, label, values = t.n, *answer
        if kind == "lead_answer":
            letter = self._request(case, "lead_proposal", who.org_id, "")
            if letter is not None and case.proposal is not None:
                lead = self.names[case.proposal.org_id]
                self._send(case, emails.lead(n, who.org_id, who.email, letter, lead, now + MAIL_AFTER))
            return True
        strand = case.strands[about]
        letter = self._request(case, "contributor_request", strand.org_id, strand.id)
        if letter is None:  # the request letter not (yet) taken by the SMTP server: nothing to reply to
            return True
        if label.startswith("Can't make"):
            self.later.add((case.ref, strand.id))
            wanted = date.fromisoformat(values["target"])
            mail = emails.later(n, strand.id, who.email, letter, strand.target, wanted, now + MAIL_AFTER)
        else:
            mail = emails.contribution(
                n, strand.id, self.names[strand.org_id], who.email, letter, now + MAIL_AFTER
            )
        self._send(case, mail)
        return True

    def _request(self, case: Case, template: str, org_id: str, strand_id: str) -> Sent | None:
        """The letter of `template` sent to `org_id` about `strand_id` (its Reply-To names both)."""
        token = f".{org_id}.{strand_id or '-'}.".lower()
        found = [
            self.sent[x.message_id]
            for x in sorted(case.letters.values(), key=lambda x: x.sent_at or NEVER)
            if x.template == template and x.message_id in self.sent
        ]
        named = [x for x in found if token in x.reply_to.lower()]
        return (named or found or [None])[-1]

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


def _soon(ask: Ask, label: str, hours: int = 1) -> Decision:
    """Within the hour: what a handler is reminded of on its day (the person's update letter).
    A letter the mail server refused is sent again two hours on, once IT has put the relay right."""
    if Role.HANDLER not in ask.who.roles:
        return None
    seen = ask.people.first_seen[(ask.case.ref, ask.who.id, ask.prompt.id)]
    return seen + timedelta(hours=hours), (label, {})


def _organisations(ask: Ask) -> Decision:
    if Role.HANDLER not in ask.who.roles:
        return None
    if len(ask.t.orgs) == 1:
        return None, ("Only", {})
    return None, ("Choose the organisations", {"orgs": list(ask.t.orgs)})


def _consent(ask: Ask) -> Decision:
    if Role.HANDLER not in ask.who.roles:
        return None
    if ask.t.representative and ask.case.representative is None:
        return None  # who acts for the person first (`_representative`): they give the consent
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
    days = SERIOUS_DAYS if ask.t.serious else 10
    target = add_working_days(ask.today, days + int(stable(ask.people.seed, ask.case.ref, org, "target") * 6))
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
    emailed = ask.people._written(ask.case, "later", ask.t.n, strand.id)
    if later_date and asked not in ask.people.later and not emailed:
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
    """The home trust's own strand, recorded by its handler; the other organisations answer theirs
    (`_strand`), by email when they answer only that way."""
    strand = ask.case.strands.get(ask.about)
    if strand is None or Role.HANDLER not in ask.who.roles or strand.org_id != HOME:
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
    went = letter is not None and letter.message_id in ask.people.sent
    return None, ("Record it as sent" if went else "Resend it", {})


EVIDENCE = {
    "lasting_power_of_attorney": "A copy of the registered LPA, on the case file.",
    "written_consent": "The person's signed consent form, on the case file.",
    "parental_responsibility": "",
}


def _wants_menu(case: Case, t: Truth) -> bool:
    """Something the handler records from the case's menu, unasked (`_anytime`)."""
    represented = t.representative is not None and case.representative is None
    return represented or t.serious == "longer" and case.longer_period_until is None and bool(case.strands)


def _anytime(ask: Ask) -> Decision:
    """Who acts for the person, first; then, on a serious matter, a longer period agreed with the
    person once the plan shows the investigation will run past the six months."""
    if ask.t.representative and ask.case.representative is None:
        return _representative(ask)
    label = "Record a longer period"
    if Role.HANDLER not in ask.who.roles or not any(ch.label.startswith(label) for ch in ask.prompt.choices):
        return None
    [choice] = [ch for ch in ask.prompt.choices if ch.label.startswith(label)]
    [offered] = [f.default for f in choice.fields if f.name == "until"]  # past the six months
    until = max(offered, add_working_days(max(s.target for s in ask.case.strands.values()), 30))
    return None, (label, {"until": until.isoformat(), "agreed_on": ask.today.isoformat()})


def _response_period(ask: Ask) -> Decision:
    """The period agreed with the person: longer for a serious matter."""
    if Role.HANDLER not in ask.who.roles:
        return None
    due = add_working_days(ask.today, SERIOUS_DAYS + 20 if ask.t.serious else 30)
    return None, ("Agreed with them", {"due": due.isoformat()})


def _representative(ask: Ask) -> Decision:
    """A complaint written on the person's behalf: the handler records who acts for them, from the
    case's menu, before anything else on it."""
    rep = ask.t.representative
    if Role.HANDLER not in ask.who.roles or rep is None or ask.case.representative is not None:
        return None
    relationship, _, name, basis = rep
    values = {"relationship": relationship, "basis": basis, "acts_for": name, "evidence": EVIDENCE[basis]}
    return None, ("Someone acts for the person", values)


def _message(ask: Ask) -> Decision:
    """An email on the case: what an organisation that answers by email only said is recorded from
    its question (its response, its request for a later date); anything else is read."""
    if Role.HANDLER not in ask.who.roles:
        return None
    own = emails.parse_own_id(ask.about)
    kind, what = (own[0], own[2]) if own else ("", "")
    label, values = "Mark it read", {}
    if kind == "contribution":
        label = f"Record it as the response on {what}"
    elif kind == "lead":
        label = f"Record that {ask.people.names[what]} agrees"
    elif kind == "later":
        label = f"Record their request for a new date on {what}"
        text = next((m.text for m in ask.case.messages if m.message_id == ask.about), "")
        found = re.search(r"until (\d{1,2} \w+ \d{4})", text)
        if found:
            wanted = datetime.strptime(found.group(1), "%d %B %Y").date()
            values = {"target": wanted.isoformat(), "reason": "Staff away."}
    if not any(ch.label.startswith(label) for ch in ask.prompt.choices):
        ask.people.email[f"not_offered_{kind}"] += 1
        label, values = "Mark it read", {}
    return None, (label, values)


def _related(ask: Ask) -> Decision:
    """A new case that may belong to another: the same matter complained of again is merged."""
    if Role.HANDLER not in ask.who.roles:
        return None
    own = emails.parse_own_id(ask.case.message_id)
    if own and own[0] == "again_new":
        return None, ("Merge it into", {})
    return None, ("It is a separate complaint", {})


ANSWERS: dict[str, Callable[[Ask], Decision]] = {
    "organisations": _organisations,
    "consent": _consent,
    "signpost": handlers("Send the signposting letter"),
    "complainant_view": handlers("Record their view", view="Happy for the hospital trust to lead"),
    "propose_lead": _propose,
    "lead_answer": lambda ask: _contributor(ask, "Agree"),
    "update_every": handlers("Set the update frequency"),
    "named_contact": handlers("Name the contact"),
    "response_period": _response_period,
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
    "message": _message,
    "anytime": _anytime,
    "related": _related,
    "letter_in_doubt": _in_doubt,
    "letter_failed": lambda ask: _soon(ask, "Send it again", hours=2),
    "acknowledge": handlers("Record how it was acknowledged"),
    "out_of_time": handlers("Yes"),
}


def _complaint(case: Case) -> int | None:
    """The simulated complaint a case was opened from (a complaint, or one complained of again)."""
    own = emails.parse_own_id(case.message_id)
    return own[1] if own and own[0] in ("complaint", "again_new") else None
