"""The allowed moves are data: the diagram in the docstring is the mapping, and every command has one."""

from __future__ import annotations

import dataclasses
import re

import pytest

from flows import commands as c
from flows import moves
from flows.codec import COMMAND_TYPES
from flows.decide import RULES
from flows.errors import NotAllowedNow
from flows.model import OPEN_STATUSES, Status
from flows.moves import ALLOWED, EDGES, check_allowed, mermaid
from tests.flows.builders import H


def documented_diagram() -> str:
    match = re.search(r"```mermaid\n(.*?)\n```", moves.__doc__ or "", re.DOTALL)
    assert match, "flows/moves.py's docstring has no mermaid block"
    return match.group(1)


def test_the_docstring_diagram_is_the_rendered_mapping() -> None:
    assert mermaid() == documented_diagram()


def command_classes() -> set[type[c.Command]]:
    return {
        obj
        for obj in vars(c).values()
        if isinstance(obj, type) and issubclass(obj, c.Command) and dataclasses.is_dataclass(obj)
    } - {c.Command}


def test_every_command_but_receipt_has_its_allowed_statuses_and_a_rule() -> None:
    commands = command_classes()
    assert commands - {c.ReceiveComplaint} == set(ALLOWED)
    assert commands == set(RULES) == set(COMMAND_TYPES.values()) - {c.Command}
    assert all(ALLOWED[cls] for cls in ALLOWED), "a command allowed in no status can never run"


def test_a_closed_case_only_records_what_became_of_letters_mail_and_the_record_kept() -> None:
    after_closing = {cls for cls, statuses in ALLOWED.items() if Status.CLOSED in statuses}
    assert after_closing == {
        c.RecordLetterSent, c.RecordLetterFailed, c.RecordLetterRead, c.ReceiveMessage, c.MarkMessageRead,
        c.RecordLetterInDoubt, c.ResendLetter, c.ConfirmLetterSent,  # a letter in doubt is settled
        c.CodeCase, c.RecordOmbudsmanReferral,  # the coding corrected, an Ombudsman referral later
        c.DestroyRecord,  # at retention review
    }  # fmt: skip


def test_edges_join_known_statuses_and_every_open_status_can_close() -> None:
    assert all(a is not b for a, b in EDGES)
    assert {(s, Status.CLOSED) for s in OPEN_STATUSES} <= EDGES
    assert not [a for a, _ in EDGES if a is Status.CLOSED]
    reached = {Status.RECEIVED} | {b for _, b in EDGES}
    assert reached == set(Status)


@pytest.mark.parametrize("status", sorted(set(Status) - ALLOWED[c.SetNamedContact]))
def test_a_refused_move_says_what_was_attempted_from_which_status(status: Status) -> None:
    command = c.SetNamedContact(actor=H, name="Alex", email="alex@example.org")
    with pytest.raises(NotAllowedNow) as caught:
        check_allowed(command, status)
    assert caught.value.message == (
        f"cannot set named contact while the case is {status.value.replace('_', ' ')}"
    )
    assert caught.value.context == {"command": "SetNamedContact", "status": status}


@pytest.mark.parametrize("status", sorted(ALLOWED[c.SetNamedContact]))
def test_an_allowed_move_passes_the_check(status: Status) -> None:
    check_allowed(c.SetNamedContact(actor=H, name="Alex", email="alex@example.org"), status)
