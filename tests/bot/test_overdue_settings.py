"""The settings behind "overdue has an end": `[clocks] overdue_reminders` reaches the sweep's policy,
an organisation's `escalation_email` reaches the case, and the runner copies it on the letter."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.config import Config
from bot.directory import org_ref
from bot.runner import EffectRunner
from bot.sweep import policy
from flows.effects import Recipient, RecipientKind, SendLetter
from mail.smtp import SmtpMailer
from tests.bot.support import NOW
from tests.bot.test_config import MINIMAL, edit, load, problems
from tests.mail.test_smtp import outbox

if TYPE_CHECKING:  # imported at run time by pytest_plugins only, so pytest can rewrite its asserts
    from tests.servers.smtp import SmtpServer

pytest_plugins = ["tests.servers.smtp"]

ESCALATION = "head.of.complaints@council.example"


def test_overdue_reminders_defaults_to_3_and_reaches_the_sweep(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL)

    assert config.clocks.overdue_reminders == 3
    assert policy(config).overdue_reminders == 3


def test_overdue_reminders_may_be_set(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL + "\n[clocks]\noverdue_reminders = 5\n")

    assert policy(config).overdue_reminders == 5


@pytest.mark.parametrize("bad", ["-1", '"3"', "2.5", "true"])
def test_a_bad_overdue_reminders_is_named_at_its_key(tmp_path: Path, bad: str) -> None:
    found = problems(tmp_path, MINIMAL + f"\n[clocks]\noverdue_reminders = {bad}\n")

    assert list(found) == ["clocks.overdue_reminders"]


def test_an_escalation_email_reaches_the_case(tmp_path: Path) -> None:
    text = edit(
        'complaints_phone = "01632 960 002"',
        f'complaints_phone = "01632 960 002"\nescalation_email = "{ESCALATION}"',
    )
    config = load(tmp_path, text)

    assert org_ref(config, "council").escalation_email == ESCALATION
    assert org_ref(config, "trust").escalation_email == ""


def test_a_bad_escalation_email_is_named_at_its_key(tmp_path: Path) -> None:
    text = edit(
        'complaints_phone = "01632 960 002"', 'complaints_phone = "01632 960 002"\nescalation_email = "head"'
    )

    assert problems(tmp_path, text) == {
        "organisations[1].escalation_email": "must be an email address (got 'head')"
    }


async def test_the_letter_copies_the_escalation_contact_and_is_sent_to_both(
    runner: EffectRunner, config: Config, smtp_server: SmtpServer
) -> None:
    council = org_ref(config, "northshire-council")
    effect = SendLetter(
        key="JC-2026-0001/40/reminder_overdue/comments/northshire-council/2026-12-01/northshire-council",
        ref="JC-2026-0001",
        discloses_to=council.id,
        template="reminder_overdue",
        to=Recipient(RecipientKind.ORGANISATION, council.email, council.name, council.id, cc=ESCALATION),
        context={
            "ref": "JC-2026-0001",
            "to_org_name": council.name,
            "org_name": config.home.name,
            "about": "comments on the draft joint response",
            "due": "Tuesday 1 December 2026",
            "overdue": 11,
            "weekly": True,
            "copied_to": ESCALATION,
        },
    )

    await SmtpMailer(outbox(smtp_server.port), None).send(runner.letter(effect, NOW))

    [received] = smtp_server.received
    assert received.rcpt_tos == (council.email, ESCALATION)
    assert received.message()["Cc"] == ESCALATION
