"""Sender authentication through the intake: with `[mailbox] trusted_authserv_ids` set, a known
address naming its case only in the subject threads only if our mail server authenticated it."""

from __future__ import annotations

import pytest

from bot.config import Config
from bot.intake import Intake
from bot.runner import EffectRunner
from bot.service import CaseService
from flows.model import Sender
from mail.maildir import MaildirInbox
from tests.bot.support import SECRET, complaint
from tests.bot.test_threading import PAT, first_case, take

OURS = "mx.northshire-trust.example"
ASHA = "Asha Patel <asha.patel@northshire-trust.example>"


def exchange(verdict: str, domain: str) -> str:
    """Exchange Online's header (NHSmail's too): no authserv-id, comments between the results."""
    return (
        f"Authentication-Results: spf={verdict} (sender IP is 203.0.113.25)\r\n smtp.mailfrom={domain};"
        f" dkim=none (message not signed) header.d=none;dmarc={verdict} action=none\r\n"
        f" header.from={domain};compauth={verdict} reason=100"
    )


def postfix(results: str) -> str:
    return f"Authentication-Results: {OURS};\r\n\t{results}"


def checking(config: Config, service: CaseService, inbox: MaildirInbox, *trusted: str) -> Intake:
    """The intake of a service that trusts these receiving servers' headers."""
    mailbox = config.mailbox.model_copy(update={"trusted_authserv_ids": trusted})
    return Intake(config.model_copy(update={"mailbox": mailbox}), service, inbox, SECRET)


RELAY = "Authentication-Results: mail.attacker.example; spf=pass smtp.mailfrom=attacker.example"
EXCHANGE_ONLINE = ("", PAT, exchange("pass", "example.org"), exchange("fail", "example.org"))
POSTFIX = (
    OURS,
    ASHA,
    postfix("dkim=pass (2048-bit key) header.d=northshire-trust.example header.b=Qx3kP1aB"),
    postfix("spf=softfail smtp.mailfrom=northshire-trust.example"),
)
FORGED_BELOW = {  # a pass the sender wrote, under what our server wrote
    "": exchange("pass", "example.org"),
    OURS: f"{RELAY}\r\n{postfix('dmarc=pass header.from=northshire-trust.example')}",
}


@pytest.mark.parametrize(("server", "sender", "passing", "failing"), [EXCHANGE_ONLINE, POSTFIX])
async def test_a_known_address_threads_by_subject_only_when_our_server_authenticated_it(
    config: Config,
    intake: Intake,
    inbox: MaildirInbox,
    runner: EffectRunner,
    service: CaseService,
    server: str,
    sender: str,
    passing: str,
    failing: str,
) -> None:
    ref, _ = await first_case(intake, inbox, runner)
    strict = checking(config, service, inbox, server)

    genuine = complaint("<g1@a.example>", "Update", f"Re: {ref}", sender, (passing,))
    outcome = take(strict, inbox, genuine, 5)
    who = Sender.COMPLAINANT if sender == PAT else Sender.CONTRIBUTOR
    assert (outcome.outcome, outcome.ref, outcome.detail) == ("threaded", ref, who.value)

    for n, headers in enumerate([(failing,), (), (failing, FORGED_BELOW[server])]):
        forged = complaint(f"<f{n}@a.example>", "Forged", f"Re: {ref}", sender, headers)
        outcome = take(strict, inbox, forged, 6 + n)
        assert outcome.outcome == "new" and "did not authenticate" in outcome.detail
        assert service.load(outcome.ref or "").related == (ref,)
    assert [m.text for m in service.load(ref).messages] == ["Update"]


async def test_a_reply_to_our_letter_threads_without_any_authentication(
    config: Config, intake: Intake, inbox: MaildirInbox, runner: EffectRunner, service: CaseService
) -> None:
    ref, acknowledgement = await first_case(intake, inbox, runner)
    reply = complaint("<r1@a.example>", "Thanks", "Re: received", PAT, (f"In-Reply-To: {acknowledgement}",))
    assert take(checking(config, service, inbox, OURS), inbox, reply, 5).ref == ref


async def test_without_trusted_servers_the_from_address_is_believed_as_before(
    intake: Intake, inbox: MaildirInbox, runner: EffectRunner
) -> None:
    ref, _ = await first_case(intake, inbox, runner)
    failing = exchange("fail", "example.org")
    outcome = take(intake, inbox, complaint("<u1@a.example>", "Hi", f"Re: {ref}", PAT, (failing,)), 5)
    assert (outcome.outcome, outcome.ref) == ("threaded", ref)
