"""Adaptive Cards from real cases and prompts: within Teams' limits at every stage of a case's life,
with nothing of the complainant's in a shared card, and a form answered in Teams records what the same
form answered in Slack records.

The limits are written out here from Microsoft's documentation, not imported from the module under
test; the `microsoft_teams.cards` models read every element as a second opinion on its properties.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from microsoft_teams.cards import core
from pydantic import BaseModel

from bot.chat.refs import ButtonRef, ReadRef
from bot.config import Config
from bot.directory import org_ref
from bot.slack import blocks as slack
from bot.teams.cards import (
    TooLarge,
    card_text,
    case_card,
    confirm_card,
    done_card,
    form_card,
    form_values,
    full_cards,
    help_card,
    input_id,
    notice_card,
    prompt_card,
    text_of,
)
from flows import commands as c
from flows.calendar import LONDON
from flows.conversation import Choice, Field, FieldKind, Prompt
from flows.model import Actor, Case
from flows.summary import summarise
from tests.bot import prompts_seen
from tests.bot.prompts_seen import (
    CARE_HOME,
    COUNCIL,
    EVERY_PROMPT,
    GP,
    LATER,
    SECRETS,
    SHOWN,
    TRUST,
    answers_for,
    asked,
    forms,
    shows_nothing_of_the_complainant,
    stage,
    submitted,
)
from tests.flows.builders import TODAY

MESSAGE_BYTES = 28 * 1024  # the smallest documented limit (webhooks; a bot's is 40 KB), in UTF-16
ACTIONS_SHOWN = 6  # Teams shows six actions of a set; the seventh and on go behind "..."
VERBS = {
    "jointly.details", "jointly.menu", "jointly.choice", "jointly.form", "jointly.confirm",
    "jointly.dismiss", "jointly.read",
}  # fmt: skip
DATA_KEYS = {"ref", "button", "packed", "read"}
MODELS: dict[str, type[BaseModel]] = {}
for _class in vars(core).values():
    if inspect.isclass(_class) and issubclass(_class, BaseModel) and "type" in _class.model_fields:
        _type = _class.model_fields["type"].default
        if isinstance(_type, str):
            MODELS.setdefault(_type, _class)


stages, people, orgs = prompts_seen.stages, prompts_seen.people, prompts_seen.orgs  # shared fixtures


# --- Teams' limits ---------------------------------------------------------------------------------


def within_limits(card: Mapping[str, Any]) -> None:
    """A card Teams takes: version 1.5, within the message size, every element as the schema has it."""
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert len(json.dumps(card, ensure_ascii=False).encode("utf-16-le")) <= MESSAGE_BYTES
    ids = [e["id"] for e in elements(card) if e["type"].startswith("Input.")]
    assert len(ids) == len(set(ids)) and not DATA_KEYS & set(ids)
    for element in elements(card):
        second_opinion(element)
        kind = element["type"]
        assert kind != "TextBlock", "a TextBlock reads its text as Markdown"
        if kind == "TextRun":
            assert element["text"]
        if kind == "ActionSet":
            assert 1 <= len(element["actions"]) <= ACTIONS_SHOWN
        if kind.startswith("Action."):
            assert kind == "Action.Execute", "a card holds no form: the app sends one to whoever presses"
            assert 1 <= len(element["title"]) <= 75
        if kind == "Action.Execute":
            assert element["verb"] in VERBS
            assert set(element["data"]) <= DATA_KEYS and all(
                isinstance(v, str) for v in element["data"].values()
            )
            assert all(len(v) <= 2000 for v in element["data"].values())
        if kind.startswith("Input."):
            assert element["id"].startswith("field.") and 1 <= len(element["label"]) <= 300
        if kind == "Input.ChoiceSet":
            values = [choice["value"] for choice in element["choices"]]
            assert all(value and "," not in value for value in values)
            assert set(element.get("value", "").split(",")) - {""} <= set(values)


def elements(value: Any) -> Iterator[dict[str, Any]]:
    """Every element and action in a card, nested ones too."""
    if isinstance(value, Mapping):
        if "type" in value:
            yield dict(value)
        for inner in value.values():
            yield from elements(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from elements(inner)


def second_opinion(element: Mapping[str, Any]) -> None:
    """The properties are ones the Teams SDK's model of the element knows, with values it accepts."""
    model = MODELS[element["type"]]
    known = {f.serialization_alias or name for name, f in model.model_fields.items()} | {"$schema"}
    assert set(element) <= known, f"{element['type']} has no {set(element) - known}"
    model.model_validate(dict(element))
    for choice in element.get("choices", []):
        assert set(choice) == {"title", "value"}
        core.Choice.model_validate(choice)


def without_texts(card: Any) -> Any:
    """The card but for what its text inputs are filled in with."""
    if isinstance(card, Mapping):
        text = card.get("type") == "Input.Text"
        return {k: without_texts(v) for k, v in card.items() if not (text and k == "value")}
    if isinstance(card, list):
        return [without_texts(v) for v in card]
    return card


def texts(card: Mapping[str, Any]) -> list[str]:
    """The words a card shows, a block (of runs) a line."""
    return ["".join(r["text"] for r in e["inlines"]) for e in elements(card) if e["type"] == "RichTextBlock"]


def actions(card: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [e for e in elements(card) if e["type"] == "Action.Execute"]


def top_actions(card: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The card's actions, in order: those of its action sets, then its own."""
    sets = [b["actions"] for b in card["body"] if b["type"] == "ActionSet"]
    return [a for row in sets for a in row] + list(card.get("actions", []))


# --- every stage of a case's life ------------------------------------------------------------------


def test_every_card_prompt_form_and_help_of_a_case_life_keeps_within_teams_limits(
    stages: list[Case], people: list[Actor], orgs: list[tuple[str, str]]
) -> None:
    seen = set()
    for case in stages:
        for today in (TODAY, LATER.date()):
            within_limits(case_card(summarise(case), today=today))
        prompts = [p for _, p in asked(case, people)]
        within_limits(help_card(case.ref, prompts, version=case.version))
        for prompt in prompts:
            seen.add(prompt.id.partition(":")[0])
            within_limits(prompt_card(case.ref, case.version, prompt))
            for index, choice in enumerate(prompt.choices):
                if choice.fields:
                    within_limits(form_card(case.ref, case.version, prompt, index, orgs))
    assert seen >= EVERY_PROMPT


def test_a_shared_card_shows_nothing_of_the_complainant_at_any_stage(
    stages: list[Case], people: list[Actor], orgs: list[tuple[str, str]]
) -> None:
    """The case card, questions and help are seen by the whole channel."""
    for case in stages:
        summary = summarise(case)
        shows_nothing_of_the_complainant([case_card(summary, today=TODAY), card_text(summary)])
        prompts = [p for _, p in asked(case, people)]
        shows_nothing_of_the_complainant(help_card(case.ref, prompts, version=case.version))
        for prompt in prompts:
            shown = [prompt_card(case.ref, case.version, prompt), text_of(case.ref, prompt)]
            shows_nothing_of_the_complainant(shown)


def test_a_form_sent_to_one_person_shows_the_complainant_only_where_a_default_fills_in_a_text(
    stages: list[Case], people: list[Actor], orgs: list[tuple[str, str]]
) -> None:
    """The draft and a contributor's email are offered for editing, in a form for the person who
    pressed (a shared card holds only buttons); nothing else of theirs is shown."""
    prefilled = set()
    for case in stages:
        for _, prompt in asked(case, people):
            for index, choice in enumerate(prompt.choices):
                card = form_card(case.ref, case.version, prompt, index, orgs)
                button = ButtonRef(case.ref, case.version, prompt.id, index).encode()
                names = {input_id(button, f.name): f.name for f in choice.fields}
                for element in elements(card):
                    shown = element.get("value", "") if element["type"] == "Input.Text" else ""
                    if any(s in str(shown) for s in SECRETS):
                        prefilled.add(f"{prompt.id.partition(':')[0]}/{names[element['id']]}")
                shows_nothing_of_the_complainant(without_texts(card))
    assert prefilled == {"final_response/body", "revise_draft/text", "message/summary"}


def test_every_choice_of_every_prompt_is_a_button_naming_its_case_version_prompt_and_choice(
    stages: list[Case], people: list[Actor], orgs: list[tuple[str, str]]
) -> None:
    """A choice with fields too: its form is `form_card`, for the person who presses, and its
    "Record" names the same choice."""
    with_fields = 0
    for case in stages:
        for _, prompt in asked(case, people):
            card = prompt_card(case.ref, case.version, prompt)
            held = top_actions(card)
            assert held == actions(card)  # nothing nested: no form inside
            assert [a["title"] for a in held] == [choice.label[:75] for choice in prompt.choices]
            for i, (action, choice) in enumerate(zip(held, prompt.choices, strict=True)):
                expected = ButtonRef(case.ref, case.version, prompt.id, i)
                assert (action["type"], action["verb"]) == ("Action.Execute", "jointly.choice")
                assert set(action["data"]) == {"button"}
                assert ButtonRef.decode(action["data"]["button"]) == expected
                if choice.fields:
                    with_fields += 1
                    form = form_card(case.ref, case.version, prompt, i, orgs)
                    assert ButtonRef.decode(button_of(form)) == expected
    assert with_fields


# --- a form answered in Teams records what the same form answered in Slack records ----------------


def sent(card: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    """The data of the form's "Record" as Teams sends it: its own data, and every input's value as
    a string (as shown, unless `answers` has another, by input id; an empty input sends nothing)."""
    [record] = [a for a in actions(card) if a.get("verb") == "jointly.form"]
    data = dict(record["data"])
    for element in elements(card):
        if element["type"].startswith("Input."):
            answer = answers.get(element["id"], SHOWN)
            value = element.get("value") if answer is SHOWN else answer
            if value is not None and value != "":
                data[element["id"]] = str(value)
    return data


def in_teams(field: Field, key: str, answer: Any) -> dict[str, str]:
    """An answer as the Slack tests give it (`answers_for`), as Teams' inputs would send it."""
    if field.kind is FieldKind.DATETIME:
        moment = datetime.fromtimestamp(answer, UTC).astimezone(LONDON)
        return {key: f"{moment:%Y-%m-%d}", f"{key}.time": f"{moment:%H:%M}"}
    if isinstance(answer, list):
        return {key: ",".join(answer)}
    return {key: str(answer)}


@pytest.mark.parametrize("edited", [False, True], ids=["as shown", "edited"])
def test_a_form_records_what_the_same_form_records_in_slack(
    edited: bool, stages: list[Case], people: list[Actor], orgs: list[tuple[str, str]]
) -> None:
    """As shown, the form keeps its defaults (the terminal's Enter); edited, the same answers."""
    kinds = set()
    for case, prompt, index, choice in forms(stages, people):
        card = form_card(case.ref, case.version, prompt, index, orgs)
        view = slack.choice_modal(case.ref, case.version, prompt, index, orgs)
        button = ButtonRef(case.ref, case.version, prompt.id, index).encode()
        in_slack: dict[str, Any] = {}
        typed: dict[str, str] = {}
        for field, block in zip(choice.fields, view["blocks"][1:], strict=True):
            shown = any(k.startswith("initial_") for k in block["element"])
            if edited or not (shown or not field.required):
                in_slack[field.name] = answers_for(field, edited)[0]
                typed |= in_teams(field, input_id(button, field.name), in_slack[field.name])
            kinds.add(field.kind)
        expected = slack.form_values(choice.fields, submitted(view, in_slack))
        got = form_values(choice.fields, sent(card, typed))
        assert got[1] == expected[1] == {}
        several = {
            f.name for f in choice.fields if f.kind in (FieldKind.MULTI_CHOICE, FieldKind.ORGANISATIONS)
        }
        if edited:  # the order of picks is Teams' own; the default's order is kept as shown
            got = ({k: sorted(v) if k in several else v for k, v in got[0].items()}, {})
            expected = ({k: sorted(v) if k in several else v for k, v in expected[0].items()}, {})
        assert got == expected, f"{prompt.id} / {choice.label}"
    assert kinds == set(FieldKind)


def test_a_date_and_time_are_london_time_in_winter_and_in_summer() -> None:
    field = Field("on", "When", FieldKind.DATETIME)
    card = form_of(field, [])
    key = input_id(button_of(card), "on")
    [day, at] = [e for e in elements(card) if e["type"] in ("Input.Date", "Input.Time")]
    assert (day["id"], at["id"], at["label"]) == (key, f"{key}.time", "Time (London)")
    assert form_values([field], sent(card, {key: "2026-12-03", f"{key}.time": "14:00"}))[0] == {
        "on": "2026-12-03T14:00:00+00:00"
    }
    assert form_values([field], sent(card, {key: "2026-07-01", f"{key}.time": "14:00"}))[0] == {
        "on": "2026-07-01T13:00:00+00:00"
    }
    shown = datetime(2026, 7, 1, 9, 30, 15, tzinfo=LONDON)
    card = form_of(replace(field, default=shown), [])
    [day, at] = [e for e in elements(card) if e["type"] in ("Input.Date", "Input.Time")]
    assert (day["value"], at["value"]) == ("2026-07-01", "09:30")
    kept = form_values([replace(field, default=shown)], sent(card, {}))[0]
    assert kept == {"on": shown.astimezone(UTC).isoformat()}  # what was shown is kept, to the second


def test_form_errors_are_keyed_by_field_and_an_empty_optional_field_is_left_out(
    stages: list[Case], people: list[Actor]
) -> None:
    case, prompt = stage(stages, "named_contact", people)
    contact = prompt.choices[0]
    button = ButtonRef(case.ref, case.version, prompt.id, 0).encode()
    data = {"button": button, input_id(button, "name"): "  ", input_id(button, "phone"): ""}
    assert form_values(contact.fields, data) == (
        {},
        {"name": "An answer is needed.", "email": "An answer is needed."},
    )

    case, prompt = stage(stages, "update_every", people)
    every = prompt.choices[0].fields
    button = ButtonRef(case.ref, case.version, prompt.id, 0).encode()
    key = input_id(button, "working_days")
    for typed in ("2.5", "-3", "twenty", "1e3", "１２", "1 2", "9999999999", True, ["12"]):
        assert form_values(every, {"button": button, key: typed}) == (
            {},
            {"working_days": "Write a whole number, like 20."},
        ), typed
    assert form_values(every, {"button": button, key: " 15 "}) == ({"working_days": 15}, {})


def test_values_not_offered_bad_dates_and_strange_data_are_refused(
    stages: list[Case], people: list[Actor]
) -> None:
    case, prompt = stage(stages, "consent", people)
    given = prompt.choices[0].fields
    button = ButtonRef(case.ref, case.version, prompt.id, 0).encode()

    def errors(**typed: Any) -> dict[str, str]:
        return form_values(given, {"button": button, **{input_id(button, k): v for k, v in typed.items()}})[1]

    ok = {"method": "phone", "given_on": "2026-11-24", "capacity_confirmed": "yes"}
    assert form_values(given, {"button": button, **{input_id(button, k): v for k, v in ok.items()}}) == (
        {"method": "phone", "given_on": "2026-11-24", "capacity_confirmed": True},
        {},
    )
    assert errors(method="carrier_pigeon", given_on="2026-02-30", capacity_confirmed="true") == {
        "method": "Pick one of the options shown.",
        "given_on": "Pick a date.",
        "capacity_confirmed": "Pick one of the options shown.",
    }
    for day in ("24/11/2026", "20261124", "2026-W48-2", "2026-11-24T10:00", "２０２６-11-24", 20261124):
        assert errors(**{**ok, "given_on": day}) == {"given_on": "Pick a date."}, day
    for how in ("phone,letter", "phone,phone", "", {"value": "phone"}, ["phone"], "PHONE"):
        assert "method" in errors(**{**ok, "method": how}), how
    for yes in ("yes,no", "Yes", "1", True):
        assert errors(**{**ok, "capacity_confirmed": yes}) == {
            "capacity_confirmed": "Pick one of the options shown."
        }, yes
    with pytest.raises(ValueError):
        form_values(given, {input_id(button, "method"): "phone"})  # no choice named
    with pytest.raises(ValueError):
        form_values(given, {"button": "JC-1|x|consent|0"})


def test_a_multi_select_is_refused_unless_every_value_was_offered() -> None:
    field = Field("subjects", "Subjects", FieldKind.MULTI_CHOICE, options=(("a", "A"), ("b", "B")))
    orgs = Field("orgs", "Organisations involved", FieldKind.ORGANISATIONS, required=False)
    card = form_of(field, [])
    key = input_id(button_of(card), "subjects")
    org_key = input_id(button_of(card), "orgs")
    assert form_values([field], sent(card, {key: "b,a,b"})) == ({"subjects": ["b", "a"]}, {})
    for typed in ("a,c", "a,,b", "a, ,b", ",", "a;b"):
        assert form_values([field], sent(card, {key: typed})) == (
            {},
            {"subjects": "Pick one of the options shown."},
        )
    data = {"button": button_of(card), org_key: f"{TRUST},{'x' * 151}"}
    assert form_values([orgs], data) == ({}, {"orgs": "Pick one of the options shown."})
    assert form_values([orgs], {"button": button_of(card), org_key: f"{COUNCIL},{GP}"})[0] == {
        "orgs": [COUNCIL, GP]
    }
    assert form_values([orgs], {"button": button_of(card)}) == ({}, {})  # optional, left empty: left out


def test_a_time_without_a_date_or_a_date_without_a_time_is_refused() -> None:
    field = Field("on", "When", FieldKind.DATETIME)
    card = form_of(field, [])
    key = input_id(button_of(card), "on")
    for typed in ({key: "2026-12-03"}, {f"{key}.time": "14:00"}, {key: "2026-12-03", f"{key}.time": "25:00"}):
        assert form_values([field], sent(card, typed))[1] == {"on": "Pick a date and a time (London time)."}
    assert form_values([field], sent(card, {key: "2026-13-03", f"{key}.time": "14:00"}))[1] == {
        "on": "Pick a date."
    }
    assert form_values([field], sent(card, {}))[1] == {"on": "An answer is needed."}


def test_an_organisations_field_ticks_its_default_given_as_ids_or_as_organisations_and_keeps_its_order(
    config: Config, orgs: list[tuple[str, str]]
) -> None:
    by_id = Field("orgs", "Organisations involved", FieldKind.ORGANISATIONS, default=(COUNCIL, TRUST))
    by_org = replace(by_id, default=tuple(org_ref(config, o) for o in (COUNCIL, TRUST)))
    for field in (by_id, by_org):
        card = form_of(field, orgs)
        [element] = [e for e in elements(card) if e["type"] == "Input.ChoiceSet"]
        assert element["isMultiSelect"] is True and element["style"] == "compact"
        assert [o["value"] for o in element["choices"]] == [TRUST, GP, COUNCIL, CARE_HOME]
        assert element["value"] == f"{COUNCIL},{TRUST}"
        key = input_id(button_of(card), "orgs")
        in_choice_order = {"button": button_of(card), key: f"{TRUST},{COUNCIL}"}
        assert form_values([field], in_choice_order) == ({"orgs": [COUNCIL, TRUST]}, {})


def test_many_organisations_still_fit_a_form_with_their_names_shortened(config: Config) -> None:
    many = [(f"org-{n}", f"Organisation {n} " + "with a long name " * 5) for n in range(120)]
    field = Field("orgs", "Organisations involved", FieldKind.ORGANISATIONS, default=("org-0", "org-119"))
    card = form_of(field, many)
    within_limits(card)
    [element] = [e for e in elements(card) if e["type"] == "Input.ChoiceSet"]
    assert len(element["choices"]) == 120 and element["choices"][0]["title"].endswith("…")
    assert form_values([field], sent(card, {})) == ({"orgs": ["org-0", "org-119"]}, {})
    with pytest.raises(TooLarge):
        form_of(field, [(f"org-{n}", f"Organisation {n}") for n in range(2000)])


def test_a_text_too_long_for_the_form_is_not_shown_and_is_kept_when_left_empty() -> None:
    letter = "Dear colleague, " + "x" * 4000
    field = Field("body", "Final response", FieldKind.TEXT, default=letter, long=True)
    card = form_of(field, [])
    within_limits(card)
    [element] = [e for e in elements(card) if e["type"] == "Input.Text"]
    assert "value" not in element and "isRequired" not in element and element["isMultiline"] is True
    assert any("4016 characters" in text for text in texts(card))
    key = input_id(button_of(card), "body")
    assert form_values([field], sent(card, {})) == ({"body": letter}, {})
    assert form_values([field], sent(card, {key: "Shorter."})) == ({"body": "Shorter."}, {})


def test_each_kind_of_field_is_its_own_input_filled_in_with_its_default() -> None:
    choose = (("phone", "By phone"), ("letter", "By letter"))
    fields = (
        Field("why", "Why", FieldKind.TEXT, default="Because", required=False),
        Field("notes", "Notes", FieldKind.TEXT, default="Two\nlines"),
        Field("letter", "Letter", FieldKind.TEXT, long=True),
        Field("visits", "Visits", FieldKind.LINES, default=("Ward 9", "Ward 10")),
        Field("due", "Due", FieldKind.DATE, default=date(2026, 12, 1)),
        Field("days", "Days", FieldKind.INT, default=20),
        Field("agreed", "Agreed", FieldKind.BOOL, default=False),
        Field("how", "How", FieldKind.CHOICE, options=choose, default="letter"),
        Field("ways", "Ways", FieldKind.MULTI_CHOICE, options=choose, default=("letter", "phone")),
    )
    choice = Choice("Record it", c.RecordDraft(actor=Actor("a", TRUST, frozenset()), text=""), fields)
    card = form_card("JC-261124-QZBD", 3, Prompt("p", "A question?", (choice,)), 0, [])
    within_limits(card)
    shown = [
        (e["type"], e["label"], e.get("value"), e.get("isMultiline"), e.get("isRequired"))
        for e in elements(card)
        if e["type"].startswith("Input.")
    ]
    assert shown == [
        ("Input.Text", "Why", "Because", False, None),
        ("Input.Text", "Notes", "Two\nlines", True, True),
        ("Input.Text", "Letter", None, True, True),
        ("Input.Text", "Visits", "Ward 9\nWard 10", True, True),
        ("Input.Date", "Due", "2026-12-01", None, True),
        ("Input.Number", "Days", 20, None, True),
        ("Input.ChoiceSet", "Agreed", "no", None, True),
        ("Input.ChoiceSet", "How", "letter", None, True),
        ("Input.ChoiceSet", "Ways", "letter,phone", None, True),
    ]
    required = [e for e in elements(card) if e.get("isRequired")]
    assert {e["errorMessage"] for e in required} == {"An answer is needed."}
    values, errors = form_values(
        fields, sent(card, {input_id(button_of(card), "letter"): "Dear all,\nSorry."})
    )
    assert errors == {}
    assert values == {
        "why": "Because", "notes": "Two\nlines", "letter": "Dear all,\nSorry.",
        "visits": ["Ward 9", "Ward 10"], "due": "2026-12-01", "days": 20, "agreed": False, "how": "letter",
        "ways": ["letter", "phone"],
    }  # fmt: skip


def form_of(field: Field, orgs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    choice = Choice("Record it", c.RecordDraft(actor=Actor("a", TRUST, frozenset()), text=""), (field,))
    return form_card("JC-261124-QZBD", 3, Prompt("p", "A question?", (choice,)), 0, orgs)


def button_of(card: Mapping[str, Any]) -> str:
    [record] = [a for a in actions(card) if a.get("verb") == "jointly.form"]
    return str(record["data"]["button"])


def test_a_refused_form_comes_back_with_each_error_under_its_field_and_what_was_kept(
    stages: list[Case], people: list[Actor]
) -> None:
    case, prompt = stage(stages, "consent", people)
    card = form_card(
        case.ref, case.version, prompt, 0, [],
        values={"method": "written", "capacity_confirmed": True},
        errors={"given_on": "Pick a date."},
    )  # fmt: skip
    within_limits(card)
    assert texts(card)[0] == prompt.question
    assert case.ref in texts(card) and "Consent given" in texts(card)
    shown = [(e["type"], e.get("value")) for e in elements(card) if e["type"].startswith("Input.")]
    today = prompt.choices[0].fields[1].default.isoformat()  # the refused date: the default again
    assert shown == [("Input.ChoiceSet", "written"), ("Input.Date", today), ("Input.ChoiceSet", "yes")]
    body = card["body"]
    dated = next(i for i, e in enumerate(body) if e["type"] == "Input.Date")
    assert body[dated + 1]["inlines"] == [{"type": "TextRun", "text": "Pick a date.", "color": "Attention"}]
    [record] = card["actions"]
    assert (record["verb"], ButtonRef.decode(record["data"]["button"])) == (
        "jointly.form",
        ButtonRef(case.ref, case.version, "consent", 0),
    )
    with pytest.raises(ValueError, match=f"no choice {len(prompt.choices)}"):
        form_card(case.ref, case.version, prompt, len(prompt.choices), [])


def test_the_same_field_in_the_forms_of_two_choices_has_two_ids(
    stages: list[Case], people: list[Actor]
) -> None:
    case, prompt = stage(stages, "consent", people)
    twice = replace(prompt, choices=(prompt.choices[0], prompt.choices[0]))
    card = prompt_card(case.ref, case.version, twice)
    within_limits(card)
    assert [a["verb"] for a in top_actions(card)] == ["jointly.choice"] * 2
    ids = [
        [e["id"] for e in elements(form_card(case.ref, case.version, twice, i, [])) if "id" in e]
        for i in (0, 1)
    ]
    assert len(ids[0]) == 3 and not set(ids[0]) & set(ids[1])


# --- the case card ---------------------------------------------------------------------------------


def test_the_card_gives_status_organisations_lead_and_what_is_owed_overdue_first() -> None:
    owed = [{"on": (TODAY + timedelta(days=n)).isoformat(), "what": f"strand S{n}"} for n in range(1, 11)]
    summary = {
        "ref": "JC-261124-QZBD",
        "status": "awaiting_consent",
        "received_at": "2026-11-20T23:30:00+00:00",  # 20 November in London
        "organisations": ["Smith & Jones *Trust*", "Millbrook [Council](https://x.example)"],
        "lead": None,
        "deadlines": [
            {"on": "2026-11-24", "what": "comments"},
            {"on": "2026-11-20", "what": "acknowledgement"},
        ]
        + owed,
        "next_deadline": {"on": "2026-11-20", "what": "acknowledgement"},
    }
    card = case_card(summary, today=TODAY)
    within_limits(card)
    assert texts(card) == [
        "JC-261124-QZBD",
        "Status: awaiting consent",
        "Organisations: Smith & Jones *Trust*, Millbrook [Council](https://x.example)",
        "Lead: not agreed yet",
        "Received: Friday 20 November 2026",
        "Next deadline: ⚠ OVERDUE Friday 20 November 2026: acknowledgement",
        "Who owes what",
        "• ⚠ OVERDUE Fri 20 Nov 2026: acknowledgement",
        "• today, Tue 24 Nov 2026: comments",
        "• Wed 25 Nov 2026: strand S1",
        "• Thu 26 Nov 2026: strand S2",
        "• Fri 27 Nov 2026: strand S3",
        "• Sat 28 Nov 2026: strand S4",
        "• Sun 29 Nov 2026: strand S5",
        "• Mon 30 Nov 2026: strand S6",
        "…and 4 more",
    ]  # fmt: skip
    overdue = card["body"][7]["inlines"][1]
    assert overdue == {"type": "TextRun", "text": "⚠ OVERDUE", "weight": "Bolder", "color": "Attention"}
    assert card["body"][8]["inlines"][1] == {"type": "TextRun", "text": "today", "weight": "Bolder"}
    assert card["actions"] == [
        {
            "type": "Action.Execute",
            "title": "Show details",
            "verb": "jointly.details",
            "data": {"ref": summary["ref"]},
        },
        {
            "type": "Action.Execute",
            "title": "More actions",
            "verb": "jointly.menu",
            "data": {"ref": summary["ref"]},
        },
    ]
    assert card_text(summary) == "JC-261124-QZBD: awaiting consent"


def test_the_card_of_a_real_case_names_the_agreed_lead_and_says_when_nothing_is_owed(
    stages: list[Case],
) -> None:
    with_lead = next(case for case in stages if case.lead)
    assert "Lead: Northshire Hospitals NHS Foundation Trust" in texts(
        case_card(summarise(with_lead), today=TODAY)
    )
    closed = case_card(summarise(stages[-2]), today=TODAY)
    assert texts(closed)[1] == "Status: closed" and texts(closed)[-1] == "Nothing outstanding."


def test_a_card_with_long_names_and_many_deadlines_is_cut_to_fit() -> None:
    summary = {
        "ref": "JC-261124-QZBD",
        "status": "some_status_nobody_knows " * 100,
        "organisations": [f"Organisation {n} " + "with a very long name " * 10 for n in range(300)],
        "lead": "L" * 5000,
        "deadlines": [{"on": (TODAY + timedelta(days=n)).isoformat(), "what": "w" * 5000} for n in range(60)],
        "next_deadline": {"on": TODAY.isoformat(), "what": "w" * 5000},
    }
    card = case_card(summary, today=TODAY)
    within_limits(card)
    assert all(len(text) < 3200 for text in texts(card))
    assert texts(card)[2].endswith("…") and texts(card)[3].endswith("…") and texts(card)[-1] == "…and 52 more"


# --- questions -------------------------------------------------------------------------------------


def test_a_prompt_is_its_question_in_bold_its_detail_its_case_and_an_action_per_choice(
    stages: list[Case], people: list[Actor]
) -> None:
    case, prompt = stage(stages, "consent", people)
    card = prompt_card(case.ref, case.version, prompt)
    question, *rest = card["body"]
    assert question["inlines"] == [{"type": "TextRun", "text": prompt.question, "weight": "Bolder"}]
    assert texts(card)[1 : len(prompt.detail.splitlines()) + 1] == [
        line for line in prompt.detail.splitlines() if line.strip()
    ]
    assert case.ref in texts(card)  # a person asked on two cases can tell them apart
    assert [(a["type"], a["title"]) for a in top_actions(card)] == [
        ("Action.Execute", "Consent given"),
        ("Action.Execute", "Given for some, refused for others"),
        ("Action.Execute", "Send the consent request letter"),
        ("Action.Execute", "Consent refused"),
        ("Action.Execute", "Someone acts for the person: record who and on what authority"),
    ]
    assert not [a for a in top_actions(card) if "style" in a]
    assert text_of(case.ref, prompt) == f"{case.ref}: {prompt.question}"


def test_more_choices_than_a_set_shows_are_split_and_long_words_are_cut(
    stages: list[Case], people: list[Actor], orgs: list[tuple[str, str]]
) -> None:
    case, related = stage(stages, "related", people)
    many = replace(
        related,
        question="Is it *part* of [that](https://x.example) & " + "that case? " * 400,
        detail="_Detail_\n\n" + "more detail " * 400,
        choices=tuple(
            replace(related.choices[0], label=f"{n}: merge it into " + "JC " * 40) for n in range(30)
        ),
    )
    card = prompt_card(case.ref, case.version, many)
    within_limits(card)
    sets = [b for b in card["body"] if b["type"] == "ActionSet"]
    assert [len(s["actions"]) for s in sets] == [6, 6, 6, 6, 6]
    assert ButtonRef.decode(sets[4]["actions"][5]["data"]["button"]).choice == 29
    question = texts(card)[0]
    assert question.startswith(
        "Is it *part* of [that](https://x.example) & that case?"
    ) and question.endswith("…")
    assert len(question) == 3000 and texts(card)[1] == "_Detail_"
    assert card["body"][2]["spacing"] == "Medium"  # the blank line
    assert sets[0]["actions"][0]["title"].endswith("…") and len(sets[0]["actions"][0]["title"]) == 75


def test_many_choices_with_fields_are_buttons_and_ids_beyond_any_card_are_refused(
    stages: list[Case], people: list[Actor], orgs: list[tuple[str, str]]
) -> None:
    case, prompt = stage(stages, "consent", people)
    crowded = replace(prompt, choices=prompt.choices[:1] * 30)
    card = prompt_card(case.ref, case.version, crowded)
    within_limits(card)
    assert {a["type"] for a in top_actions(card)} == {"Action.Execute"}
    assert {a["verb"] for a in top_actions(card)} == {"jointly.choice"}
    huge = replace(crowded, id="message:<" + "m" * 1900 + "@example.org>")
    with pytest.raises(TooLarge):
        prompt_card(case.ref, case.version, huge)


def test_a_sentence_understood_is_offered_for_confirmation() -> None:
    card = confirm_card("JC-261124-QZBD", "consent given by *phone* on 24 Nov", "packed")
    within_limits(card)
    assert texts(card) == ["Did you mean: consent given by *phone* on 24 Nov?", "JC-261124-QZBD"]
    assert card["body"][0]["inlines"][1]["weight"] == "Bolder"
    assert [(a["title"], a["verb"], a["data"], a.get("style")) for a in card["actions"]] == [
        ("Yes, record it", "jointly.confirm", {"packed": "packed"}, "positive"),
        ("No", "jointly.dismiss", {"packed": "packed"}, None),
    ]
    with pytest.raises(ValueError):
        confirm_card("JC-261124-QZBD", "too much", "x" * 2001)


def test_help_lists_the_questions_waiting_with_their_choices_and_the_sentences_understood(
    stages: list[Case], people: list[Actor], orgs: list[tuple[str, str]]
) -> None:
    case, prompt = stage(stages, "consent", people)
    card = help_card(case.ref, [prompt], version=case.version)
    within_limits(card)
    assert texts(card)[:2] == [f"Here is what I can do on {case.ref} now.", prompt.question]
    assert [a["title"] for a in top_actions(card)] == [choice.label for choice in prompt.choices]
    assert "• lead: <organisation>" in texts(card) and "• help" in texts(card)
    assert texts(card)[-6] == "You can also write, in the case thread or a direct message to me:"
    every = [replace(p, id=f"{p.id}:{n}") for n in range(20) for _, p in asked(stages[0], people)]
    crowded = help_card(case.ref, every, version=case.version)
    within_limits(crowded)
    more = [t for t in texts(crowded) if t.startswith("…and")]
    assert more and more[0].endswith("more, not shown here")
    assert int(more[0].split()[1]) >= len({p.id for p in every}) - 40
    _, other = stage(stages, "organisations", people)
    twice = help_card(case.ref, [prompt, other, prompt], version=case.version)
    assert [t for t in texts(twice) if t in (prompt.question, other.question)] == [
        prompt.question,
        other.question,
    ]
    nothing = help_card(case.ref, [], version=case.version)
    assert texts(nothing)[0] == f"Nothing is waiting on {case.ref} just now."


def test_forty_questions_of_thirty_choices_each_still_make_one_help_card(
    stages: list[Case], people: list[Actor], orgs: list[tuple[str, str]]
) -> None:
    case, related = stage(stages, "related", people)
    big = replace(related, choices=tuple(replace(related.choices[0], label="x" * 200) for _ in range(30)))
    many = [replace(big, id=f"related:JC-2611{n:02}-ABCD") for n in range(40)]
    card = help_card(case.ref, many, version=case.version)
    within_limits(card)
    assert any(t.startswith("…and") for t in texts(card))


def test_a_notice_has_read_it_and_a_done_question_has_no_actions() -> None:
    read = ReadRef("JC-261124-QZBD", "<m1|x@example.org>")
    card = notice_card("New email from *the council* on JC-261124-QZBD", read)
    within_limits(card)
    assert texts(card) == ["New email from *the council* on JC-261124-QZBD"]
    [action] = card["actions"]
    assert (action["title"], action["verb"]) == ("Read it", "jointly.read")
    assert ReadRef.decode(action["data"]["read"]) == read
    with pytest.raises(ValueError):
        notice_card("x", ReadRef("JC-1", "m" * 2000))
    done = done_card("Recorded: consent given by [phone](https://x.example).\n\nThank you.")
    within_limits(done)
    assert "actions" not in done and not actions(done)
    assert texts(done) == ["Recorded: consent given by [phone](https://x.example).", "Thank you."]


# --- the case in full ------------------------------------------------------------------------------


def test_the_case_in_full_keeps_every_character_in_as_many_cards_as_it_takes() -> None:
    lines = ["Case JC-261124-QZBD", "-------------------", "", "*Not bold* [not a link](x)"]
    lines += [f"Line {n}: " + "word " * 30 for n in range(600)]
    lines += ["", "Email", "-----", "x" * 7000, "y " * 5000]
    cards = full_cards(lines)
    assert len(cards) > 2
    for card in cards:
        within_limits(card)
        assert "actions" not in card
    runs = [r for card in cards for e in elements(card) if e["type"] == "TextRun" for r in [e]]
    assert runs[0] == {"type": "TextRun", "text": "Case JC-261124-QZBD", "weight": "Bolder"}
    assert runs[1]["text"] == "*Not bold* [not a link](x)" and "weight" not in runs[1]
    assert "Email" in [r["text"] for r in runs if r.get("weight") == "Bolder"]
    kept = "".join(r["text"] for r in runs).replace(" ", "")
    titles = {1, 2, len(lines) - 4, len(lines) - 3}  # underlines, left out
    whole = "".join(line for n, line in enumerate(lines) if n not in {1, len(lines) - 3}).replace(" ", "")
    assert kept == whole and len(titles) == 4
    assert full_cards([]) == []
