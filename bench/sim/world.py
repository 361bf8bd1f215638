"""The simulated integrated care system: its organisations and people, and its complaints, seeded.

Twenty organisations (`ORGANISATIONS`): the trust whose complaints mailbox the assistant reads, three
more trusts, eight GP practices, four councils' adult social care and four care homes. Every
organisation has two contacts (one answers when the other is on leave) and a senior manager; the
home trust has three handlers. Nobody is in Slack: every reminder and request goes by email, so the
SMTP server sees everything the assistant sends to a person.

Complaints arrive on working days between 08:00 and 18:00, about 5,000 a year at the default rate:
more on Mondays, fewer in August and over Christmas. About a third involve two or more
organisations. What happens to each (who is involved, who refuses consent, how each organisation
answers, and the emails beside the complaint: the person's replies, a complaint made again, a
representative writing for the person, organisations answering by email only) is decided when it
arrives, from the seed and its number alone (`Truth`), so a restarted run decides the same.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

from bench.sim.calendar import is_working_day, london_at

HOME = "moorland-trust"
KINDS = (  # id prefix, name, sector, kind, how many
    ("trust", "{} Hospitals NHS Foundation Trust", "health", "nhs_trust", 4),
    ("gp", "{} Medical Practice", "health", "gp_practice", 8),
    ("council", "{} Council, Adult Social Care", "social_care", "local_authority", 4),
    ("care", "{} Care Home", "social_care", "care_provider", 4),
)
PLACES = (
    "Moorland", "Fenwick", "Harrowgate", "Ashby", "Brackenfield", "Coldwater", "Dunmore", "Elmsworth",
    "Foxley", "Greystone", "Hollins", "Ivybridge", "Juniper", "Kestrel", "Larkfield", "Millbeck",
    "Northgate", "Oakridge", "Pendle", "Quarry",
)  # fmt: skip
PACES = ("early", "early", "early", "early", "on_day", "late", "late", "later_date", "never")


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    sector: str
    kind: str
    domain: str


@cache
def organisations() -> tuple[Org, ...]:
    found, places = [], iter(PLACES)
    for prefix, name, sector, kind, count in KINDS:
        for n in range(count):
            place = next(places)
            org_id = HOME if (prefix, n) == ("trust", 0) else f"{prefix}-{place.lower()}"
            found.append(Org(org_id, name.format(place), sector, kind, f"{place.lower()}-{prefix}.example"))
    return tuple(found)


def directory_toml() -> str:
    """The `[[organisations]]` and `[[people]]` of the simulated system, as a configuration has them."""
    lines: list[str] = []
    people: list[tuple[str, str, str, str, str]] = []  # id, name, org, roles, email
    for org in organisations():
        contacts = [f"{org.id}-c1", f"{org.id}-c2"]
        manager = f"{org.id}-sm"
        if org.id == HOME:
            contacts = ["handler-1", "handler-2", "handler-3"]
        lines += [
            "[[organisations]]",
            f'id = "{org.id}"',
            f'name = "{org.name}"',
            f'sector = "{org.sector}"',
            f'kind = "{org.kind}"',
            f'aliases = ["{org.name.split(",")[0]}"]',
            f'complaints_email = "complaints@{org.domain}"',
            f'complaints_phone = "01632 960 {len(lines) % 1000:03}"',
            f'address = "{org.name}, 1 High Street, Northshire"',
            f"contacts = {contacts!r}".replace("'", '"'),
            f'senior_managers = ["{manager}"]',
            "",
        ]
        roles = '["handler"]' if org.id == HOME else '["contributor"]'
        people += [(p, f"Contact {p}", org.id, roles, f"{p}@{org.domain}") for p in contacts]
        people.append((manager, f"Manager {manager}", org.id, '["manager"]', f"{manager}@{org.domain}"))
    for person_id, name, org_id, roles, address in people:
        lines += [
            "[[people]]",
            f'id = "{person_id}"',
            f'name = "{name}"',
            f'organisation = "{org_id}"',
            f"roles = {roles}",
            f'email = "{address}"',
            "",
        ]
    return "\n".join(lines)


def working_days(start: date, end: date) -> list[date]:
    days, day = [], start
    while day <= end:
        if is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def rate(day: date) -> float:
    """How busy a working day is, relative to an ordinary Tuesday."""
    weight = 1.35 if day.weekday() == 0 else 1.0
    if day.month == 8:
        weight *= 0.7
    if (day.month, day.day) >= (12, 20) or (day.month, day.day) <= (1, 3):
        weight *= 0.4
    return weight


at = london_at


def arrivals(seed: int, start: date, end: date, complaints: int) -> list[datetime]:
    """When each complaint arrives: `complaints` spread over the working days from `start` to the
    day before `end` (the run ends as `end` begins) by `rate`."""
    rng = random.Random(f"{seed}/arrivals")
    days = working_days(start, end - timedelta(days=1))
    weights = [rate(d) for d in days]
    chosen = sorted(rng.choices(days, weights, k=complaints))
    return sorted(at(d, 8) + timedelta(seconds=rng.randrange(10 * 3600)) for d in chosen)


@dataclass(frozen=True)
class Truth:
    """What happens to complaint `n`: decided from the seed and `n` only."""

    n: int
    orgs: tuple[str, ...]  # involved, the home trust first
    refused: str  # an organisation the person refuses consent for ("" for none)
    pace: dict[str, str]  # organisation -> how it answers: early, on_day, late, later_date, never
    rng_seed: str
    # the person's own emails (`Mail`): the letters they reply to ("acknowledgement",
    # "progress_update"), whether they complain again about the same matter ("reference": naming
    # their case's reference in the subject; "no_reference": not), and who writes for them
    replies: tuple[str, ...] = ()
    again: str = ""
    representative: tuple[str, str, str, str] | None = None  # one of `REPRESENTATIVES`
    by_email: frozenset[str] = frozenset()  # organisations that answer their strand by email only
    # a serious matter whose investigation runs past the six months: "delay" (the delay letter is
    # written when they end), "longer" (a longer period agreed with the person before they end)
    serious: str = ""

    def draw(self, what: str) -> random.Random:
        """A random source for one decision about this complaint, the same on every run."""
        return random.Random(f"{self.rng_seed}/{what}")


@cache  # asked for at every look at a case: decided once
def truth(seed: int, n: int) -> Truth:
    rng = random.Random(f"{seed}/complaint/{n}")
    others = [o.id for o in organisations() if o.id != HOME]
    extra = rng.choices((0, 1, 2), (66, 26, 8))[0]
    involved = (HOME, *rng.sample(others, extra))
    refused = rng.choice(involved[1:]) if len(involved) > 2 and rng.random() < 0.15 else ""
    pace = {o: rng.choice(PACES) for o in involved}
    pace[HOME] = rng.choice(("early", "on_day"))  # the lead's own part: its handlers see to it
    mail = random.Random(f"{seed}/complaint/{n}/mail")  # apart, so the draws above stay as they were
    replies = tuple(letter for letter, p in REPLIES if mail.random() < p)
    again = mail.choices(("", "reference", "no_reference"), (1 - sum(AGAIN), *AGAIN))[0]
    representative = mail.choice(REPRESENTATIVES) if mail.random() < 0.1 else None
    by_email = frozenset(o for o in involved[1:] if mail.random() < 0.5)
    serious = random.Random(f"{seed}/complaint/{n}/serious").choices(("", *SERIOUS), (96, 2, 2))[0]
    return Truth(n, involved, refused, pace, f"{seed}/{n}", replies, again, representative, by_email, serious)


REPLIES = (("acknowledgement", 0.15), ("progress_update", 0.1))  # letters a person replies to, and how often
# complaining again about the same matter: naming the case's reference in the subject (threaded
# onto the case), or not (a new case related to the open one, for the handler to merge)
AGAIN = (0.04, 0.04)
SERIOUS = ("delay", "longer")
SERIOUS_DAYS = 140  # working days a serious matter's strands are given: past the six months
REPRESENTATIVES = (  # relationship, the person as they name them, the person's name, their authority
    ("daughter", "my mother", "Mrs Edith Marsh", "lasting_power_of_attorney"),
    ("son", "my father", "Mr Albert Holt", "written_consent"),
    ("husband", "my wife", "Mrs Joan Pike", "written_consent"),
    ("mother", "my son", "Daniel Reed", "parental_responsibility"),
)


def complaint_id(n: int) -> str:
    return f"<complaint-{n}@people.example>"


def complainant(n: int) -> str:
    return f"person-{n}@people.example"


SLOT = timedelta(minutes=30)


def slot(moment: datetime) -> datetime:
    """The end of the half hour `moment` falls in (a moment already on a slot's end stays)."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    steps = -(-(moment - epoch) // SLOT)
    return epoch + steps * SLOT


def stable(*parts: object) -> float:
    """A number in [0, 1) from `parts`, the same on every run and in every process."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def config_toml(data_dir: str, smtp_port: int, mailbox: str = "") -> str:
    """The assistant's configuration: `mailbox` is the ``[mailbox]`` section's keys (a Maildir in
    the data folder when empty)."""
    mailbox = mailbox or f'kind = "maildir"\npath = "{data_dir}/inbox"'
    return f"""
[service]
home_organisation = "{HOME}"
data_dir = "{data_dir}"

[mailbox]
{mailbox}

[outbox]
kind = "smtp"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from_address = "complaints@moorland-trust.example"

[runner]
retry_base_seconds = 600
retry_cap_seconds = 7200
""" + directory_toml()
