"""The Teams app's handlers: card actions (`adaptiveCard/action` invokes), typed sentences and
commands, and installations, turned into commands for the case service.

Nothing in an activity is trusted beyond what the SDK checked (that Teams signed it). A card action
names only a case, a question and a choice: `bot.chat.answers.choose` works out the questions
waiting for *this* person on the case *now*, so a stale card, another organisation's handler or
someone not in the directory gets a polite answer and nothing is recorded. An invoke is answered
with a card (in place of the one pressed, for the person who pressed) or a short message; a card
whose question is answered is replaced for everyone. What only the person may see (the case in
full, one email, the case's menu, help) goes to their personal chat with the app, never the channel.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from microsoft_teams.api.activities.install_update import InstalledActivity
from microsoft_teams.api.activities.invoke.adaptive_card import AdaptiveCardInvokeActivity
from microsoft_teams.api.activities.message import MessageActivity, MessageActivityInput

from bot.chat.answers import (
    NOT_HOLDER,
    NOT_UNDERSTOOD,
    Found,
    case_meant,
    choose,
    failure,
    in_full,
    may_read,
    not_in_directory,
    one_email,
    pack,
    typed,
    unpack,
    words,
)
from bot.chat.commands import ALREADY_LOGGED, NEW, find_cases, new_prompt, oral_complaint
from bot.chat.refs import ButtonRef, ReadRef, status_words
from bot.chat.sentences import org_names, understand
from bot.chat.threads import CaseThreads, Clock, Unreachable
from bot.chat.waiting import waiting
from bot.config import Config
from bot.directory import actor
from bot.service import CaseService
from bot.teams.cards import (
    Card,
    Verb,
    confirm_card,
    done_card,
    form_card,
    form_values,
    full_cards,
    help_card,
    prompt_card,
    text_of,
)
from bot.teams.surface import TeamsSurface, message
from bot.threads import MENTIONED, digest
from flows.calendar import london_date
from flows.conversation import fill
from flows.errors import DomainError, UnknownCase
from flows.model import Actor, Case, Role
from flows.prompts import case_menu, next_prompts
from store.errors import DuplicateKey

log = logging.getLogger("jointly.teams")
NOT_IN_DIRECTORY = not_in_directory("Teams")
USAGE = (
    "Write to me: `new` logs a complaint made by phone or in person, `find <reference or name>` finds "
    "a case, `mine` lists what waits for you, `help` shows this. In a case's thread, write what "
    'happened ("consent given by phone today") and I will offer to record it.'
)


def said(text: str) -> dict[str, Any]:
    """An invoke's answer shown to the person who pressed: a short message."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}


def shown(card: Card) -> dict[str, Any]:
    """An invoke's answer: `card` in place of the one pressed, for the person who pressed."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive", "value": card}


def plain(text: str) -> str:
    """Typed text without Teams' mention markup (`<at>Jointly</at>`) or the HTML it may wrap."""
    return re.sub(r"<at>.*?</at>|<[^>]+>", " ", text).replace("&nbsp;", " ").strip()


class TeamsHandlers:
    def __init__(
        self,
        config: Config,
        service: CaseService,
        threads: CaseThreads,
        surface: TeamsSurface,
        clock: Clock,
    ) -> None:
        self.config = config
        self.service = service
        self.threads = threads
        self.surface = surface
        self.clock = clock
        self.orgs = org_names(config)
        self.choices = [(o.id, o.name) for o in config.organisations]

    # --- card actions ---------------------------------------------------------------------------

    async def action(self, ctx: Any) -> dict[str, Any]:
        activity: AdaptiveCardInvokeActivity = ctx.activity
        who = self._actor(activity.from_.aad_object_id)
        act = activity.value.action
        data = act.data if isinstance(act.data, dict) else {}
        where = [activity.conversation.id, activity.reply_to_id or ""]
        if who is None:
            return said(NOT_IN_DIRECTORY)
        try:
            return await self._act(str(act.verb or ""), data, who, where)
        except DuplicateKey:
            return said("That answer is already recorded.")
        except Exception as error:
            return said(failure(error, "teams"))

    async def _act(self, verb: str, data: dict[str, Any], who: Actor, where: list[str]) -> dict[str, Any]:
        if verb == Verb.CHOICE:
            found = await self._find(who, data.get("button"))
            if isinstance(found, str):
                return said(found)
            if found.choice.fields:  # a form not shown in the shared card: for this person only
                return shown(self._form(found))
            return await self._record(who, found, found.choice.command, where)
        if verb == Verb.FORM:
            return await self._form_sent(who, data, where)
        if verb == Verb.CONFIRM:
            return await self._confirm(who, data, where)
        if verb == Verb.DISMISS:
            return shown(done_card("Nothing was recorded. Write help to see the choices."))
        if verb in (Verb.DETAILS, Verb.READ):
            return await self._read(who, verb, data)
        if verb == Verb.MENU:
            return await self._menu(who, str(data.get("ref", "")))
        return said(NOT_UNDERSTOOD)

    async def _form_sent(self, who: Actor, data: dict[str, Any], where: list[str]) -> dict[str, Any]:
        try:
            button = ButtonRef.decode(data.get("button"))  # type: ignore[arg-type]
        except ValueError:
            return said(NOT_UNDERSTOOD)
        if button.ref == NEW and button.prompt_id == "new":
            return await self._new_complaint(who, data, where)
        found = await self._find(who, button.encode())
        if isinstance(found, str):
            return said(found)
        fields = found.choice.fields
        values, errors = form_values(fields, data)
        if not errors:
            try:
                command = fill(found.choice, typed(self.config, fields, values))
                return await self._record(who, found, command, where)
            except (DomainError, ValueError) as error:
                errors = {fields[0].name: words(error)}
        return shown(self._form(found, values, errors))

    async def _confirm(self, who: Actor, data: dict[str, Any], where: list[str]) -> dict[str, Any]:
        try:
            button, values, missing = unpack(data.get("packed"))
        except ValueError as error:
            return said(str(error))
        found = await self._find(who, button)
        if isinstance(found, str):
            return said(found)
        fields = found.choice.fields
        if missing:  # the sentence did not say everything: the form asks the rest
            filled = tuple(replace(f, default=values.get(f.name, f.default)) for f in fields)
            return shown(self._form(replace(found, choice=replace(found.choice, fields=filled))))
        try:
            command = fill(found.choice, typed(self.config, fields, values))
        except ValueError as error:
            return said(f"Not recorded: {error}")
        return await self._record(who, found, command, where)

    async def _record(self, who: Actor, found: Found, command: Any, where: list[str]) -> dict[str, Any]:
        try:
            await asyncio.to_thread(self.service.execute, found.case.ref, command, self.clock(), [found.key])
        except DomainError as error:
            return said(f"Not recorded: {words(error)}")
        name = self._name(who)
        done = f"{text_of(found.case.ref, found.prompt)}\n{found.choice.label}, recorded by {name}"
        if where[1]:
            await self.threads.answered(found.case.ref, where, done)
        await self.threads.sync(found.case.ref)
        return shown(done_card(done))

    async def _new_complaint(self, who: Actor, data: dict[str, Any], where: list[str]) -> dict[str, Any]:
        if Role.HANDLER not in who.roles:
            return said("Only a complaint handler can log a complaint.")
        values, errors = form_values(new_prompt(who).choices[0].fields, data)
        if errors:
            return shown(self._new_form(who, values, errors))
        now = self.clock()
        key = "teams-new:" + digest(json.dumps([who.id, where[1], values], sort_keys=True).encode())
        ref = self.service.new_ref(now, key)
        try:
            command = oral_complaint(self.config, who, values, now)
            await asyncio.to_thread(self.service.execute, ref, command, now, [key])
        except DuplicateKey:  # the same form sent twice: logged once, by the first
            return shown(done_card(ALREADY_LOGGED))
        except DomainError as error:
            return shown(self._new_form(who, values, {"text": words(error)}))
        await self.threads.sync(ref)
        return shown(done_card(f"Logged as {ref}. Its thread is in the complaints channel."))

    async def _read(self, who: Actor, verb: str, data: dict[str, Any]) -> dict[str, Any]:
        """The case in full, or one email on it, to a handler of the organisation holding it, in
        their personal chat (never where others see it)."""
        if not may_read(self.config, who):
            return said(NOT_HOLDER)
        try:
            button = ReadRef.decode(data.get("read")) if verb == Verb.READ else None  # type: ignore[arg-type]
        except ValueError:
            return said(NOT_UNDERSTOOD)
        ref = button.ref if button else str(data.get("ref", ""))
        case = await self._load(ref)
        if case is None:
            return said(f"There is no case {ref or 'by that reference'}.")
        if button is None:
            title, lines = in_full(case, london_date(self.clock()))
        else:
            found = one_email(case, button.message)
            if isinstance(found, str):
                return said(found)
            _, title, lines = found
        log.info("%s %s shown to %s", ref, title.split(": ", 1)[1], who.id, extra={"ref": ref})
        return await self._privately(who, [message(title, card) for card in full_cards(lines)])

    async def _menu(self, who: Actor, ref: str) -> dict[str, Any]:
        case = await self._load(ref)
        if case is None:
            return said(f"There is no case {ref or 'by that reference'}.")
        menu = case_menu(case, who, self.clock())
        if not menu:
            return said(f"Only the handlers coordinating {case.ref} can act on it from here.")
        card = prompt_card(case.ref, case.version, menu[0])
        return await self._privately(who, [message(text_of(case.ref, menu[0]), card)])

    async def _privately(self, who: Actor, messages: Sequence[MessageActivityInput]) -> dict[str, Any]:
        person = self.config.person(who.id)
        try:
            for each in messages:
                await self.surface.send_to(person, each)
        except Unreachable as error:
            return said(f"I cannot write to you personally in Teams ({error}); add the app for yourself.")
        return said("Sent to your personal chat with me.")

    # --- typed sentences and commands -----------------------------------------------------------

    async def message(self, ctx: Any) -> None:
        activity: MessageActivity = ctx.activity
        conversation = activity.conversation.id
        personal = conversation.startswith("a:") or activity.conversation.conversation_type == "personal"
        _, _, root = conversation.partition(";messageid=")
        ref = self.threads.case_for_thread(root) if root else None
        if ref is None and not personal:
            return  # a channel post, or a thread that is no case's
        who = self._actor(activity.from_.aad_object_id)
        if who is None:
            await ctx.send(NOT_IN_DIRECTORY)
            return
        text = plain(activity.text or "")
        if personal and await self._command(ctx, who, text):
            return
        meant = await asyncio.to_thread(case_meant, self.service, who, text, ref, self.clock())
        if isinstance(meant, str):
            await ctx.send(meant)
            return
        await ctx.send(self._suggestion(who, meant, MENTIONED.sub(" ", text)))

    async def _command(self, ctx: Any, who: Actor, text: str) -> bool:
        """`new`, `find`, `mine`, `help`: True when `text` was one."""
        verb, _, rest = text.partition(" ")
        verb = verb.casefold()
        if verb == "help" and not rest:
            await ctx.send(USAGE)
        elif verb == "new" and not rest:
            if Role.HANDLER not in who.roles:
                await ctx.send("Only a complaint handler can log a complaint.")
            else:
                await ctx.send(message("A complaint made by phone or in person", self._new_form(who)))
        elif verb == "find" and rest.strip():
            await ctx.send(await asyncio.to_thread(self._found, who, rest.strip()))
        elif verb == "mine" and not rest:
            await ctx.send(await asyncio.to_thread(self._mine, who))
        else:
            return False
        return True

    def _suggestion(self, who: Actor, case: Case, text: str) -> MessageActivityInput:
        """'Did you mean ...?' with Yes and No, or the choices waiting when the sentence fits none."""
        now = self.clock()
        prompts = next_prompts(case, who, now)
        suggestion = understand(text, prompts, self.orgs, london_date(now))
        if suggestion is None:
            card = help_card(case.ref, prompts, version=case.version)
            return message(f"Here is what I can do on {case.ref} now.", card)
        card = confirm_card(case.ref, suggestion.wording, pack(case, suggestion))
        return message(f"Did you mean: {suggestion.wording}?", card)

    def _found(self, who: Actor, needle: str) -> str:
        hits = find_cases(self.config, self.service, who, needle)
        return "\n\n".join(self._line(ref) for ref in hits) or f"No case matches '{needle}'."

    def _mine(self, who: Actor) -> str:
        tasks = waiting(self.service, who, self.clock())[:30]
        return "\n\n".join(self._line(ref, prompt.question) for ref, prompt in tasks) or (
            "Nothing is waiting for you."
        )

    def _line(self, ref: str, what: str = "") -> str:
        summary = self.service.store.summary(ref)
        link = self.threads.link(ref)
        name = f"[{ref}]({link})" if link else ref
        return f"{name}: {what or status_words(summary.summary['status'] if summary else '')}"

    # --- installations --------------------------------------------------------------------------

    async def installed(self, ctx: Any) -> None:
        """The app added for a person: their personal chat is remembered, and the questions that
        could not be put to them are asked now."""
        activity: InstalledActivity = ctx.activity
        person = self.config.person_by_teams(activity.from_.aad_object_id or "")
        if person is None or not activity.conversation.id.startswith("a:"):
            return
        self.service.store.set_cursor(f"teams-chat.{person.id}", {"id": activity.conversation.id})
        asked = await self.threads.reachable(person.id)
        log.info("teams: %s added the app; questions asked on %d case(s)", person.id, asked)

    # --- helpers --------------------------------------------------------------------------------

    def _actor(self, object_id: str | None) -> Actor | None:
        person = self.config.person_by_teams(object_id or "")
        return actor(person) if person else None

    def _name(self, who: Actor) -> str:
        return self.config.person(who.id).name

    async def _load(self, ref: str) -> Case | None:
        try:
            return await asyncio.to_thread(self.service.load, ref)
        except UnknownCase:
            return None

    async def _find(self, who: Actor, value: object) -> Found | str:
        """The choice a card's button means for this person now, or why not."""
        try:
            button = ButtonRef.decode(value)  # type: ignore[arg-type]
        except ValueError:
            return NOT_UNDERSTOOD
        case = await self._load(button.ref)
        if case is None:
            return f"There is no case {button.ref}."
        return choose(case, who, button, self.clock())

    def _form(self, found: Found, values: Any = None, errors: Any = None) -> Card:
        case, prompt = found.case, replace(found.prompt, choices=tuple(
            found.choice if i == found.button.choice else c for i, c in enumerate(found.prompt.choices)
        ))  # fmt: skip
        return form_card(case.ref, case.version, prompt, found.button.choice, self.choices, values, errors)

    def _new_form(self, who: Actor, values: Any = None, errors: Any = None) -> Card:
        """The form for a complaint made by phone or in person (refused answers under their fields)."""
        return form_card(NEW, 0, new_prompt(who), 0, [], values, errors)
