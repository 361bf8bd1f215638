"""Block Kit from real cases and prompts: within Slack's limits at every stage of a case's life, with
nothing of the complainant's in chat, and a form answered in Slack records what the terminal would.

The limits are written out here from the Block Kit reference, not imported from the module under
test; slack_sdk's own models parse every block as a second opinion on the shapes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block as SlackBlock
from slack_sdk.models.views import View

from bot.config import Config
from bot.directory import actor, org_ref
from bot.service import CaseService
from bot.slack.blocks import (
    ButtonRef,
    HomeItem,
    card_text,
    case_card,
    choice_modal,
    confirm_blocks,
    form_values,
    help_blocks,
    home_view,
    prompt_blocks,
    text_of,
)
from bot.terminal import Conversation
from flows import commands as c
from flows.codec import to_plain
from flows.conversation import Choice, Field, FieldKind, Prompt, fill
from flows.model import Actor, Case, Status
from flows.summary import summarise
from tests.bot import prompts_seen
from tests.bot.prompts_seen import (
    CARE_HOME,
    COUNCIL,
    EVERY_PROMPT,
    GP,
    LATER,
    SECRETS,
    TRUST,
    answers_for,
    asked,
    forms,
    shows_nothing_of_the_complainant,
    stage,
    submitted,
)
from tests.flows.builders import NOW, TODAY

stages, people, orgs = prompts_seen.stages, prompts_seen.people, prompts_seen.orgs  # shared fixtures


# --- Slack's limits, from the Block Kit reference -------------------------------------------------


def within_limits(blocks: Sequence[Mapping[str, Any]], most: int) -> None:
    assert 0 < len(blocks) <= most
    for block in blocks:
        parsed = SlackBlock.parse(dict(block))
        assert parsed is not None and parsed.to_dict() == block, f"slack_sdk reads {block} differently"
        parsed.validate_json()
        elements = block.get("elements", [])
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "actions":
            assert len(elements) <= 25 and len({e["action_id"] for e in elements}) == len(elements)
        if block["type"] == "context":
            assert len(elements) <= 10
        if block["type"] == "input":
            assert len(block["block_id"]) <= 255 and len(block["label"]["text"]) <= 2000
        assert len(block.get("fields", [])) <= 10
        assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        for element in [*elements, block.get("element"), block.get("accessory")]:
            if element:
                element_within_limits(element)
        for text in texts(block):
            assert 1 <= len(text) <= 3000


def element_within_limits(element: Mapping[str, Any]) -> None:
    assert len(element.get("action_id", "")) <= 255
    if element["type"] == "button":
        assert len(element["text"]["text"]) <= 75 and len(element.get("value", "")) <= 2000
        assert len(element.get("url", "")) <= 3000
    groups = element.get("option_groups", [{"options": element.get("options", [])}])
    options = [o for g in groups for o in g["options"]]
    assert len(groups) <= 100 and all(len(g["options"]) <= 100 for g in groups)
    assert element["type"] != "radio_buttons" or len(options) <= 10
    assert all(len(o["text"]["text"]) <= 75 and 1 <= len(o["value"]) <= 150 for o in options)
    initial = (
        [element["initial_option"]] if "initial_option" in element else element.get("initial_options", [])
    )
    assert all(o in options for o in initial)
    assert len(element.get("initial_value", "")) <= 3000


def modal_within_limits(view: Mapping[str, Any]) -> None:
    assert View(**view).to_dict() == view
    View(**view).validate_json()
    assert all(len(view[k]["text"]) <= 24 for k in ("title", "submit", "close") if k in view)
    assert len(view.get("private_metadata", "")) <= 3000 and len(view.get("callback_id", "")) <= 255
    within_limits(view["blocks"], 100)


def texts(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        if value.get("type") in ("plain_text", "mrkdwn"):
            yield value["text"]
        for inner in value.values():
            yield from texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from texts(inner)


# --- every stage of a case's life ------------------------------------------------------------------


def test_every_card_prompt_and_form_of_a_case_life_keeps_within_slack_limits(
    stages: list[Case], people: list[Actor], orgs: list[tuple[str, str]]
) -> None:
    seen = set()
    for case in stages:
        for today in (TODAY, LATER.date()):
            within_limits(case_card(summarise(case), today=today), 50)
        for _, prompt in asked(case, people):
            seen.add(prompt.id.partition(":")[0])
            within_limits(prompt_blocks(case.ref, case.version, prompt), 50)
            for index, choice in enumerate(prompt.choices):
                if choice.fields:
                    modal_within_limits(choice_modal(case.ref, case.version, prompt, index, orgs))
    assert seen >= EVERY_PROMPT


def test_chat_shows_nothing_of_the_complainant_at_any_stage(
    stages: list[Case], people: list[Actor], orgs: list[tuple[str, str]]
) -> None:
    for case in stages:
        summary = summarise(case)
        shows_nothing_of_the_complainant([case_card(summary, today=TODAY), card_text(summary)])
        prompts = [p for _, p in asked(case, people)]
        shows_nothing_of_the_complainant(help_blocks(case.ref, prompts))
        for prompt in prompts:
            shown = [prompt_blocks(case.ref, case.version, prompt), text_of(case.ref, prompt)]
            shows_nothing_of_the_complainant(shown)


def test_a_form_shows_the_complainant_only_where_a_default_fills_in_a_text_answer(
    stages: list[Case], people: list[Actor], orgs: list[tuple[str, str]]
) -> None:
    """The draft and a contributor's email are offered for editing; nothing else of theirs is shown."""
    prefilled = set()
    for case in stages:
        for _, prompt in asked(case, people):
            for index in range(len(prompt.choices)):
                view = choice_modal(case.ref, case.version, prompt, index, orgs)
                for block in view["blocks"][1:]:
                    shown = block["element"].pop("initial_value", "")
                    if any(s in str(shown) for s in SECRETS):
                        prefilled.add(f"{prompt.id.partition(':')[0]}/{block['block_id']}")
                shows_nothing_of_the_complainant(view)
    assert prefilled == {"final_response/body", "revise_draft/text", "message/summary"}


def test_every_button_of_every_prompt_names_its_case_version_prompt_and_choice(
    stages: list[Case], people: list[Actor]
) -> None:
    for case in stages:
        for _, prompt in asked(case, people):
            blocks = prompt_blocks(case.ref, case.version, prompt)
            buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
            assert [ButtonRef.decode(b["value"]) for b in buttons] == [
                ButtonRef(case.ref, case.version, prompt.id, i) for i in range(len(prompt.choices))
            ]
            assert [b["action_id"] for b in buttons] == [f"jointly:choice:{i}" for i in range(len(buttons))]


# --- a form answered in Slack records what the terminal records ------------------------------------


async def by_terminal(config: Config, service: CaseService, choice: Choice, keys: list[str]) -> c.Command:
    """The terminal's own reading of `keys`, the lines typed (`Conversation._fields`)."""

    async def read(question: str) -> str:
        return keys.pop(0)

    talk = Conversation(config, service, actor(config.person("asha-patel")), read, io.StringIO())
    command = fill(choice, await talk._fields(choice, NOW))
    assert keys == [], "the terminal asked again"
    return command


def by_slack(
    config: Config, choice: Choice, view: Mapping[str, Any], answers: Mapping[str, Any]
) -> c.Command:
    values, errors = form_values(choice.fields, submitted(view, answers))
    assert errors == {}
    kinds = {f.name: f.kind for f in choice.fields}
    orgs = {
        n: [to_plain(org_ref(config, o)) for o in v]
        for n, v in values.items()
        if kinds[n] is FieldKind.ORGANISATIONS
    }
    return fill(choice, values | orgs)


@pytest.mark.parametrize("edited", [False, True], ids=["as shown", "edited"])
async def test_a_form_records_what_the_terminal_records_for_the_same_answers(
    edited: bool, config: Config, service: CaseService, stages: list[Case], people: list[Actor], orgs: Any
) -> None:
    """As shown, the form is the terminal's Enter (keep the default); edited, the same answers typed."""
    kinds = set()
    for case, prompt, index, choice in forms(stages, people):
        view = choice_modal(case.ref, case.version, prompt, index, orgs)
        in_slack: dict[str, Any] = {}
        keys = []
        for field, block in zip(choice.fields, view["blocks"][1:], strict=True):
            shown = any(k.startswith("initial_") for k in block["element"])
            if (shown or not field.required) and not edited:
                keys.append("")
            else:
                in_slack[field.name], typed = answers_for(field, edited)
                several = field.long or field.kind is FieldKind.LINES  # typed up to a "." line
                keys.extend([*typed.splitlines(), "."] if several else [typed])
            kinds.add(field.kind)
        assert by_slack(config, choice, view, in_slack) == await by_terminal(config, service, choice, keys)
    assert kinds == set(FieldKind)


def test_form_errors_are_keyed_by_field_and_an_empty_optional_field_is_left_out(
    stages: list[Case], people: list[Actor]
) -> None:
    contact = stage(stages, "named_contact", people)[1].choices[0]
    values, errors = form_values(
        contact.fields, {"name": {"value": {"value": "  "}}, "phone": {"value": {"value": None}}}
    )
    assert (values, errors) == ({}, {"name": "An answer is needed.", "email": "An answer is needed."})

    every = stage(stages, "update_every", people)[1].choices[0].fields
    for typed in ("2.5", "-3", "twenty", "1e3", "１２"):
        assert form_values(every, {"working_days": {"value": {"value": typed}}}) == (
            {},
            {"working_days": "Write a whole number, like 20."},
        )
    assert form_values(every, {"working_days": {"value": {"value": " 15 "}}}) == ({"working_days": 15}, {})

    given = stage(stages, "consent", people)[1].choices[0].fields
    sent = {
        "method": {"value": {"selected_option": {"value": "carrier_pigeon"}}},
        "given_on": {"value": {"selected_date": "2026-02-30"}},
        "capacity_confirmed": {"value": {"selected_option": "yes"}},
    }
    assert form_values(given, sent)[1] == {
        "method": "Pick one of the options shown.",
        "given_on": "Pick a date.",
        "capacity_confirmed": "Pick one of the options shown.",
    }


def test_an_organisations_field_ticks_its_default_given_as_ids_or_as_organisations(
    config: Config, orgs: list[tuple[str, str]]
) -> None:
    by_id = Field("orgs", "Organisations involved", FieldKind.ORGANISATIONS, default=(COUNCIL, TRUST))
    by_org = replace(by_id, default=tuple(org_ref(config, o) for o in (COUNCIL, TRUST)))
    for field in (by_id, by_org):
        element = form_of(field, orgs)["blocks"][1]["element"]
        assert element["type"] == "multi_static_select"
        assert [o["value"] for o in element["options"]] == [TRUST, GP, COUNCIL, CARE_HOME]
        assert [o["value"] for o in element["initial_options"]] == [COUNCIL, TRUST]


def test_more_organisations_than_a_select_holds_are_offered_in_groups(config: Config) -> None:
    many = [(f"org-{n}", f"Organisation {n} " + "with a long name " * 5) for n in range(250)]
    field = Field("orgs", "Organisations involved", FieldKind.ORGANISATIONS, default=("org-0", "org-249"))
    view = form_of(field, many)
    modal_within_limits(view)
    element = view["blocks"][1]["element"]
    assert [len(g["options"]) for g in element["option_groups"]] == [100, 100, 50]
    assert form_values([field], submitted(view, {})) == ({"orgs": ["org-0", "org-249"]}, {})


def test_a_text_too_long_for_the_form_is_not_shown_and_is_kept_when_left_empty() -> None:
    letter = "Dear colleague, " + "x" * 4000
    field = Field("body", "Final response", FieldKind.TEXT, default=letter)
    view = form_of(field, [])
    modal_within_limits(view)
    [block] = view["blocks"][1:]
    assert "initial_value" not in block["element"] and block["optional"] is True
    assert "4016 characters" in block["hint"]["text"]
    assert form_values([field], submitted(view, {})) == ({"body": letter}, {})
    assert form_values([field], submitted(view, {"body": "Shorter."})) == ({"body": "Shorter."}, {})


def form_of(field: Field, orgs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    choice = Choice("Record it", c.RecordDraft(actor=Actor("a", TRUST, frozenset()), text=""), (field,))
    return choice_modal("JC-261124-QZBD", 3, Prompt("p", "A question?", (choice,)), 0, orgs)


def test_a_form_says_which_case_prompt_and_choice_it_answers(stages: list[Case], people: list[Actor]) -> None:
    case, prompt = stage(stages, "consent", people)
    view = choice_modal(case.ref, case.version, prompt, 0, [])
    assert (view["callback_id"], view["title"]["text"], view["submit"]["text"], view["close"]["text"]) == (
        "jointly:form",
        case.ref,
        "Record",
        "Cancel",
    )
    assert ButtonRef.decode(view["private_metadata"]) == ButtonRef(case.ref, case.version, "consent", 0)
    assert view["blocks"][0]["text"]["text"] == f"*{prompt.question}*\nConsent given"
    assert [(b["block_id"], b["label"]["text"], b["optional"]) for b in view["blocks"][1:]] == [
        ("method", "How", False),
        ("given_on", "Given on", False),
        ("capacity_confirmed", "You are satisfied they can consent", False),
    ]
    with pytest.raises(ValueError, match=f"no choice {len(prompt.choices)}"):
        choice_modal(case.ref, case.version, prompt, len(prompt.choices), [])


# --- buttons ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "button",
    [
        ButtonRef("JC-261124-QZBD", 7, "lead_answer:northshire-council", 1),
        ButtonRef("JC-261124-QZBD", 0, "message:<m1|x@example.org>", 0),
        ButtonRef("New complaint", 12, "new", 0),
    ],
)
def test_a_button_value_decodes_to_what_was_encoded(button: ButtonRef) -> None:
    assert ButtonRef.decode(button.encode()) == button


@pytest.mark.parametrize(
    "value",
    [
        "", "JC-1", "JC-1|1|p", "JC-1|x|p|0", "JC-1|1|p|x", "JC-1|-1|p|0", "JC-1|1|p|-1", "JC-1|01|p|0",
        "JC-1|1|p|00", "|1|p|0", "JC-1|1||0", "JC-1|1|p|0|", "JC-1|1|p\n|0", "JC-1|1|p|0\n", "JC-1|1|p|1e3",
        "JC-1|1|p| 1", "JC-1|9999999999|p|0", "JC\t1|1|p|0", "JC-1|１|p|0", "JC-1|1|" + "p" * 2000 + "|0",
        None, b"JC-1|1|p|0", 12,
    ],
)  # fmt: skip
def test_a_malformed_button_value_is_refused(value: Any) -> None:
    with pytest.raises(ValueError):
        ButtonRef.decode(value)


# --- the case card ---------------------------------------------------------------------------------


def test_the_card_gives_status_organisations_lead_and_what_is_owed_overdue_first() -> None:
    owed = [{"on": (TODAY + timedelta(days=n)).isoformat(), "what": f"strand S{n}"} for n in range(1, 11)]
    summary = {
        "ref": "JC-261124-QZBD",
        "status": "awaiting_consent",
        "received_at": "2026-11-20T23:30:00+00:00",  # 20 November in London
        "organisations": ["Smith & Jones Trust", "Millbrook <Council>"],
        "lead": None,
        "deadlines": [
            {"on": "2026-11-24", "what": "comments"},
            {"on": "2026-11-20", "what": "acknowledgement"},
        ]
        + owed,
        "next_deadline": {"on": "2026-11-20", "what": "acknowledgement"},
    }
    header, facts, owes, actions = case_card(summary, today=TODAY)
    assert header["text"]["text"] == "JC-261124-QZBD"
    assert [f["text"] for f in facts["fields"]] == [
        "*Status*\nawaiting consent",
        "*Organisations*\nSmith &amp; Jones Trust, Millbrook &lt;Council&gt;",
        "*Lead*\nnot agreed yet",
        "*Received*\nFriday 20 November 2026",
        "*Next deadline*\n:warning: *OVERDUE* Friday 20 November 2026: acknowledgement",
    ]
    assert owes["text"]["text"].splitlines() == [
        "*Who owes what*",
        "• :warning: *OVERDUE* Fri 20 Nov 2026: acknowledgement",
        "• *today*, Tue 24 Nov 2026: comments",
        "• Wed 25 Nov 2026: strand S1",
        "• Thu 26 Nov 2026: strand S2",
        "• Fri 27 Nov 2026: strand S3",
        "• Sat 28 Nov 2026: strand S4",
        "• Sun 29 Nov 2026: strand S5",
        "• Mon 30 Nov 2026: strand S6",
        "…and 4 more",
    ]  # fmt: skip
    assert actions["elements"] == [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": "Show details"},
            "action_id": "jointly:details",
            "value": "JC-261124-QZBD",
        },
        {
            "type": "button",
            "text": {"type": "plain_text", "text": "More actions"},
            "action_id": "jointly:menu",
            "value": "JC-261124-QZBD",
        },
    ]
    assert card_text(summary) == "JC-261124-QZBD: awaiting consent"


def test_the_card_of_a_real_case_names_the_agreed_lead_and_says_when_nothing_is_owed(
    stages: list[Case],
) -> None:
    with_lead = next(case for case in stages if case.lead)
    facts = case_card(summarise(with_lead), today=TODAY)[1]["fields"]
    assert "*Lead*\nNorthshire Hospitals NHS Foundation Trust" in [f["text"] for f in facts]
    closed = case_card(summarise(next(s for s in stages if s.status is Status.CLOSED)), today=TODAY)
    assert closed[2]["text"]["text"] == "*Who owes what*\nNothing outstanding."
    assert closed[1]["fields"][0]["text"] == "*Status*\nclosed"


# --- prompts ---------------------------------------------------------------------------------------


def test_a_prompt_is_its_question_in_bold_its_detail_and_a_plain_button_per_choice(
    stages: list[Case], people: list[Actor]
) -> None:
    case, prompt = stage(stages, "consent", people)
    question, which, actions = prompt_blocks(case.ref, case.version, prompt)
    assert question["text"]["text"] == f"*{prompt.question}*\n{prompt.detail}"
    assert which["elements"][0]["text"] == case.ref  # a person asked on two cases can tell them apart
    assert [(b["text"]["text"], b["action_id"]) for b in actions["elements"]] == [
        ("Consent given", "jointly:choice:0"),
        ("Given for some, refused for others", "jointly:choice:1"),
        ("Send the consent request letter", "jointly:choice:2"),
        ("Consent refused", "jointly:choice:3"),
        ("Someone acts for the person: record who and on what authority", "jointly:choice:4"),
    ]
    assert not [b for b in actions["elements"] if "style" in b]
    assert text_of(case.ref, prompt) == f"{case.ref}: {prompt.question}"


def test_more_choices_than_an_actions_block_holds_are_split_and_long_words_are_cut(
    stages: list[Case], people: list[Actor]
) -> None:
    case, related = stage(stages, "related", people)
    many = replace(
        related,
        question="Is it <!here> & part of " + "that case? " * 400,
        choices=tuple(
            replace(related.choices[0], label=f"{n}: merge it into " + "JC " * 40) for n in range(30)
        ),
    )
    blocks = prompt_blocks(case.ref, case.version, many)
    within_limits(blocks, 50)
    assert [len(b["elements"]) for b in blocks[2:]] == [25, 5]
    assert blocks[3]["elements"][0]["action_id"] == "jointly:choice:25"
    assert ButtonRef.decode(blocks[3]["elements"][4]["value"]).choice == 29
    text = blocks[0]["text"]
    assert text["text"].startswith("*Is it &lt;!here&gt; &amp; part of") and text["text"].endswith("…")
    assert text["verbatim"] is True
    assert blocks[2]["elements"][0]["text"]["text"].endswith("…")


def test_a_sentence_understood_is_offered_for_confirmation() -> None:
    said, ref, actions = confirm_blocks("JC-261124-QZBD", "consent given by phone on 24 Nov", "packed")
    assert said["text"]["text"] == "Did you mean: *consent given by phone on 24 Nov*?"
    assert ref["elements"][0]["text"] == "JC-261124-QZBD"
    assert [(b["text"]["text"], b["action_id"], b["value"]) for b in actions["elements"]] == [
        ("Yes, record it", "jointly:confirm", "packed"),
        ("No", "jointly:dismiss", "packed"),
    ]
    with pytest.raises(ValueError):
        confirm_blocks("JC-261124-QZBD", "too much", "x" * 2001)


def test_help_lists_the_questions_waiting_with_their_choices_and_the_sentences_understood(
    stages: list[Case], people: list[Actor]
) -> None:
    case, prompt = stage(stages, "consent", people)
    blocks = help_blocks(case.ref, [prompt])
    within_limits(blocks, 50)
    texts_shown = [b["text"]["text"] for b in blocks]
    assert (
        texts_shown[1]
        == f"*{prompt.question}*\nConsent given · Given for some, refused for others · Send the consent "
        "request letter · Consent refused · Someone acts for the person: record who and on what authority"
    )
    assert "• `lead: &lt;organisation&gt;`" in texts_shown[-1] and "• `help`" in texts_shown[-1]
    crowded = help_blocks(case.ref, [prompt] * 45)
    within_limits(crowded, 50)
    assert crowded[-2]["elements"][0]["text"] == "…and 5 more"
    assert help_blocks(case.ref, [])[0]["text"]["text"] == f"Nothing is waiting on {case.ref} just now."


# --- App Home --------------------------------------------------------------------------------------


def test_the_home_tab_lists_what_waits_in_the_order_given_with_a_link_to_each_thread() -> None:
    url = "https://example.slack.com/archives/C1/p1700000000000100"
    items = [  # most urgent first, as `flows.urgency` ranks them
        HomeItem("JC-A", "Acknowledge", TODAY - timedelta(days=2), "received", None),
        HomeItem("JC-D", "Comments", TODAY, "drafting", url),
        HomeItem("JC-B", "Agree the plan", TODAY + timedelta(days=3), "planning", url),
        HomeItem("JC-C", "Name the contact", None, "naming_contact", url),
    ]
    view = home_view(items, today=TODAY)
    assert view["type"] == "home"
    within_limits(view["blocks"], 100)
    header, count, *shown = view["blocks"]
    assert (header["text"]["text"], count["elements"][0]["text"]) == (
        "My cases",
        "Waiting, most urgent first: 4 · *1 overdue*",
    )
    assert [b["text"]["text"] for b in shown] == [
        "*JC-A* · received\n:warning: *OVERDUE* Sun 22 Nov 2026: Acknowledge",
        "*JC-D* · drafting the response\n*today*, Tue 24 Nov 2026: Comments",
        "*JC-B* · planning the investigation\nFri 27 Nov 2026: Agree the plan",
        "*JC-C* · naming the contact\nName the contact",
    ]
    assert "accessory" not in shown[0]
    assert {k: shown[1]["accessory"][k] for k in ("text", "action_id", "url")} == {
        "text": {"type": "plain_text", "text": "Open thread"},
        "action_id": "jointly:open_thread",
        "url": url,
    }


def test_the_home_tab_says_when_nothing_waits_and_how_many_it_could_not_show() -> None:
    [_, nothing] = home_view([], today=TODAY)["blocks"]
    assert nothing["text"]["text"].startswith("Nothing waiting for you")
    many = [HomeItem(f"JC-{n:03}", "Agree the plan", TODAY, "planning", None) for n in range(150)]
    blocks = home_view(many, today=TODAY)["blocks"]
    within_limits(blocks, 100)
    assert blocks[-1]["elements"][0]["text"].startswith("…and 60 more")
