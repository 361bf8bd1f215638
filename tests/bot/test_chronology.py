"""The chronology for the Ombudsman, from a real case driven through local mode: three organisations,
a reply with an attachment, a changed target date, reminders, an impasse, a partial response, a
letter that could not be sent and a consent withdrawn. Checked against the case's own event log,
on disk, and in a real headless browser."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from bot.chronology import write_chronology
from bot.chronology_words import SENTENCES, sentence
from bot.config import Config, local_config
from bot.directory import actor, system_actor
from flows import commands as c
from flows.calendar import add_working_days
from flows.codec import EVENT_TYPES
from store.store import Store
from tests.bot.support import Clock
from tests.scenarios.coordination import Day
from tests.scenarios.test_coordination import COUNCIL, GP, START, three_strands

PNG = b"\x89PNG\r\n\x1a\n"
SENDERS_NAME = 'scan "<img src=x onerror=alert(1)>".pdf'  # shown as text, never as markup or a path


@dataclass
class Built:
    config: Config
    store: Store
    day: Day
    ref: str
    folder: Path
    page: Path


async def build_case(day: Day) -> str:
    """A three-organisation case taken to a partial response, with every kind of event the
    chronology must show."""
    asha = actor(day.assistant.config.person("asha-patel"))
    service = day.assistant.service
    ref, target = await three_strands(day)
    await day.assistant.cycle()
    reply_with_attachment(day, "Here is the discharge letter I mentioned.")
    await day.assistant.cycle()
    moved = add_working_days(target, 2)
    service.execute(ref, c.ChangeTargetDate(actor=asha, strand_id="S3", target=moved,
                                            reason="Records are held off-site"), day.clock.now)  # fmt: skip
    await day.until(add_working_days(target, -1))
    day.answer(ref, "asha-patel", "contribution:S1", "Record it", summary="Discharge checklist missed.")
    day.answer(ref, "sam-price", "strand:S2", "Send our response", summary="Visit request not logged.")
    await day.until(add_working_days(moved, 10))
    day.answer(ref, "asha-patel", "raise_impasse", "Raise an impasse", reason="No reply to four reminders")
    await day.assistant.cycle()
    day.answer(ref, "david-hughes", f"impasse:{COUNCIL}", "Cannot resolve")
    resolve_by = day.case(ref).impasse.resolve_by  # type: ignore[union-attr]
    await day.until(add_working_days(resolve_by, 1))
    day.answer(ref, "asha-patel", "partial_response", "Write the partial response")
    day.answer(ref, "asha-patel", "ombudsman", "Send the Ombudsman signposting")
    fail_letter(day, ref, "ombudsman_signpost", "550 5.1.1 mailbox unavailable")
    await day.assistant.cycle()
    service.execute(ref, c.WithdrawConsent(actor=asha, org_ids=(GP,), note="The person asked us to stop"),
                    day.clock.now)  # fmt: skip
    return ref


def reply_with_attachment(day: Day, text: str) -> None:
    """The complainant answers the acknowledgement, with a file attached."""
    [ack] = [m for m in day.letters() if "pat@example.org" in str(m["To"])][:1]
    reply = EmailMessage()
    reply["From"] = "Pat Example <pat@example.org>"
    reply["To"] = "complaints@northshire-trust.example"
    reply["Subject"] = "Re: " + str(ack["Subject"])
    reply["Message-ID"] = "<pat-2@mail.example.org>"
    reply["In-Reply-To"] = str(ack["Message-ID"])
    reply.set_content(text)
    reply.add_attachment(b"%PDF-1.4 a discharge letter", maintype="application", subtype="pdf",
                         filename=SENDERS_NAME)  # fmt: skip
    day.assistant.inbox.deliver(reply.as_bytes(), day.clock.now)  # type: ignore[attr-defined]


def fail_letter(day: Day, ref: str, template: str, reason: str) -> None:
    """Record a queued letter as refused for good, as the runner does on a permanent SMTP error."""
    service = day.assistant.service
    [key] = [r.key for s, r in service.store.due_effects(day.clock.now)
             if s == ref and r.effect.get("template") == template]  # fmt: skip
    failed = c.RecordLetterFailed(actor=system_actor(day.assistant.config), key=key, reason=reason)
    service.complete(ref, key, failed, day.clock.now)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """Built once for the module (it walks some forty working days): the tests only read it."""
    root = tmp_path_factory.mktemp("chronology")
    config = local_config(root / "var")
    with Store.open(config.store_dir) as store:
        day = Day.local(config, store, Clock(START))
        ref = asyncio.run(build_case(day))
        folder = root / "out"
        page = write_chronology(day.assistant.service, config, ref, folder, day.clock.now)
        yield Built(config, store, day, ref, folder, page)


class Page(HTMLParser):
    """What the tests look at in the page: event rows, letter rows, every src/href, script tags."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.events: list[tuple[str, str]] = []  # (id, data-type)
        self.letters: list[str] = []
        self.links: list[str] = []
        self.tags: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.add(tag)
        self.links += [str(found[a]) for a in ("src", "href") if found.get(a)]
        if tag == "tr" and "event" in str(found.get("class", "")).split():
            self.events.append((str(found["id"]), str(found["data-type"])))
        if tag == "tr" and found.get("class") == "letter":
            self.letters.append(str(found["data-template"]))


def test_every_event_of_the_case_appears_once_in_order(built: Built) -> None:
    events = built.store.load(built.ref).events
    page = Page(built.page.read_text())

    assert page.events == [(f"event-{n}", e["type"]) for n, e in enumerate(events, 1)]
    kinds = {e["type"] for e in events}
    expected = {"ComplaintReceived", "MessageReceived", "LetterQueued", "LetterSent", "LetterFailed",
                "ConsentGiven", "ConsentWithdrawn", "TargetDateChanged", "ReminderSent", "ImpasseRaised",
                "ImpasseAnswered", "PartialResponseSent", "LeadAgreed"}  # fmt: skip
    assert expected <= kinds, expected - kinds
    assert json.loads((built.folder / "events.json").read_text()) == events


def test_each_event_reads_as_a_sentence_naming_organisations_and_people(built: Built) -> None:
    text = built.page.read_text()

    assert "Target date of strand S3 changed from" in text and "Records are held off-site" in text
    assert "Consent withdrawn for Riverside Medical Practice" in text
    assert "Reminder to Northshire County Council, Adult Social Care" in text
    assert "Letter could not be sent: ombudsman signpost, to the complainant" in text
    assert "Asha Patel, Northshire Hospitals NHS Foundation Trust" in text  # who, with their organisation
    assert "{" not in text.split("<body>", 1)[1]  # no placeholder left unfilled


def test_every_letter_is_written_out_beside_the_page(built: Built) -> None:
    effects = [r.effect for r in built.store.load(built.ref).effects if r.effect["type"] == "SendLetter"]
    page = Page(built.page.read_text())

    assert page.letters == [e["template"] for e in effects]
    letters = sorted((built.folder / "letters").iterdir())
    assert len(letters) == 2 * len(effects)
    for path in letters:
        assert path.stat().st_size > 100
    [failed] = [p for p in letters if "ombudsman_signpost" in p.name and p.suffix == ".txt"]
    assert "Ombudsman" in failed.read_text()  # a letter that failed is still shown as it would have been
    assert "could not be sent: 550 5.1.1 mailbox unavailable" in built.page.read_text()


def test_the_manifest_lists_every_file_with_a_matching_checksum(built: Built) -> None:
    manifest = json.loads((built.folder / "manifest.json").read_text())
    on_disk = sorted(p.relative_to(built.folder).as_posix() for p in built.folder.rglob("*") if p.is_file())

    assert manifest["ref"] == built.ref
    assert [f["path"] for f in manifest["files"]] == [p for p in on_disk if p != "manifest.json"]
    for entry in manifest["files"]:
        data = (built.folder / entry["path"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["size"] == len(data)


def test_attachments_keep_their_stored_names_and_show_the_senders_name_as_text(built: Built) -> None:
    [message] = [m for m in built.day.case(built.ref).messages if m.attachments]
    [attachment] = message.attachments
    text = built.page.read_text()

    assert [p.name for p in (built.folder / "attachments").iterdir()] == [attachment.name]
    assert (built.folder / "attachments" / attachment.name).read_bytes() == b"%PDF-1.4 a discharge letter"
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text


def test_the_page_needs_nothing_from_the_network(built: Built) -> None:
    page = Page(built.page.read_text())

    assert not page.tags & {"script", "link", "iframe", "object", "embed"}
    for link in page.links:
        assert not link.startswith(("http:", "https:", "//", "/")), link
        if not link.startswith("data:image/png;base64,"):
            assert (built.folder / link).is_file(), link
    assert any(link.startswith("data:image/png;base64,") for link in page.links)
    assert "timeline.svg" in page.links


def test_the_timeline_pictures_show_dates_and_organisations_but_no_personal_details(built: Built) -> None:
    png, svg = built.folder / "timeline.png", built.folder / "timeline.svg"
    assert png.read_bytes().startswith(PNG) and png.stat().st_size > 10_000

    assert ET.parse(svg).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    drawing = svg.read_text()
    for words in (built.ref, "Riverside Medical Practice", "earlier target", "six-month point", "today"):
        assert words in drawing, words
    case = built.day.case(built.ref)
    for private in (case.complainant.name, case.complainant.email, "What riverside-gp did"):
        assert private not in drawing, private


def test_the_chronology_opens_in_a_real_browser(built: Built, tmp_path: Path) -> None:
    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("no headless browser: `apt-get install chromium` to run this test")
    shot = tmp_path / "chronology.png"
    offline = ["--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={tmp_path / 'profile'}"]
    common = [browser, "--headless=new", "--disable-gpu", "--no-sandbox", *offline]
    url = built.page.resolve().as_uri()
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1200,1600", url],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    dom = subprocess.run(
        [*common, "--dump-dom", url], check=True, capture_output=True, text=True, timeout=120
    )

    assert shot.read_bytes().startswith(PNG) and shot.stat().st_size > 50_000
    page = Page(dom.stdout)
    assert f'<span id="ref">{built.ref}</span>' in dom.stdout
    for name in ("Northshire Hospitals NHS Foundation Trust", "Riverside Medical Practice",
                 "Northshire County Council, Adult Social Care"):  # fmt: skip
        assert name in dom.stdout, name
    assert "acknowledgement" in page.letters and len(page.events) == len(built.store.load(built.ref).events)


def test_every_kind_of_event_has_a_sentence_and_an_unknown_one_still_reads() -> None:
    assert set(EVENT_TYPES) <= set(SENTENCES), set(EVENT_TYPES) - set(SENTENCES)
    event: dict[str, Any] = {
        "type": "RecordSealedByCourt",
        "at": datetime(2027, 1, 4, tzinfo=UTC).isoformat(),
    }
    assert sentence(event, str, lambda key: ("letter", key)) == "Record sealed by court."


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"type": "LeadResponded", "org_id": GP, "agrees": False, "reason": "We only saw her once"},
         "Riverside Medical Practice objected to the proposed lead. We only saw her once."),
        ({"type": "ConsentRefused", "org_ids": [GP, COUNCIL], "note": ""},
         "Consent refused for Riverside Medical Practice, Northshire County Council, Adult Social Care."),
        ({"type": "CaseClosed", "reason": "resolved_informally", "outcome": None, "note": ""},
         "Case closed: resolved informally."),
        ({"type": "LearningShared", "org_ids": [GP, COUNCIL]},
         "Learning shared with Riverside Medical Practice, Northshire County Council, Adult Social Care."),
        ({"type": "LetterSent", "key": "K1", "message_id": "<m@x>"},
         "Letter sent: final response, to the complainant."),
    ],
)  # fmt: skip
def test_sentences_name_organisations_and_leave_out_what_is_empty(
    event: dict[str, Any], expected: str
) -> None:
    names = {GP: "Riverside Medical Practice", COUNCIL: "Northshire County Council, Adult Social Care"}
    assert (
        sentence(event, lambda o: names.get(o, o), lambda key: ("final_response", "complainant")) == expected
    )
