"""Direct messages: each question names its case in the text Slack notifies with, and a sentence
typed to the app is read as in the case's thread, about the case it names or else the only case
with questions waiting for the person."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

from bot.directory import actor, org_ref
from flows import commands as c
from flows.model import ConsentMethod, LeadCriterion
from tests.bot.slack.conftest import ASHA, LENA, InSlack, Seen, to_lead_proposed
from tests.servers.slack import CHANNEL, Call, block_actions, message_event

DM = "D" + LENA  # Lena's direct message channel with the app


def posted(slack: InSlack, seen: Seen) -> Call:
    """The chat.postMessage call that posted the question `seen`."""
    return next(call for call in slack.fake.calls_to("chat.postMessage") if call.answer.get("ts") == seen.ts)


async def asked_directly(slack: InSlack, user: str, prompt_id: str) -> Seen:
    """The question `prompt_id` in `user`'s direct messages (the handlers' copy in the thread comes first)."""
    for count in itertools.count(1):
        await slack.fake.wait_for("chat.postMessage", count)
        seen = await slack.asked(prompt_id)
        if seen.channel == "D" + user:
            return seen
    raise AssertionError("unreachable")


async def also_proposed(slack: InSlack) -> str:
    """A second case waiting for the council's answer on the lead, taken there by the case service."""
    ref = await slack.email("Northshire General lost my hearing aids.", "<slack-2@mail.example.org>")
    config, service, now = slack.assistant.config, slack.assistant.service, slack.clock.now
    asha = actor(config.person("asha-patel"))
    trust, council = (org_ref(config, o) for o in ("northshire-trust", "northshire-council"))
    for command in (
        c.IdentifyOrganisations(actor=asha, orgs=(trust, council)),
        c.RecordConsent(
            actor=asha,
            org_ids=(council.id,),
            method=ConsentMethod.PHONE,
            given_on=now.date(),
            capacity_confirmed=True,
        ),
        c.RecordComplainantView(actor=asha, view="No preference given"),
        c.ProposeLead(actor=asha, org_id=trust.id, criteria=(LeadCriterion.GREATEST_RESPONSIBILITY,)),
    ):
        service.execute(ref, command, now)
    await slack.assistant.cycle()
    return ref


def lena_answered(slack: InSlack, ref: str) -> int:
    return sum(type(e).__name__ == "LeadResponded" and e.by == "lena-okafor" for e in slack.events(ref))


async def say(slack: InSlack, user: str, text: str) -> Call:
    """`user` writes `text` to the app directly; returns the app's answer, seen only by them."""
    slack.clock.now += timedelta(seconds=1)
    ts = f"{slack.clock.now.timestamp():.6f}"
    status, _ = await slack.send.event(message_event(user, "D" + user, text, ts), f"Ev{ts}")
    assert status == 200
    answer = await slack.next_call("chat.postEphemeral")
    assert answer.params["channel"] == "D" + user and answer.params["user"] == user
    return answer


async def test_a_question_names_its_case_in_its_text_by_direct_message_and_in_the_thread(
    slack: InSlack,
) -> None:
    ref = await to_lead_proposed(slack)
    council = await asked_directly(slack, LENA, "lead_answer:northshire-council")

    dm = posted(slack, council)
    assert dm.params["text"].startswith(f"{ref}: Does Northshire County Council, Adult Social Care agree")
    assert ref in json.dumps(dm.params["blocks"])  # shown in the message too, not only notified
    in_thread = posted(slack, await slack.asked("complainant_view"))
    assert in_thread.params["channel"] == CHANNEL and in_thread.params["text"].startswith(f"{ref}: ")

    await slack.press(LENA, council, "Agree")
    assert (await slack.answered(council)).startswith(f"{ref}: Does ")


async def test_a_sentence_in_a_direct_message_is_confirmed_and_recorded_on_the_only_case_waiting(
    slack: InSlack,
) -> None:
    ref = await to_lead_proposed(slack)
    view = await slack.asked("complainant_view")
    await slack.form(ASHA, view, "Record their view", view="Happy for the hospital to lead")

    helped = await say(slack, LENA, "help")
    assert helped.params["text"] == f"Here is what I can do on {ref} now."
    confirm = await say(slack, LENA, "the council agrees")
    assert confirm.params["text"] == (
        "Did you mean: Northshire County Council, Adult Social Care agrees with the proposed lead?"
    )
    assert not lena_answered(slack, ref)  # nothing recorded before the person confirms

    [yes] = [e for b in confirm.params["blocks"] if b["type"] == "actions" for e in b["elements"][:1]]
    await slack.send.interactive(block_actions(LENA, yes["action_id"], yes["value"], channel=DM))
    await slack.asked("named_contact")
    assert lena_answered(slack, ref) == 1


async def test_with_questions_on_two_cases_a_direct_message_must_name_its_case(slack: InSlack) -> None:
    first = await to_lead_proposed(slack)
    second = await also_proposed(slack)
    await asked_directly(slack, LENA, "lead_answer:northshire-council")
    to_lena = [c.params["text"] for c in slack.fake.calls_to("chat.postMessage") if c.params["channel"] == DM]
    assert sorted(text.partition(": Does ")[0] for text in to_lena) == sorted([first, second])

    which = (await say(slack, LENA, "we agree")).params["text"]
    question, _, refs = which.rstrip(".").partition(": ")
    assert question == "Which case do you mean? Start with its reference"
    assert sorted(refs.split(", ")) == sorted([first, second])
    confirm = await say(slack, LENA, f"{second.lower()}: we agree")
    assert "Did you mean" in confirm.params["text"]
    assert f'"{second}|' in json.dumps(confirm.params["blocks"]) and first not in json.dumps(confirm.params)


async def test_a_direct_message_learns_nothing_of_a_case_not_the_persons(slack: InSlack) -> None:
    nothing = (await say(slack, LENA, "help")).params["text"]
    assert nothing == "Nothing is waiting for you. To write about a case, start with its reference."
    ref = await slack.email()  # the council is not on it
    await slack.asked("organisations")

    assert (await say(slack, LENA, f"{ref} help")).params["text"] == f"There is no case {ref}."
    assert (await say(slack, LENA, "JC-000000-NONE")).params["text"] == "There is no case JC-000000-NONE."
    assert (await say(slack, ASHA, f"{ref} help")).params["text"] == f"Here is what I can do on {ref} now."
