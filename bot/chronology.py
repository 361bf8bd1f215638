"""The chronology an Ombudsman asks for when a complainant takes a case to them.

`write_chronology` writes one folder that stands on its own, can be read offline, printed, and
checked file by file::

    chronology.html    every event across all organisations, a human sentence each, with when (London
                       time) and who; the dates; the organisations; the letters; the attachments.
                       Inline CSS, the timeline picture inline, no scripts, nothing fetched.
    timeline.png/.svg  the case's dates as a picture (`bot.timeline`); the PNG is also in the page
    events.json        the case's event log exactly as the store keeps it
    letters/           every letter the case queued, rendered as the runner renders it: .txt and .html
    attachments/       the files people sent, under the names the attachment store gave them
    manifest.json      every other file with its SHA-256 and size

The folder is private whatever the umask, like the store it comes from: it is made 0700 before
anything is written into it, and every folder in it ends 0700 and every file 0600.

Letters are rendered, not rebuilt as .eml: a rebuilt message would carry a new Date and reply
address, so it would not be the message that was sent. A sender's filename is shown in the page as
text only; files are always written under their stored (generated) names.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot import chronology_words as words
from bot.config import Config
from bot.directory import SYSTEM_ID
from bot.runner import letter_context
from bot.service import CaseService
from flows.calendar import acknowledgement_due, london_date, response_due, six_month_point
from flows.codec import effect_from_plain
from flows.effects import SendLetter
from flows.model import Attachment, Case
from flows.summary import deadlines
from mail.attachments import AttachmentError, AttachmentStore
from mail.errors import LetterError
from mail.files import PRIVATE_DIR
from mail.letters import render_letter
from store.atomic import FILE_MODE
from store.records import EffectRecord

CHRONOLOGY, MANIFEST, EVENTS = "chronology.html", "manifest.json", "events.json"
TEMPLATES = Path(__file__).parent / "templates"
_UNSAFE = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True)
class LetterFile:
    key: str
    template: str
    to: str  # "the complainant" or an organisation's name
    address: str
    subject: str
    status: str
    text: str = ""  # paths relative to the folder; "" when the letter could not be rendered
    html: str = ""


@dataclass(frozen=True)
class AttachmentFile:
    name: str  # the stored name, which is also the file's name here
    filename: str  # the sender's, shown as text only
    content_type: str
    size: int
    came_with: str
    path: str  # relative to the folder; "" when the store no longer has the file


def write_chronology(service: CaseService, config: Config, ref: str, out_dir: Path, now: datetime) -> Path:
    """Write case `ref`'s chronology folder into `out_dir` (new or empty); returns the HTML page."""
    from bot.timeline import draw_timeline  # matplotlib takes ~0.4 s to import: only when drawing

    case = service.load(ref)
    record = service.store.load(ref)
    folder = empty_folder(out_dir)
    letters = write_letters(service, config, case, record.effects, folder)
    attachments = copy_attachments(config, case, folder)
    (folder / EVENTS).write_text(json.dumps(record.events, indent=2, ensure_ascii=False), encoding="utf-8")
    draw_timeline(
        case, london_date(now), folder / "timeline.png", folder / "timeline.svg", history=record.events
    )
    page = folder / CHRONOLOGY
    page.write_text(_page(config, case, record.events, letters, attachments, folder, now), encoding="utf-8")
    write_manifest(folder, {"ref": ref, "generated_at": now.isoformat()})
    make_private(folder)
    return page


def empty_folder(out_dir: Path) -> Path:
    """`out_dir`, created if need be; refused if it holds anything, so no stale file is mistaken
    for part of what is written now. It is made private (0700) at once: it will hold personal data."""
    out_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty: give a new or empty folder")
    out_dir.chmod(PRIVATE_DIR)
    return out_dir


def make_private(folder: Path) -> None:
    """Every folder under `folder` 0700 and every file 0600, whatever the umask made them."""
    for path in folder.rglob("*"):
        path.chmod(PRIVATE_DIR if path.is_dir() else FILE_MODE)


def write_letters(
    service: CaseService, config: Config, case: Case, effects: Sequence[EffectRecord], folder: Path
) -> list[LetterFile]:
    """Every letter the case queued, in order, rendered to letters/NNN-template-recipient.txt/.html."""
    (folder / "letters").mkdir()
    written = []
    sends = [(r, e) for r in effects if isinstance(e := effect_from_plain(r.effect), SendLetter)]
    for number, (record, effect) in enumerate(sends, 1):
        to = effect.to.org_id or effect.to.kind.value
        recipient = words.recipient(to, lambda o: org_name(config, case, o))
        about = LetterFile(
            effect.key, effect.template, recipient, effect.to.address, "", _status(case, record)
        )
        try:
            rendered = render_letter(effect.template, letter_context(config, effect.context))
        except LetterError as error:
            written.append(replace(about, subject=f"(could not be rendered: {error.message})"))
            continue
        stem = "letters/" + _UNSAFE.sub("-", f"{number:03d}-{effect.template}-{to}".lower())
        head = f"To: {effect.to.name} <{effect.to.address}>\nSubject: {rendered.subject}\n\n"
        (folder / f"{stem}.txt").write_text(head + rendered.text, encoding="utf-8")
        (folder / f"{stem}.html").write_text(rendered.html, encoding="utf-8")
        written.append(replace(about, subject=rendered.subject, text=f"{stem}.txt", html=f"{stem}.html"))
    return written


def copy_attachments(config: Config, case: Case, folder: Path) -> list[AttachmentFile]:
    """Every file that came with the complaint or a later email, copied under its stored name."""
    store = AttachmentStore(config.service.data_dir / "attachments")
    (folder / "attachments").mkdir()
    found: dict[str, tuple[Attachment, str]] = {a.name: (a, "the complaint") for a in case.attachments}
    for message in case.messages:
        for a in message.attachments:
            found.setdefault(a.name, (a, f"the email of {words.london(message.received_at)}"))
    copied = []
    for name, (a, came_with) in found.items():
        try:
            source = store.path(name)
        except AttachmentError:  # not a name the store gives: it could point anywhere, so it is not read
            source = None
        path = ""
        if source is not None and source.is_file():
            path = f"attachments/{name}"
            shutil.copyfile(source, folder / path)
        copied.append(AttachmentFile(name, a.filename, a.content_type, a.size, came_with, path))
    return copied


def write_manifest(folder: Path, about: Mapping[str, Any]) -> Path:
    """manifest.json: every other file under `folder`, with its SHA-256 and size in bytes."""
    files = [
        {"path": p.relative_to(folder).as_posix(), "sha256": sha256(p), "size": p.stat().st_size}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p != folder / MANIFEST
    ]
    target = folder / MANIFEST
    target.write_text(json.dumps({**about, "files": files}, indent=2) + "\n", encoding="utf-8")
    return target


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def org_name(config: Config, case: Case, org_id: str) -> str:
    if org_id in case.orgs:
        return case.orgs[org_id].name
    try:
        return config.organisation(org_id).name
    except KeyError:
        return org_id


def who(config: Config, actor_id: str) -> str:
    """An actor id as a reader knows them: name and organisation, from the directory if it is there."""
    if actor_id == SYSTEM_ID:
        return "the assistant (automatic)"
    try:
        person = config.person(actor_id)
    except KeyError:
        return actor_id
    try:
        return f"{person.name}, {config.organisation(person.organisation).name}"
    except KeyError:
        return person.name


def _status(case: Case, record: EffectRecord) -> str:
    letter = case.letters.get(record.key)
    if letter is not None and letter.failed:
        return f"could not be sent: {letter.failed}"
    if letter is not None and letter.sent_at is not None:
        return f"sent {words.london(letter.sent_at)}"
    retry = f" (last attempt failed: {record.last_error})" if record.last_error else ""
    return "queued, not sent yet" + retry


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )  # fmt: skip


def _page(
    config: Config,
    case: Case,
    events: Sequence[Mapping[str, Any]],
    letters: list[LetterFile],
    attachments: list[AttachmentFile],
    folder: Path,
    now: datetime,
) -> str:
    def name(org_id: str) -> str:
        return org_name(config, case, org_id)

    by_key = {letter.key: letter for letter in letters}
    rows = [_row(config, case, n, event, name, by_key) for n, event in enumerate(events, 1)]
    png = base64.b64encode((folder / "timeline.png").read_bytes()).decode("ascii")
    return _environment().get_template("chronology.html.j2").render(
        case=case, rows=rows, letters=letters, attachments={a.name: a for a in attachments},
        organisations=_organisations(case, name), dates=_dates(case), png=png, generated=words.london(now),
        home=name(case.home_org) if case.home_org else "", lead=name(case.lead) if case.lead else "",
    )  # fmt: skip


def _row(
    config: Config,
    case: Case,
    number: int,
    event: Mapping[str, Any],
    name: Callable[[str], str],
    letters: Mapping[str, LetterFile],
) -> dict[str, Any]:
    """One event as the page shows it: number, London time, who, sentence, and what goes with it."""

    def letter(key: str) -> tuple[str, str]:
        known = case.letters.get(key)
        return (known.template, known.to) if known else ("letter", key)

    files = [a["name"] if isinstance(a, dict) else str(a) for a in event.get("attachments", [])]
    return {
        "number": number,
        "type": str(event.get("type", "")),
        "when": words.readable("at", event.get("at", ""), name),
        "who": who(config, str(event.get("by", ""))),
        "category": words.category(str(event.get("type", ""))),
        "sentence": words.sentence(event, name, letter),
        "quote": event.get("text") or event.get("notes") or "",  # the words of an email, draft or meeting
        "letter": letters.get(str(event.get("key", ""))),
        "attachments": files,
    }


def _organisations(case: Case, name: Callable[[str], str]) -> list[dict[str, str]]:
    """Each organisation on the case: its part, consent, strands and outcome."""
    rows = []
    for org_id in dict.fromkeys([*case.involved, *case.orgs]):
        known = case.orgs.get(org_id)
        strands = [
            f"{s.id}: target {s.target:%d %b %Y}" + (", answered" if s.contribution else "")
            for s in case.strands.values()
            if s.org_id == org_id
        ]
        outcome = case.outcomes.get(org_id)
        rows.append(
            {
                "name": name(org_id),
                "role": _role(case, org_id),
                "sector": known.sector.value.replace("_", " ") if known else "",
                "consent": _consent(case, org_id),
                "strands": "; ".join(strands),
                "outcome": outcome.value.replace("_", " ") if outcome else "",
            }
        )
    return rows


def _role(case: Case, org_id: str) -> str:
    if org_id in case.signposted_orgs:
        return "signposted"
    if org_id == case.lead:
        return "lead"
    return "received the complaint" if org_id == case.home_org else "involved"


def _consent(case: Case, org_id: str) -> str:
    if org_id == case.home_org:
        return "not needed (received the complaint)"
    consent = case.consents.get(org_id)
    return f"{consent.state.value}, {consent.at:%d %b %Y}" if consent else "none recorded"


def _dates(case: Case) -> list[tuple[str, str]]:
    if case.received_at is None:
        return []
    received = case.received_on
    due = response_due(received, case.longer_period_until, case.longer_period_agreed_on)
    found = [
        ("Complaint received", words.london(case.received_at)),
        ("Acknowledgement due (3 working days)", f"{acknowledgement_due(case.received_at):%a %d %b %Y}"),
        ("Acknowledged", words.london(case.acknowledged_at) if case.acknowledged_at else "not recorded"),
        ("Six-month point", f"{six_month_point(received):%a %d %b %Y}"),
    ]
    if due != six_month_point(received):
        found.append(("Agreed longer period", f"{due:%a %d %b %Y}"))
    if case.response_period is not None:
        found.append(("Response period agreed", f"{case.response_period.due:%a %d %b %Y}"))
    ends = {"Final response sent": case.final_response_at, "Partial response sent": case.partial_response_at,
            "Closed": case.closed_at}  # fmt: skip
    found += [(label, words.london(at)) for label, at in ends.items() if at is not None]
    found += [(f"Still to meet: {d.what}", f"{d.on:%a %d %b %Y}") for d in deadlines(case)]
    return found
