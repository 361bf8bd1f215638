"""The daily cap on automatic letters to one sender is counted in the very write of the case whose
acknowledgement it allows, so a crash keeps both or neither and can never pass the cap."""

from __future__ import annotations

from datetime import timedelta

from bot.config import Config
from bot.intake import Intake, automatic_letter_key
from flows.calendar import london_date
from mail.maildir import MaildirInbox
from store.store import Store
from tests.bot.support import NOW, RECEIVED, complaint, opened

PAT = "pat@example.org"


def test_each_automatic_letter_is_counted_by_the_write_of_the_case_that_queues_it(
    intake: Intake, inbox: MaildirInbox, store: Store, config: Config
) -> None:
    limit = config.service.automatic_letters_per_sender_per_day
    for n in range(limit + 1):
        inbox.deliver(
            complaint(f"<loop-{n}@example.org>", sender=f"Pat <{PAT}>"), RECEIVED + timedelta(minutes=n)
        )

    refs = opened(intake.poll(NOW))

    queued = [ref for ref in refs if any(e["type"] == "LetterQueued" for e in store.load(ref).events)]
    assert queued == refs[:limit]
    counted_by = [store.stream_for_key(automatic_letter_key(PAT, london_date(NOW), n)) for n in range(limit)]
    assert counted_by == queued  # one key each, consumed in its case's own write
    assert store.get_cursor("automatic-letters") is None  # no counter written on its own
