"""A subject access export gathers every case of one complainant, and nothing of anyone else's."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.chronology import write_chronology
from bot.config import Config
from bot.export import export_person
from bot.intake import Intake
from bot.service import CaseService
from mail.maildir import MaildirInbox
from tests.bot.support import NOW, RECEIVED, opened


def email(sender: str, message_id: str, text: str, attachment: bytes = b"") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "complaints@northshire-trust.example"
    message["Subject"] = "A complaint"
    message["Message-ID"] = message_id
    message.set_content(text)
    if attachment:
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename="letter.pdf")
    return message.as_bytes()


@pytest.fixture
def three_cases(inbox: MaildirInbox, intake: Intake) -> dict[str, str]:
    """Two complaints from Pat (months apart, the second from the address in capitals) and one from Jo."""
    sent = {
        "pat-1": email("Pat Example <pat@example.org>", "<pat-1@mail.example.org>",
                       "The discharge went badly.", attachment=b"%PDF-1.4 Pat's discharge letter"),
        "jo": email("Jo Other <jo@example.net>", "<jo-1@mail.example.net>", "Jo's own complaint about a GP."),
        "pat-2": email("Pat Example <PAT@Example.ORG>", "<pat-2@mail.example.org>",
                       "A new complaint about the care home."),
    }  # fmt: skip
    refs = {}
    for minute, (name, raw) in enumerate(sent.items()):
        inbox.deliver(raw, RECEIVED.replace(minute=minute))
        [refs[name]] = opened(intake.poll(RECEIVED.replace(minute=minute + 1)))
    return refs


def test_an_export_holds_both_of_pats_cases_and_none_of_jos(
    service: CaseService, config: Config, three_cases: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "sar"
    readme = export_person(service, config, "Pat@Example.org", out, NOW)

    pats = sorted([three_cases["pat-1"], three_cases["pat-2"]])
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == pats
    text = readme.read_text()
    assert all(ref in text for ref in pats) and "2 cases" in text
    for ref in pats:
        events = json.loads((out / ref / "events.json").read_text())
        assert events == service.store.load(ref).events
        assert any((out / ref / "letters").iterdir())  # the acknowledgement
    [kept] = list((out / three_cases["pat-1"] / "attachments").iterdir())
    assert kept.read_bytes() == b"%PDF-1.4 Pat's discharge letter"

    everything = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert three_cases["jo"].encode() not in everything and b"Jo Other" not in everything
    assert b"jo@example.net" not in everything


def test_the_exports_manifest_checks_every_file(
    service: CaseService, config: Config, three_cases: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "sar"
    export_person(service, config, "pat@example.org", out, NOW)

    manifest = json.loads((out / "manifest.json").read_text())
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert [f["path"] for f in manifest["files"]] == [f for f in files if f != "manifest.json"]
    for entry in manifest["files"]:
        assert hashlib.sha256((out / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    assert manifest["cases"] == sorted([three_cases["pat-1"], three_cases["pat-2"]])


def test_an_address_with_no_cases_gets_a_readme_saying_so(
    service: CaseService, config: Config, tmp_path: Path
) -> None:
    readme = export_person(service, config, "nobody@example.org", tmp_path / "sar", NOW)

    assert "nothing is held about this address" in readme.read_text()
    assert json.loads((tmp_path / "sar" / "manifest.json").read_text())["cases"] == []


def test_an_export_never_writes_into_a_folder_that_holds_something(
    service: CaseService, config: Config, tmp_path: Path
) -> None:
    (tmp_path / "old.txt").write_text("from before")

    with pytest.raises(FileExistsError):
        export_person(service, config, "pat@example.org", tmp_path, NOW)


@pytest.fixture(params=[0o022, 0o000], ids=["umask 022", "umask 000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    before = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(before)


def modes(folder: Path) -> set[tuple[str, int]]:
    """("dir" or "file", permission bits) of `folder` and everything in it."""
    return {
        ("dir" if p.is_dir() else "file", stat.S_IMODE(p.stat().st_mode))
        for p in [folder, *folder.rglob("*")]
    }


def test_exports_and_chronologies_are_private_whatever_the_umask(
    service: CaseService, config: Config, three_cases: dict[str, str], tmp_path: Path, umask: int
) -> None:
    given = tmp_path / "given"
    given.mkdir(mode=0o777)
    given.chmod(0o777)  # an empty folder someone made for it, open to all

    export_person(service, config, "pat@example.org", tmp_path / "sar", NOW)
    write_chronology(service, config, three_cases["jo"], given, NOW)

    for out in (tmp_path / "sar", given):
        assert modes(out) == {("dir", 0o700), ("file", 0o600)}
