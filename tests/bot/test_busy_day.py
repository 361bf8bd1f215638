"""A busy day must not hold up the chat: the runner hands the event loop back between effects, and
the sweep takes the case service's lock one case at a time, so a handler's answer is recorded
while thousands of reminders are still being written and sent (bench/bench_busy_day.py measures
it at 10,000 open cases)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.config import Config
from bot.intake import Intake
from bot.runner import EffectRunner
from bot.service import CaseService
from bot.sweep import Sweep
from flows import commands as c
from flows.decide import Decision
from flows.model import Actor
from mail.maildir import MaildirInbox
from store.store import Store
from tests.bot.fakes import RecordingChat, RecordingMailer
from tests.bot.support import NOW, SECRET, deliver_samples, opened

WAIT = 10.0  # only ever reached when the behaviour is broken


async def test_the_loop_runs_between_the_runners_effects(
    config: Config, service: CaseService, intake: Intake, inbox: MaildirInbox
) -> None:
    """With a mailer and a chat that never suspend, a coroutine waiting on the loop (a handler's
    answer arriving) still runs while the effects are being carried out, not only after them."""
    chat, mailer = RecordingChat(), RecordingMailer()
    runner = EffectRunner(config, service, mailer, chat, SECRET)
    deliver_samples(inbox)
    opened(intake.poll(NOW))
    seen: list[int] = []  # how many effects were done each time the loop came back to us

    running = asyncio.ensure_future(runner.run_due(NOW))
    while not running.done():
        await asyncio.sleep(0)
        seen.append(len(chat.said) + len(mailer.sent))

    assert running.result() == 6
    assert any(0 < done < 6 for done in seen), seen


class PausingService(CaseService):
    """The real service, which stops the sweep once its first case's reminders are written (its
    lock released, as between any two cases) until the test lets it go on."""

    def __init__(self, store: Store, order: list[str]) -> None:
        super().__init__(store)
        self.order = order
        self.paused = threading.Event()
        self.go_on = threading.Event()

    def execute(self, ref: str, command: c.Command, now: datetime, keys: Iterable[str] = ()) -> Decision:
        decision = super().execute(ref, command, now, keys)
        if isinstance(command, c.SendReminders) and not self.paused.is_set():
            self.paused.set()
            self.go_on.wait(WAIT)
            self.order.append("sweep went on")
        return decision


async def test_an_answer_is_recorded_while_the_sweep_is_between_cases(
    config: Config, store: Store, inbox: MaildirInbox, handler: Actor
) -> None:
    order: list[str] = []
    service = PausingService(store, order)
    deliver_samples(inbox)
    refs = opened(Intake(config, service, inbox, SECRET).poll(NOW))
    sweeping = asyncio.ensure_future(asyncio.to_thread(Sweep(config, service).run, NOW + timedelta(days=5)))
    assert await asyncio.to_thread(service.paused.wait, WAIT)

    answer = c.SetUpdateFrequency(actor=handler, working_days=5)
    await asyncio.to_thread(service.execute, refs[-1], answer, NOW, ["answer:1"])
    order.append("answer recorded")
    service.go_on.set()

    assert await sweeping == 3
    assert order == ["answer recorded", "sweep went on"]
    assert service.load(refs[-1]).update_every == 5
