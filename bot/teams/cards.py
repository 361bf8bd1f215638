"""Adaptive Cards for the handlers' chat in Microsoft Teams: pure functions from prompts, case summaries
and notices to the JSON Teams takes, and from a submitted form back to plain answers for
`flows.conversation.fill`. The Teams counterpart of `bot.slack.blocks`, with the same meaning of an
answer: what a form shows already filled in is what the terminal keeps when Enter is pressed. What a
form's answers mean, and the words both chats say (refusals, days, the sentences offered), are
`bot.chat.forms`.

Cards are plain dicts, not `microsoft_teams.cards` models: a dict is what goes on the wire, so a test
reads exactly what Teams will get, and its size (the one limit Teams enforces) is measured on that
same JSON, in one place (`size`). The package's models are used by the tests, as a second opinion on
the property names.

Every card is schema version 1.5 (Teams supports up to 1.5; `Action.Execute`, the Universal Action
that reaches the bot as an `adaptiveCard/action` invoke with its `verb` and `data`, needs 1.4+). The
verbs and the data each carries:

    jointly.details  {"ref": ref}                 the case card's "Show details": the case in full
    jointly.menu     {"ref": ref}                 the case card's "More actions": the case's menu
    jointly.choice   {"button": ButtonRef}        a choice of a question; for a choice with fields
                                                  the app answers with `form_card` for the person who
                                                  pressed
    jointly.form     {"button": ButtonRef, ...}   a choice's form, submitted: Teams adds each input's
                                                  value under its id (`input_id`); read `form_values`
    jointly.confirm  {"packed": packed}           "Yes, record it" under a sentence understood
    jointly.dismiss  {"packed": packed}           "No"
    jointly.read     {"read": ReadRef}            "Read it" under a notice of a new email

Every choice of a question is a `jointly.choice` button, a choice with fields too: no form is ever
held in a posted card. A card is built once for the whole channel, from the question as asked of no
one in particular, so a form in it would open on the wrong defaults for whoever answers ("Name the
contact" fills in the answering handler's own name and email), and anyone in the channel could open
it. The app answers the press of a choice with fields with `form_card`, built for the person who
pressed it, as the invoke's response (a card replaced for the interactor only, REPLACE_FOR_INTERACTOR
in the Agents SDK), never in a message the channel sees; as Slack opens its modal per person.

Text: Teams reads a TextBlock's text as Markdown, so a name like "*x*" or "[a](b)" would format.
Text here is never in a TextBlock: it is in `RichTextBlock` text runs, which Adaptive Cards never
read as Markdown (learn.microsoft.com/adaptive-cards, text features), styled by the runs' own
properties. Nothing needs escaping and every name stays words; each line is its own block, since a
run's line breaks are not rendered alike everywhere.

Limits, from Microsoft's documentation, applied here once: a bot's message is at most 40 KB counted
as UTF-16 (Teams "Format your bot messages"; lately raised to about 100 KB), a webhook's or a
workflow's 28 KB; a card is kept within `CARD_BYTES` (28 KB of its JSON as UTF-16), which leaves room
for the activity around it under the bot limit. Teams shows 6 actions of a set and puts the rest
behind "...", so actions come in sets of `ACTIONS_SHOWN`. A multi-select's answer is its values
joined by "," (Input.Choice in the Adaptive Cards schema), so no value may hold one. Teams has no
date-and-time input (1.5 has Input.Date and Input.Time), so a DATETIME field is the two, read as
London time, as the terminal reads a typed one. Teams sets no limit on one text, but a card must fit:
text that could grow is cut here and ends in "…" (`_cut`), except in `full_cards`, which cuts
nothing, and a form's own answers, which are never cut (a default too long is not shown, as in
Slack); what cannot fit even so raises `TooLarge`.

Privacy (DOMAIN.md section 4): chat shows the case reference, status, organisations, lead, dates and
the task. Callers pass nothing else and nothing here asks for more; the one exception is the case (or
one email on it) in full, which the app sends only to a handler of the organisation holding it, for
their eyes (`full_cards`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time
from enum import IntEnum, StrEnum
from typing import Any

from bot.chat.forms import (
    NEEDED,
    NOT_A_DATE,
    NOT_A_TIME,
    NOT_OFFERED,
    NOT_WHOLE,
    SENTENCES,
    TOO_LONG,
    YES_NO,
    deadlines,
    long_day,
    read_form,
    short_day,
    titled,
    unshown,
)
from bot.chat.forms import card_text as card_text  # the front takes them from here
from bot.chat.forms import text_of as text_of
from bot.chat.refs import BUTTON_VALUE, ButtonRef, ReadRef, status_words
from flows.calendar import LONDON, london_date
from flows.codec import to_plain
from flows.conversation import Field, FieldKind, Prompt

Card = dict[str, Any]


class Verb(StrEnum):
    """Every `Action.Execute` verb the Teams app listens for."""

    DETAILS = "jointly.details"
    MENU = "jointly.menu"
    CHOICE = "jointly.choice"
    FORM = "jointly.form"
    CONFIRM = "jointly.confirm"
    DISMISS = "jointly.dismiss"
    READ = "jointly.read"


class TooLarge(ValueError):
    """Even the most compact card for this is over Teams' size limit (a question whose ids run to
    thousands of characters, a directory of hundreds of organisations): it cannot be posted."""


VERSION = "1.5"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_BYTES = 28 * 1024  # a whole card's JSON, as UTF-16
ACTIONS_SHOWN = 6  # of an action set, before Teams tucks the rest behind "..."
# Lengths, in characters, that keep every card within CARD_BYTES (Teams has none of its own).
TEXT, NAMES, NAME, WHAT, LABEL, TITLE, OPTION, COMPACT_OPTION = 3000, 1000, 300, 200, 300, 75, 75, 30
PIECE = 2000  # a piece of a line in `full_cards`
OPTION_VALUE = 150  # an option's value sent back: an organisation's id, a code
DEADLINES_SHOWN, HELP_PROMPTS = 8, 40
FIELD = "field"  # input ids: f"field.{digest}.{name}", never a key of an action's data


class _Level(IntEnum):
    """How long a form's option titles are, tried in turn until `form_card` fits."""

    FULL = 0  # options in full
    COMPACT = 1  # option titles shortened


# --- sizes -----------------------------------------------------------------------------------------


def size(card: Mapping[str, Any]) -> int:
    """The card's JSON in bytes of UTF-16, as Teams counts a message."""
    return len(json.dumps(card, ensure_ascii=False).encode("utf-16-le"))


def fits(card: Mapping[str, Any]) -> bool:
    return size(card) <= CARD_BYTES


# --- the case thread -------------------------------------------------------------------------------


def case_card(summary: Mapping[str, Any], *, today: date) -> Card:
    """The root message of a case's thread, from `flows.summary.summarise`, updated in place."""
    ref = str(summary["ref"])
    owed = deadlines(summary.get("deadlines") or [])
    upcoming = deadlines([summary["next_deadline"]] if summary.get("next_deadline") else [])
    received = summary.get("received_at")
    facts: list[tuple[str, list[Card]]] = [
        ("Status", [_run(status_words(summary.get("status")), TITLE)]),
        (
            "Organisations",
            [_run(", ".join(summary.get("organisations") or ()) or "not identified yet", NAMES)],
        ),
        ("Lead", [_run(summary.get("lead") or "not agreed yet", NAME)]),
        (
            "Received",
            [_run(long_day(london_date(datetime.fromisoformat(received))) if received else "not yet")],
        ),
        ("Next deadline", _deadline(*upcoming[0], today, long_day) if upcoming else [_run("none")]),
    ]
    lines = [_rich(_run("• "), *_deadline(on, what, today, short_day)) for on, what in owed[:DEADLINES_SHOWN]]
    if len(owed) > DEADLINES_SHOWN:
        lines.append(_rich(_run(f"…and {len(owed) - DEADLINES_SHOWN} more")))
    body = [
        _rich(_run(ref, TITLE, size="Large", weight="Bolder")),
        *(_rich(_run(f"{name}: ", weight="Bolder"), *value) for name, value in facts),
        _rich(_run("Who owes what", weight="Bolder"), spacing="Medium"),
        *(lines or [_rich(_run("Nothing outstanding."))]),
    ]
    actions = [
        _execute("Show details", Verb.DETAILS, {"ref": ref}),
        _execute("More actions", Verb.MENU, {"ref": ref}),
    ]
    return _card(body, actions)


def prompt_card(ref: str, version: int, prompt: Prompt) -> Card:
    """The question, its detail and its case, then a `jointly.choice` button per choice, a choice
    with fields too (its form is `form_card`, for the person who presses)."""
    card = _card([*_question(ref, prompt), *_action_sets(_choices(ref, version, prompt))])
    if fits(card):
        return card
    raise TooLarge(f"the question {prompt.id[:80]!r} on {ref} is too large for a Teams card")


def done_card(text: str) -> Card:
    """What replaces an answered question: `text`, as words, and no actions."""
    return _card(_paragraphs(text, TEXT))


def confirm_card(ref: str, wording: str, packed: str) -> Card:
    """A sentence understood as `wording`: record it, or not."""
    if len(packed) > BUTTON_VALUE:
        raise ValueError(f"what a button carries is at most {BUTTON_VALUE} characters")
    body = [
        _rich(_run("Did you mean: "), _run(wording, TEXT, weight="Bolder"), _run("?")),
        _rich(_run(ref, TITLE, isSubtle=True)),
    ]
    actions = [
        _execute("Yes, record it", Verb.CONFIRM, {"packed": packed}, style="positive"),
        _execute("No", Verb.DISMISS, {"packed": packed}),
    ]
    return _card(body, actions)


def help_card(ref: str, prompts: Sequence[Prompt], *, version: int) -> Card:
    """The questions waiting on `ref`, each with its choices as in `prompt_card` (case version
    `version`), and the sentences understood. As many questions as the card holds, at most
    `HELP_PROMPTS`; the rest are counted. A question given twice (by its id) is shown once."""
    first: dict[str, Prompt] = {}
    for prompt in prompts:
        first.setdefault(prompt.id, prompt)
    prompts = list(first.values())
    said = [_rich(_run("You can also write, in the case thread or a direct message to me:", weight="Bolder"))]
    said += [_rich(_run("• "), _run(sentence, fontType="Monospace")) for sentence in SENTENCES]

    def card(shown: int) -> Card:
        if not prompts:
            body = [_rich(_run(f"Nothing is waiting on {ref} just now.", TEXT))]
        else:
            body = [_rich(_run(f"Here is what I can do on {ref} now.", TEXT, weight="Bolder"))]
        for prompt in prompts[:shown]:
            body.append(_rich(_run(prompt.question, TEXT, weight="Bolder"), separator=True, spacing="Medium"))
            body += _action_sets(_choices(ref, version, prompt))
        if len(prompts) > shown:
            body.append(_rich(_run(f"…and {len(prompts) - shown} more, not shown here", isSubtle=True)))
        return _card([*body, *said])

    for shown in range(min(len(prompts), HELP_PROMPTS), -1, -1):
        fewer = card(shown)
        if fits(fewer):
            return fewer
    raise TooLarge(f"help on {ref} is too large for a Teams card")


def notice_card(text: str, read: ReadRef) -> Card:
    """A notice of a new email in a case thread, with "Read it": the notice never holds the email,
    and the action shows it only to those who may see it."""
    value = read.encode()
    if len(value) > BUTTON_VALUE:
        raise ValueError(f"what a button carries is at most {BUTTON_VALUE} characters")
    return _card(_paragraphs(text, TEXT), [_execute("Read it", Verb.READ, {"read": value})])


def full_cards(lines: Sequence[str]) -> list[Card]:
    """Lines of `bot.case_text` as cards, every character of every line kept, in as many cards as
    Teams' size limit needs: a line too long for one block is split between words (or, in a word
    longer than that, anywhere). A line underlined with dashes is a title, shown in bold."""
    blocks: list[Card] = []
    gap = False
    for line, title in titled(lines):
        if not line.strip():
            gap = bool(blocks)
            continue
        for piece in filter(None, _pieces(line, PIECE)):
            style = {"weight": "Bolder"} if title else {}
            spacing = {"spacing": "Medium"} if gap else {}
            blocks.append(_rich({"type": "TextRun", "text": piece, **style}, **spacing))
            gap = False
    cards: list[Card] = []
    empty = size(_card([]))
    page: list[Card] = []
    used = empty
    for block in blocks:
        more = size(block) + (4 if page else 0)  # and the ", " between two blocks
        if page and used + more > CARD_BYTES:
            cards.append(_card(page))
            page, used = [], empty
            more = size(block)
        page.append(block)
        used += more
    if page:
        cards.append(_card(page))
    return cards


def _pieces(line: str, limit: int) -> Iterator[str]:
    """A line in pieces of at most `limit` characters, broken at a space (which the break
    replaces), or anywhere in a word longer than that."""
    while len(line) > limit:
        space = line.rfind(" ", 1, limit + 1)
        cut = space if space > 0 else limit
        yield line[:cut]
        line = line[cut + 1 if space > 0 else cut :]
    yield line


# --- forms -----------------------------------------------------------------------------------------


def form_card(
    ref: str,
    version: int,
    prompt: Prompt,
    index: int,
    orgs: Sequence[tuple[str, str]],
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Card:
    """The form for `prompt.choices[index]` standing alone, submitted as `jointly.form`.

    `values` are plain answers by field name (what `form_values` kept, or what a sentence said),
    shown in place of the defaults; `errors` are texts by field name (`form_values`' second result),
    each shown under its field.
    """
    if not 0 <= index < len(prompt.choices):
        raise ValueError(f"prompt {prompt.id!r} has no choice {index}")
    choice = prompt.choices[index]
    intro = [
        *_question(ref, prompt),
        _rich(_run(choice.label, TEXT, weight="Bolder"), spacing="Medium"),
    ]
    for level in (_Level.FULL, _Level.COMPACT):
        form = _form(ref, version, prompt, index, orgs, level, values, errors)
        card = _card([*intro, *form["body"]], form["actions"])
        if fits(card):
            return card
    raise TooLarge(f"the form for {prompt.id[:80]!r} on {ref} is too large for a Teams card")


def input_id(button: str, name: str) -> str:
    """The id of a field's input in the form of the choice `button` (a `ButtonRef`, encoded): its own
    to that choice (a form sent for one choice is not read as another's), short, and never a key of
    the action's data."""
    digest = hashlib.sha256(button.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{FIELD}.{digest}.{name}"


def form_values(fields: Sequence[Field], data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A submitted form's `Action.Execute` data as plain answers for `fill`, and errors by field name.

    Teams sends every input as a string ("" or nothing when empty): dates "YYYY-MM-DD", times
    "HH:MM" (London time), a multi-select as its values joined by ",". Dates come back as
    "YYYY-MM-DD", a date and time as an ISO moment in UTC, organisations as ids for the caller to look
    up. An optional field left empty is left out, so the command keeps its own value. The data is
    untrusted: anything not offered, not a number or not a date is refused with its error.
    Raises ValueError when the data names no choice (`button`) at all.
    """
    raw = data.get("button") if isinstance(data, Mapping) else None
    if not isinstance(raw, str):
        raise ValueError("not a jointly form: it names no choice")
    button = ButtonRef.decode(raw).encode()
    return read_form(fields, lambda field: _answer(field, data, input_id(button, field.name)))


def _choices(ref: str, version: int, prompt: Prompt) -> list[Card]:
    """A `jointly.choice` button per choice: a form is never held in a card the channel sees."""
    return [
        _execute(choice.label, Verb.CHOICE, {"button": ButtonRef(ref, version, prompt.id, i).encode()})
        for i, choice in enumerate(prompt.choices)
    ]


def _form(
    ref: str,
    version: int,
    prompt: Prompt,
    index: int,
    orgs: Sequence[tuple[str, str]],
    level: _Level,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Card:
    """A choice's inputs and its "Record", for `form_card`."""
    button = ButtonRef(ref, version, prompt.id, index).encode()
    body: list[Card] = []
    for field in prompt.choices[index].fields:
        shown = values[field.name] if values is not None and field.name in values else field.default
        body += _inputs(field, input_id(button, field.name), orgs, shown, level)
        if errors and errors.get(field.name):
            body.append(_rich(_run(errors[field.name], LABEL, color="Attention")))
    return {
        "type": "AdaptiveCard",
        "body": body,
        "actions": [_execute("Record", Verb.FORM, {"button": button})],
    }


def _inputs(field: Field, key: str, orgs: Sequence[tuple[str, str]], shown: Any, level: _Level) -> list[Card]:
    """A field's input (two for a date and time), filled in with `shown`, and its hint if any."""
    required = field.required and not unshown(field)
    base: Card = {"id": key, "label": _cut(field.label, LABEL)}
    if required:
        base |= {"isRequired": True, "errorMessage": NEEDED}
    kind = field.kind
    plain = to_plain(shown)
    hint: list[Card] = []
    if kind is FieldKind.TEXT:
        text = plain if isinstance(plain, str) else ""
        if unshown(field) and text == field.default:
            text = ""
            hint = [_rich(_run(TOO_LONG.format(n=len(field.default)), LABEL, isSubtle=True))]
        multiline = field.long or "\n" in text
        element = {"type": "Input.Text", **base, "isMultiline": multiline, **_value(text)}
    elif kind is FieldKind.LINES:
        lines = [str(line) for line in plain] if isinstance(plain, list | tuple) else []
        element = {"type": "Input.Text", **base, "isMultiline": True, **_value("\n".join(lines))}
    elif kind is FieldKind.DATE:
        day = _day(plain)
        element = {"type": "Input.Date", **base, **_value(day.isoformat() if day else "")}
    elif kind is FieldKind.DATETIME:
        moment = _moment(shown)
        at_time: Card = {"id": f"{key}.time", "label": "Time (London)"}
        if required:
            at_time |= {"isRequired": True, "errorMessage": NOT_A_TIME}
        return [
            {"type": "Input.Date", **base, **_value(f"{moment:%Y-%m-%d}" if moment else "")},
            {"type": "Input.Time", **at_time, **_value(f"{moment:%H:%M}" if moment else "")},
        ]
    elif kind is FieldKind.INT:
        number = plain if isinstance(plain, int) and not isinstance(plain, bool) else None
        element = {"type": "Input.Number", **base, **({"value": number} if number is not None else {})}
    elif kind is FieldKind.BOOL:
        chosen = ("yes" if plain else "no",) if isinstance(plain, bool) else ()
        element = _select(base, YES_NO, chosen, level, style="expanded")
    elif kind is FieldKind.CHOICE:
        element = _select(base, field.options, () if plain is None else (str(plain),), level)
    elif kind is FieldKind.ORGANISATIONS:
        ids = [str(_org_id(org)) for org in shown or ()] if isinstance(shown, list | tuple) else []
        element = _select(base, orgs, ids, level, multi=True)
    else:
        picked = [str(v) for v in plain] if isinstance(plain, list | tuple) else []
        element = _select(base, field.options, picked, level, multi=True)
    return [element, *hint]


def _select(
    base: Card,
    options: Sequence[tuple[str, str]],
    chosen: Sequence[str],
    level: _Level,
    *,
    style: str = "compact",
    multi: bool = False,
) -> Card:
    if any("," in value or not value for value, _ in options):
        raise ValueError("an option's value must be non-empty and hold no comma (a multi-select joins them)")
    title = OPTION if level is _Level.FULL else COMPACT_OPTION
    offered = {value for value, _ in options}
    picked = [v for v in dict.fromkeys(chosen) if v in offered]  # in the default's order
    element: Card = {
        "type": "Input.ChoiceSet",
        **base,
        "style": style,
        "choices": [{"title": _cut(label, title), "value": value} for value, label in options],
    }
    if multi:
        element["isMultiSelect"] = True
    if picked:
        element["value"] = ",".join(picked) if multi else picked[0]
    return element


def _answer(field: Field, data: Mapping[str, Any], key: str) -> Any:
    """The answer in a field's input(s), None when empty; ValueError when it cannot be used."""
    kind = field.kind
    if kind is FieldKind.DATETIME:
        return _moment_answer(
            field, _string(data.get(key), NOT_A_TIME), _string(data.get(f"{key}.time"), NOT_A_TIME)
        )
    if kind is FieldKind.LINES:
        lines = [line.strip() for line in _string(data.get(key), NOT_OFFERED).splitlines()]
        return [line for line in lines if line] or None
    if kind is FieldKind.TEXT:
        return _string(data.get(key), NOT_OFFERED) or None
    if kind is FieldKind.INT:
        raw = data.get(key)
        text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else _string(raw, NOT_WHOLE)
        if not text:
            return None
        if not re.fullmatch(r"[0-9]{1,9}", text):
            raise ValueError(NOT_WHOLE)
        return int(text)
    if kind is FieldKind.DATE:
        text = _string(data.get(key), NOT_A_DATE)
        return _iso_day(text).isoformat() if text else None
    text = _string(data.get(key), NOT_OFFERED)
    if not text:
        return None
    parts = [part.strip() for part in text.split(",")]
    if not all(0 < len(v) <= OPTION_VALUE and v.isprintable() for v in parts):
        raise ValueError(NOT_OFFERED)
    offered = {v for v, _ in (YES_NO if kind is FieldKind.BOOL else field.options)}
    if kind is not FieldKind.ORGANISATIONS and not offered.issuperset(parts):
        raise ValueError(NOT_OFFERED)
    if kind in (FieldKind.BOOL, FieldKind.CHOICE):
        if len(parts) != 1:
            raise ValueError(NOT_OFFERED)
        return parts[0] == "yes" if kind is FieldKind.BOOL else parts[0]
    picked = list(dict.fromkeys(parts))
    default = field.default if isinstance(field.default, list | tuple) else ()
    first = [v for v in dict.fromkeys(str(_org_id(d)) for d in default) if v in picked]
    return first + [v for v in picked if v not in first]  # an unchanged default keeps its order


def _moment_answer(field: Field, day: str, at: str) -> str | None:
    if not day and not at:
        return None
    if not day or not at:
        raise ValueError(NOT_A_TIME)
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?", at):
        raise ValueError(NOT_A_TIME)
    moment = datetime.combine(_iso_day(day), time.fromisoformat(at), tzinfo=LONDON)
    shown = _moment(field.default)
    if shown is not None and f"{shown:%Y-%m-%d %H:%M}" == f"{moment:%Y-%m-%d %H:%M}" and len(at) == 5:
        moment = shown  # the default as shown: kept to the second
    return moment.astimezone(UTC).isoformat()


def _string(raw: object, error: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ValueError(error)
    return raw.strip()


def _iso_day(text: str) -> date:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise ValueError(NOT_A_DATE)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(NOT_A_DATE) from None


def _day(value: object) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _moment(value: object) -> datetime | None:
    """A date and time as London shows it, from a datetime or its ISO text; None for anything else."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return None
    if not isinstance(moment, datetime):
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=LONDON)).astimezone(LONDON)


def _org_id(org: object) -> object:
    if isinstance(org, Mapping):
        return org.get("id", "")
    return getattr(org, "id", org)


def _value(text: str) -> Card:
    return {"value": text} if text else {}


# --- pieces ----------------------------------------------------------------------------------------


def _card(body: list[Card], actions: list[Card] | None = None) -> Card:
    card: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        card["actions"] = actions
    return card


def _question(ref: str, prompt: Prompt) -> list[Card]:
    """The question in bold, its detail, and its case: a person asked on two cases can tell them apart."""
    return [
        _rich(_run(prompt.question, TEXT, weight="Bolder")),
        *(_paragraphs(prompt.detail, TEXT) if prompt.detail else []),
        _rich(_run(ref, TITLE, isSubtle=True)),
    ]


def _action_sets(actions: list[Card]) -> list[Card]:
    return [
        {"type": "ActionSet", "actions": actions[i : i + ACTIONS_SHOWN]}
        for i in range(0, len(actions), ACTIONS_SHOWN)
    ]


def _execute(title: str, verb: Verb, data: Mapping[str, str], *, style: str = "") -> Card:
    action: Card = {
        "type": "Action.Execute",
        "title": _cut(title, TITLE),
        "verb": verb.value,
        "data": dict(data),
    }
    return action | ({"style": style} if style else {})


def _deadline(on: date, what: str, today: date, day: Callable[[date], str]) -> list[Card]:
    if on < today:
        return [
            _run("⚠ OVERDUE", weight="Bolder", color="Attention"),
            _run(f" {day(on)}: "),
            _run(what, WHAT),
        ]
    if on == today:
        return [_run("today", weight="Bolder"), _run(f", {day(on)}: "), _run(what, WHAT)]
    return [_run(f"{day(on)}: "), _run(what, WHAT)]


def _paragraphs(text: str, limit: int) -> list[Card]:
    """`text` cut to `limit`, a block per line; a blank line spaces the next one out."""
    blocks: list[Card] = []
    gap = False
    for line in _cut(text, limit).splitlines():
        if not line.strip():
            gap = bool(blocks)
            continue
        blocks.append(_rich(_run(line, limit), **({"spacing": "Medium"} if gap else {})))
        gap = False
    return blocks or [_rich(_run("–"))]


def _rich(*runs: Card, **props: Any) -> Card:
    """Text that Teams never reads as Markdown: a name like "*x*" stays words."""
    return {"type": "RichTextBlock", "inlines": list(runs), **props}


def _run(text: str, limit: int = TEXT, **style: Any) -> Card:
    return {"type": "TextRun", "text": _cut(text, limit), **style}


def _cut(text: str, limit: int) -> str:
    """`text` within `limit`; a cut one ends in "…"."""
    text = text or "–"
    return text if len(text) <= limit else text[: limit - 1] + "…"
