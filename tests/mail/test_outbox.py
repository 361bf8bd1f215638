"""FileOutbox on a real folder: one .eml per Message-ID, written atomically, parseable back."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from mail.errors import MailError, OutboxError
from mail.letters import build_message, message_id_for, render_letter
from mail.outbox import FileOutbox
from mail.parse import parse_message
from tests.bot.support import SECRET
from tests.mail.contexts import context_for

SENT = datetime(2026, 11, 24, 10, 15, 30, tzinfo=UTC)


def letter_message(key: str = "effect-1", template: str = "acknowledgement") -> EmailMessage:
    return build_message(
        render_letter(template, context_for(template)),
        from_address="complaints@northshire-trust.example",
        from_name="Northshire Hospitals NHS Foundation Trust",
        to_address="margaret.ellison@example.org",
        to_name="Margaret Ellison",
        message_id=message_id_for(key, "northshire-trust.example", SECRET),
        sent_at=SENT,
        automatic=True,
    )


async def test_send_writes_an_eml_that_parses_back(tmp_path: Path) -> None:
    outbox = FileOutbox(tmp_path / "outbox")
    message = letter_message()
    await outbox.send(message)
    (written,) = (tmp_path / "outbox").iterdir()
    local = message_id_for("effect-1", "northshire-trust.example", SECRET).strip("<>").split("@")[0]
    assert re.fullmatch(rf"20261124T101530Z-{local[:24]}-[0-9a-f]{{16}}\.eml", written.name)
    mail = parse_message(written.read_bytes())
    assert mail.message_id == message["Message-ID"]
    assert mail.subject == "We have received your complaint (NHT-2026-0042)"
    assert mail.to == ("margaret.ellison@example.org",)
    assert "Our reference: NHT-2026-0042" in mail.text


async def test_a_repeated_message_id_writes_nothing_new(tmp_path: Path) -> None:
    outbox = FileOutbox(tmp_path)
    await outbox.send(letter_message())
    (first,) = tmp_path.iterdir()
    original = first.read_bytes()
    await outbox.send(letter_message(template="delay"))  # same key, so same Message-ID
    assert list(tmp_path.iterdir()) == [first]
    assert first.read_bytes() == original
    await outbox.send(letter_message(key="effect-2"))
    assert len(list(tmp_path.iterdir())) == 2


async def test_concurrent_repeats_still_write_one_file(tmp_path: Path) -> None:
    outbox = FileOutbox(tmp_path)
    await asyncio.gather(*(outbox.send(letter_message()) for _ in range(5)))
    assert len(list(tmp_path.iterdir())) == 1


async def test_message_without_message_id_is_refused(tmp_path: Path) -> None:
    message = letter_message()
    del message["Message-ID"]
    with pytest.raises(OutboxError) as caught:
        await FileOutbox(tmp_path).send(message)
    assert isinstance(caught.value, MailError)
    assert list(tmp_path.iterdir()) == []


async def test_hostile_message_id_stays_inside_the_outbox(tmp_path: Path) -> None:
    outbox_dir = tmp_path / "deep" / "outbox"
    message = EmailMessage()
    message["Message-ID"] = "<../../../etc/passwd@evil.example>"
    message["Subject"] = "x"
    message.set_content("x")
    await FileOutbox(outbox_dir).send(message)
    (written,) = outbox_dir.iterdir()
    assert re.fullmatch(r"\d{8}T\d{6}Z-etc-passwd-[0-9a-f]{16}\.eml", written.name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep"]


async def test_distinct_ids_with_the_same_readable_part_do_not_collide(tmp_path: Path) -> None:
    outbox = FileOutbox(tmp_path)
    for domain in ("a.example", "b.example"):
        message = EmailMessage()
        message["Message-ID"] = f"<same@{domain}>"
        message["Date"] = SENT
        message.set_content("x")
        await outbox.send(message)
    assert len(list(tmp_path.iterdir())) == 2
