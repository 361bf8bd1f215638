"""The questions waiting for someone across the open cases, most urgent first: what the terminal
lists, a chat's "mine" command answers and a typed sentence without a reference is matched to."""

from __future__ import annotations

from datetime import datetime

from bot.service import CaseService
from flows.conversation import Prompt
from flows.model import Actor
from flows.urgency import Waiting, most_urgent_first


def waiting(service: CaseService, actor: Actor, now: datetime) -> list[tuple[str, Prompt]]:
    """Every question for `actor` on the open cases, most urgent first (`flows.urgency`)."""
    return [(item.ref, item.prompt) for item in ranked(service, actor, now)]


def ranked(service: CaseService, actor: Actor, now: datetime) -> list[Waiting]:
    """`waiting`, with what makes each question urgent."""
    refs = [c.ref for c in service.store.open_cases()]
    return most_urgent_first((service.load(ref) for ref in refs), actor, now)
