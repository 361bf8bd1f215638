"""A letter that may or may not have gone, or that could not go: recorded as such, and settled by
a handler.

The effect runner records a letter as sent as soon as the mail server accepts it. If it stops
between handing the letter over and recording that (killed, or the connection lost while the
server was answering), nobody knows whether the letter went: it is *in doubt*, and sending it again
blindly could give the person the same letter twice. Where a sent folder can tell, the runner
records the truth itself; otherwise it records the letter in doubt here, the handlers are told, and
the coordinating handler is asked (`flows.asks_messages.letters_in_doubt`) to have it sent
again or to record it as sent. Until then the letter waits: never dropped, never re-sent unasked.

A letter the mail server refused for good, or that bounced, is recorded as failed and the
handlers are told; the coordinating handler is asked (`flows.asks_messages.letters_failed`) to
send it again once the fault is put right, or to record that it went another way (post, by hand).
"""

from __future__ import annotations

from datetime import datetime

from flows import commands as c
from flows import events as ev
from flows.calendar import LONDON
from flows.effects import SendLetterAgain
from flows.errors import Forbidden, InvalidCommand
from flows.model import Case, Letter, Role
from flows.rules import Out, Rule, long_date, require_coordinator


def in_doubt(case: Case, cmd: c.RecordLetterInDoubt, now: datetime) -> Out:
    if Role.SYSTEM not in cmd.actor.roles:
        raise Forbidden("only the assistant records what became of a letter", actor=cmd.actor.id)
    if cmd.key not in case.letters:
        raise InvalidCommand(f"no letter {cmd.key} on this case", key=cmd.key)
    out = Out(case, cmd.actor.id, now)
    out.event(ev.LetterInDoubt, key=cmd.key, message_id=cmd.message_id, since=cmd.since)
    letter, to, at = doubt_words(case, case.letters[cmd.key], cmd.since)
    return out.notify("letter_in_doubt", letter=letter, to=to, at=at)


def resend(case: Case, cmd: c.ResendLetter, now: datetime) -> Out:
    """Send it again, as it was: the same Message-ID, so a mail program may spot a second copy."""
    letter = _doubted(case, cmd)
    out = Out(case, cmd.actor.id, now).event(ev.LetterRequeued, key=letter.key)
    again = SendLetterAgain(
        key=out.key("resend-" + letter.template, letter.to),
        ref=case.ref,
        discloses_to=letter.to if letter.to in case.orgs else None,  # consent is checked again
        letter=letter.key,
        template=letter.template,
    )
    out.effects.append(again)
    return out


def confirm_sent(case: Case, cmd: c.ConfirmLetterSent, now: datetime) -> Out:
    letter = _doubted(case, cmd)
    return Out(case, cmd.actor.id, now).event(ev.LetterSent, key=letter.key, message_id=letter.message_id)


def _doubted(case: Case, cmd: c.ResendLetter | c.ConfirmLetterSent) -> Letter:
    """The letter in doubt or failed that the handler answers about."""
    require_coordinator(case, cmd.actor)
    letter = case.letters.get(cmd.key)
    if letter is None or (letter.in_doubt is None and not letter.failed):
        raise InvalidCommand("this letter is not waiting for an answer about whether it went", key=cmd.key)
    return letter


def doubt_words(case: Case, letter: Letter, since: datetime) -> tuple[str, str, str]:
    """The letter, its recipient and the time sending began, as chat says them (no names)."""
    local = since.astimezone(LONDON)
    return *letter_words(case, letter), f"{local:%H:%M} on {long_date(local.date())}"


def letter_words(case: Case, letter: Letter) -> tuple[str, str]:
    """The letter and its recipient, as chat says them (no names)."""
    to = case.orgs[letter.to].name if letter.to in case.orgs else f"the {letter.to}"
    return letter.template.replace("_", " "), to


LETTER_RULES: dict[type[c.Command], Rule] = {
    c.RecordLetterInDoubt: in_doubt,
    c.ResendLetter: resend,
    c.ConfirmLetterSent: confirm_sent,
}
