"""The Slack app: slack-bolt listeners that turn button presses, forms and sentences into commands
for the case service (`/complaint` and the Home tab are in `bot.slack.commands`).

Nothing in a Slack payload is trusted. A button names only a case, a question and a choice: the
listener works out the questions waiting for *this* person on the case *now* and takes the command
from there, so a stale button, another organisation's handler or someone not in the directory gets
a polite explanation and nothing is recorded. `flows.decide` then checks everything again.

Every listener acknowledges first (Slack wants it within 3 seconds) except form submissions, which
are judged before their ack so that a refusal can be shown in the form itself. A recorded answer
consumes a key naming the case version, question and choice, so a double click or a retried
request records once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.answers import (
    NOT_HOLDER,
    NOT_UNDERSTOOD,
    Found,
    case_meant,
    choose,
    failure,
    in_full,
    may_read,
    one_email,
    pack,
    typed,
    unpack,
    words,
)
from bot.chat.refs import ButtonRef, ReadRef
from bot.chat.sentences import org_names, understand
from bot.chat.threads import CaseThreads, Clock
from bot.config import Config
from bot.service import CaseService
from bot.slack.blocks import (
    CHOICE_ACTION,
    ActionId,
    choice_modal,
    confirm_blocks,
    form_values,
    full_pages,
    help_blocks,
    notice_modal,
    prompt_blocks,
    text_of,
)
from bot.slack.commands import NEW_FORM, NOT_IN_DIRECTORY, Commands, slack_actor
from bot.threads import MENTIONED
from flows import commands as c
from flows.calendar import london_date
from flows.conversation import fill
from flows.errors import DomainError, UnknownCase
from flows.model import Actor, Case
from flows.prompts import case_menu, next_prompts
from flows.sentences import OrgName
from store.errors import DuplicateKey

log = logging.getLogger("jointly.slack")


def build_app(client: AsyncWebClient, signing_secret: str | None) -> AsyncApp:
    """A bolt app; in socket mode there is no signing secret (the socket is authenticated)."""
    return AsyncApp(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=signing_secret is not None,
        process_before_response=False,
    )


def register(app: AsyncApp, handlers: Handlers, commands: Commands) -> None:
    """Attach the listeners; the app itself knows nothing of cases."""
    app.action(CHOICE_ACTION)(handlers.choice)
    app.action(ActionId.CONFIRM.value)(handlers.confirm)
    app.action(ActionId.DISMISS.value)(handlers.dismiss)
    app.action(ActionId.DETAILS.value)(handlers.details)
    app.action(ActionId.READ.value)(handlers.read)
    app.action(ActionId.MENU.value)(handlers.menu)
    app.action(ActionId.OPEN_THREAD.value)(handlers.opened)
    app.view(ActionId.FORM.value)(handlers.form)
    app.view(NEW_FORM)(commands.new_complaint)
    app.event("message")(handlers.message)
    app.event("app_home_opened")(commands.home)
    app.command("/complaint")(commands.command)
    app.error(handlers.error)


class Handlers:
    def __init__(
        self, config: Config, service: CaseService, threads: CaseThreads, client: AsyncWebClient, clock: Clock
    ) -> None:
        self.config = config
        self.service = service
        self.threads = threads
        self.client = client
        self.clock = clock
        self.orgs: Sequence[OrgName] = org_names(config)
        self._seen: dict[str, None] = {}  # recent event ids, oldest first

    # --- buttons and forms ----------------------------------------------------------------------

    async def choice(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        found = await self._find(body, body["actions"][0].get("value", ""))
        if found is None:
            return
        if found.choice.fields:
            await client.views_open(trigger_id=body["trigger_id"], view=self._modal(found))
            return
        await self._record(body, found, found.choice.command)

    async def form(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        found = await self._find(body, view.get("private_metadata", ""), quiet=True)
        if found is None:
            await ack(response_action="update", view=notice_modal("This question has been answered already."))
            return
        values, errors = form_values(found.choice.fields, view["state"]["values"])
        if not errors:
            try:
                command = fill(found.choice, typed(self.config, found.choice.fields, values))
                await self._execute(found, command)
            except DuplicateKey:
                pass  # a second submission of the same answer: it is recorded once
            except (DomainError, ValueError) as error:
                errors = {found.choice.fields[0].name: words(error)}
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        await self.threads.sync(found.case.ref)

    async def confirm(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        """'Yes, record it' under a sentence the assistant understood."""
        await ack()
        try:
            button, values, missing = unpack(body["actions"][0].get("value"))
        except ValueError as error:
            await self._tell(body, str(error))
            return
        found = await self._find(body, button)
        if found is None:
            return
        fields = found.choice.fields
        if missing:  # the sentence did not say everything: the form asks the rest
            filled = tuple(replace(f, default=values.get(f.name, f.default)) for f in fields)
            found = replace(found, choice=replace(found.choice, fields=filled))
            await client.views_open(trigger_id=body["trigger_id"], view=self._modal(found))
            return
        try:
            command = fill(found.choice, typed(self.config, fields, values))
        except ValueError as error:
            await self._tell(body, f"Not recorded: {error}")
            return
        await self._record(body, found, command)

    async def dismiss(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        await self._tell(body, "Nothing was recorded. Type `help` to see the choices.")

    async def opened(self, ack: Any) -> None:
        """A link button (open the thread): Slack opens the link and still tells us; nothing to do."""
        await ack()

    async def details(self, ack: Any, body: dict[str, Any]) -> None:
        """The case in full (`jointly show`'s text), to a handler of the organisation holding it,
        for their eyes only."""
        await ack()
        ref = str(body["actions"][0].get("value", ""))
        who = await self._holder(body)
        case = await self._load(body, ref) if who else None
        if who is None or case is None:
            return
        log.info("%s details shown to %s", ref, who.id, extra={"ref": ref})
        await self._show(body, *in_full(case, london_date(self.clock())))

    async def read(self, ack: Any, body: dict[str, Any]) -> None:
        """One email on the case in full, from "Read it" under the notice of its arrival: to the same
        people as `details`, for their eyes only."""
        await ack()
        try:
            button = ReadRef.decode(body["actions"][0].get("value", ""))
        except ValueError:
            await self._tell(body, "That button was not understood.")
            return
        who = await self._holder(body)
        case = await self._load(body, button.ref) if who else None
        if who is None or case is None:
            return
        found = one_email(case, button.message)
        if isinstance(found, str):
            await self._tell(body, found)
            return
        n, title, lines = found
        log.info("%s email %s shown to %s", case.ref, n, who.id, extra={"ref": case.ref})
        await self._show(body, title, lines)

    async def menu(self, ack: Any, body: dict[str, Any]) -> None:
        """The case's menu (consent for one organisation, a withdrawal, a representative, an
        impasse), for the coordinating handler, as buttons only they see."""
        await ack()
        who = self._actor(body["user"]["id"])
        if who is None:
            await self._tell(body, NOT_IN_DIRECTORY)
            return
        case = await self._load(body, str(body["actions"][0].get("value", "")))
        if case is None:
            return
        menu = case_menu(case, who, self.clock())
        if not menu:
            await self._tell(body, f"Only the handlers coordinating {case.ref} can act on it from here.")
            return
        await self._tell(body, text_of(case.ref, menu[0]), prompt_blocks(case.ref, case.version, menu[0]))

        # --- sentences in a case thread or a direct message ------------------------------------------

    async def message(self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        direct = event.get("channel_type") == "im"
        if event.get("subtype") or event.get("bot_id") or not (direct or event.get("thread_ts")):
            return
        if self._repeat(str(body.get("event_id", ""))):
            return
        ref = None if direct else self.threads.case_for_thread(str(event["thread_ts"]))
        if ref is None and not direct:
            return  # a thread that is no case's
        user = str(event.get("user", ""))
        where = {"channel": event["channel"], "user": user, "thread_ts": event.get("thread_ts")}
        who = self._actor(user)
        if who is None:
            await client.chat_postEphemeral(**where, text=NOT_IN_DIRECTORY)
            return
        text = str(event.get("text", ""))
        meant = await asyncio.to_thread(case_meant, self.service, who, text, ref, self.clock())
        if isinstance(meant, str):
            await client.chat_postEphemeral(**where, text=meant)
            return
        await self._suggest(client, where, who, meant, MENTIONED.sub(" ", text))

    async def _suggest(
        self, client: AsyncWebClient, where: dict[str, Any], who: Actor, case: Case, text: str
    ) -> None:
        """'Did you mean ...?' with Yes and No, or the choices waiting when the sentence fits none."""
        now = self.clock()
        prompts = next_prompts(case, who, now)
        suggestion = understand(text, prompts, self.orgs, london_date(now))
        if suggestion is None:
            said = f"Here is what I can do on {case.ref} now."
            await client.chat_postEphemeral(**where, text=said, blocks=help_blocks(case.ref, prompts))
            return
        await client.chat_postEphemeral(
            **where,
            text=f"Did you mean: {suggestion.wording}?",
            blocks=confirm_blocks(case.ref, suggestion.wording, pack(case, suggestion)),
        )

    # --- errors ---------------------------------------------------------------------------------

    async def error(self, error: Exception, body: dict[str, Any]) -> None:
        """Known refusals get their reason; anything else a short id that is also in the log."""
        try:
            await self._tell(body, failure(error, "slack"))
        except Exception:  # Slack itself is failing: the log line above is what is left
            log.warning("could not tell the user about a failed request", exc_info=True)

    # --- helpers --------------------------------------------------------------------------------

    def _actor(self, user_id: str) -> Actor | None:
        return slack_actor(self.config, user_id)

    async def _holder(self, body: dict[str, Any]) -> Actor | None:
        """Who pressed, if they may read what a case holds: a handler or administrator of the
        organisation holding it. Anyone else is told so and shown nothing of it."""
        who = self._actor(body["user"]["id"])
        if may_read(self.config, who):
            return who
        await self._tell(body, NOT_HOLDER)
        return None

    async def _show(self, body: dict[str, Any], text: str, lines: list[str]) -> None:
        """Lines of a case's text, whole, in as many messages as Slack's limits need, for this person."""
        pages = full_pages(lines)
        for n, blocks in enumerate(pages, 1):
            await self._tell(body, f"{text} ({n} of {len(pages)})" if len(pages) > 1 else text, blocks)

    async def _load(self, body: dict[str, Any], ref: str) -> Case | None:
        try:
            return await asyncio.to_thread(self.service.load, ref)
        except UnknownCase:
            await self._tell(body, f"There is no case {ref or 'by that reference'}.")
            return None

    async def _find(self, body: dict[str, Any], value: str, quiet: bool = False) -> Found | None:
        """The choice a button means for this person now, or None once they have been told why not."""
        who = self._actor(body["user"]["id"])
        try:
            button = ButtonRef.decode(value)
        except ValueError:
            button = None
        problem = NOT_IN_DIRECTORY if who is None else NOT_UNDERSTOOD
        if who is not None and button is not None:
            case = await self._load(body, button.ref)
            if case is None:
                return None
            found = choose(case, who, button, self.clock())
            if isinstance(found, Found):
                return found
            problem = found
        if not quiet:
            await self._tell(body, problem)
        return None

    async def _record(self, body: dict[str, Any], found: Found, command: c.Command) -> None:
        try:
            await self._execute(found, command)
        except DuplicateKey:
            await self._tell(body, "That answer is already recorded.")
            return
        except DomainError as error:
            await self._tell(body, f"Not recorded: {words(error)}")
            return
        message = body.get("container", {})
        if message.get("type") == "message" and not message.get("is_ephemeral"):
            question = text_of(found.case.ref, found.prompt)
            done = f"{question}\n*{found.choice.label}*, recorded by <@{body['user']['id']}>"
            await self.threads.answered(found.case.ref, [message["channel_id"], message["message_ts"]], done)
        await self.threads.sync(found.case.ref)

    async def _execute(self, found: Found, command: c.Command) -> None:
        await asyncio.to_thread(self.service.execute, found.case.ref, command, self.clock(), [found.key])

    def _modal(self, found: Found) -> dict[str, Any]:
        orgs = [(o.id, o.name) for o in self.config.organisations]
        return choice_modal(found.case.ref, found.case.version, found.prompt, found.button.choice, orgs)

    async def _tell(
        self, body: dict[str, Any], text: str, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        """A message only this person sees: ephemeral where they are, else a direct message."""
        user = str(body.get("user", {}).get("id") or body.get("user_id") or "")
        channel = (body.get("channel") or {}).get("id") or body.get("container", {}).get("channel_id")
        client = self.client
        if channel:
            thread = body.get("container", {}).get("thread_ts") or body.get("message", {}).get("thread_ts")
            await client.chat_postEphemeral(
                channel=channel, user=user, text=text, thread_ts=thread, blocks=blocks
            )
        elif user:
            await client.chat_postMessage(channel=user, text=text, blocks=blocks)

    def _repeat(self, event_id: str) -> bool:
        """Slack retries an event it thinks we missed: act on each id once."""
        if not event_id:
            return False
        if event_id in self._seen:
            return True
        self._seen[event_id] = None
        while len(self._seen) > 1000:
            del self._seen[next(iter(self._seen))]
        return False
