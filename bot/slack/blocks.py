"""Block Kit for the handlers' chat: pure functions from prompts, case summaries and to-do items to
the JSON Slack takes, and from a submitted form back to plain answers for `flows.conversation.fill`.

It renders the same prompts as `bot.terminal`, with the same meaning of an answer: what the
terminal keeps when Enter is pressed is what the form shows already filled in (what a form's answers
mean, and the words every chat says, are `bot.chat.forms`, shared with `bot.teams.cards`). Nothing
here talks to Slack, so every shape can be tested as data.

Privacy (DOMAIN.md section 4): chat shows the case reference, status, organisations, lead, dates and
the task. Callers pass nothing else and nothing here asks for more; the one exception is the case (or
one email on it) in full, which the app sends only to a handler of the organisation holding it, for
their eyes (`full_pages`). Slack's size limits (Block Kit reference on docs.slack.dev) are applied
here, once: text that could grow is cut and ends in "…", except in `full_pages`, which cuts nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from bot.chat.forms import (
    NOT_A_DATE,
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
from bot.chat.forms import card_text as card_text  # the fronts take them from here
from bot.chat.forms import text_of as text_of
from bot.chat.refs import BUTTON_VALUE, ButtonRef, ReadRef, status_words
from flows.calendar import london_date
from flows.codec import to_plain
from flows.conversation import Field, FieldKind, Prompt

Block = dict[str, Any]


class ActionId(StrEnum):
    """Every id the Slack app listens for."""

    CHOICE = "jointly:choice"  # a prompt's button: f"jointly:choice:{index}" (`CHOICE_ACTION`)
    DETAILS = "jointly:details"  # the card's "Show details": the case in full
    READ = "jointly:read_message"  # "Read it" under a notice of a new email: that email in full
    MENU = "jointly:menu"  # the card's "More actions": the case's menu, for its coordinating handler
    CONFIRM = "jointly:confirm"
    DISMISS = "jointly:dismiss"
    OPEN_THREAD = "jointly:open_thread"
    FORM = "jointly:form"  # the callback_id of a choice's form
    VALUE = "value"  # the action_id of every input in that form


CHOICE_ACTION = re.compile(r"^jointly:choice:\d+$")

# Slack's limits, in characters unless said otherwise.
TEXT, FIELD_TEXT, HEADER, LABEL = 3000, 2000, 150, 2000
BUTTON_TEXT, URL, OPTION_TEXT, OPTION_VALUE, VIEW_TEXT = 75, 3000, 75, 150, 24
ACTIONS_PER_BLOCK, OPTIONS, MODAL_BLOCKS, HOME_BLOCKS = 25, 100, 100, 100
PAGE_BLOCKS = 4  # sections in one message of `full_pages`: about 12,000 characters, well within limits
DEADLINES_SHOWN, HELP_PROMPTS, HOME_ITEMS = 8, 40, 90


@dataclass(frozen=True)
class HomeItem:
    """One thing waiting for a person, for the App Home tab."""

    ref: str
    what: str
    due: date | None
    status: str
    url: str | None


# --- the case thread -------------------------------------------------------------------------------


def case_card(summary: Mapping[str, Any], *, today: date) -> list[Block]:
    """The root message of a case's thread, from `flows.summary.summarise`."""
    ref = str(summary["ref"])
    owed = deadlines(summary.get("deadlines") or [])
    upcoming = deadlines([summary["next_deadline"]] if summary.get("next_deadline") else [])
    received = summary.get("received_at")
    facts = [
        ("Status", _esc(status_words(summary.get("status")))),
        ("Organisations", _esc(", ".join(summary.get("organisations") or ()) or "not identified yet")),
        ("Lead", _esc(summary.get("lead") or "not agreed yet")),
        ("Received", long_day(london_date(datetime.fromisoformat(received))) if received else "not yet"),
        ("Next deadline", _deadline(*upcoming[0], today, long_day) if upcoming else "none"),
    ]
    lines = [f"• {_deadline(on, what, today, short_day)}" for on, what in owed[:DEADLINES_SHOWN]]
    if len(owed) > DEADLINES_SHOWN:
        lines.append(f"…and {len(owed) - DEADLINES_SHOWN} more")
    return [
        {"type": "header", "text": _plain(ref, HEADER)},
        {"type": "section", "fields": [_mrkdwn(f"*{name}*\n{value}", FIELD_TEXT) for name, value in facts]},
        {
            "type": "section",
            "text": _mrkdwn("*Who owes what*\n" + ("\n".join(lines) or "Nothing outstanding.")),
        },
        {
            "type": "actions",
            "elements": [
                _button("Show details", ActionId.DETAILS, value=ref),
                _button("More actions", ActionId.MENU, value=ref),
            ],
        },
    ]


def prompt_blocks(ref: str, version: int, prompt: Prompt) -> list[Block]:
    """The question and its case, then a button per choice; a choice with fields opens `choice_modal`."""
    buttons = [
        _button(choice.label, choice_action(i), value=ButtonRef(ref, version, prompt.id, i).encode())
        for i, choice in enumerate(prompt.choices)
    ]
    rows = [buttons[i : i + ACTIONS_PER_BLOCK] for i in range(0, len(buttons), ACTIONS_PER_BLOCK)]
    case = {"type": "context", "elements": [_mrkdwn(_esc(ref))]}
    return [_question(prompt), case, *({"type": "actions", "elements": row} for row in rows)]


def done_blocks(text: str) -> list[Block]:
    """What replaces an answered question: `text` as mrkdwn, written by the caller, buttons gone."""
    return [{"type": "section", "text": _mrkdwn(text)}]


def confirm_blocks(ref: str, text: str, value: str) -> list[Block]:
    """A sentence understood as `text`: record it, or not."""
    return [
        {"type": "section", "text": _mrkdwn(f"Did you mean: *{_esc(text)}*?")},
        {"type": "context", "elements": [_mrkdwn(_esc(ref))]},
        {
            "type": "actions",
            "elements": [
                _button("Yes, record it", ActionId.CONFIRM, value=value, style="primary"),
                _button("No", ActionId.DISMISS, value=value),
            ],
        },
    ]


def help_blocks(ref: str, prompts: Sequence[Prompt]) -> list[Block]:
    """The questions waiting on `ref` with their choices, and the sentences understood."""
    title = f"*Waiting on {_esc(ref)}*" if prompts else f"Nothing is waiting on {_esc(ref)} just now."
    blocks: list[Block] = [{"type": "section", "text": _mrkdwn(title)}]
    for prompt in prompts[:HELP_PROMPTS]:
        choices = " · ".join(_esc(choice.label) for choice in prompt.choices)
        blocks.append({"type": "section", "text": _mrkdwn(f"*{_esc(prompt.question)}*\n{choices}")})
    if len(prompts) > HELP_PROMPTS:
        blocks.append({"type": "context", "elements": [_mrkdwn(f"…and {len(prompts) - HELP_PROMPTS} more")]})
    said = "\n".join(f"• `{_esc(sentence)}`" for sentence in SENTENCES)
    where = "*You can also write, in the case thread or a direct message to me:*"
    blocks.append({"type": "section", "text": _mrkdwn(f"{where}\n{said}")})
    return blocks


def notice_blocks(text: str, read: ReadRef) -> list[Block]:
    """A notice of a new email in a case thread, with "Read it": the notice never holds the email,
    and the button shows it only to those who may see it."""
    return [
        {"type": "section", "text": _mrkdwn(_esc(text))},
        {"type": "actions", "elements": [_button("Read it", ActionId.READ, value=read.encode())]},
    ]


def full_pages(lines: Sequence[str]) -> list[list[Block]]:
    """Lines of `bot.case_text` as messages of section blocks, every character of every text kept:
    split between lines, or between words for a line too long for a block. A line underlined with
    dashes is a title, shown in bold."""
    texts = (chunk.strip("\n") for chunk in _chunks(_titled(lines), TEXT))
    sections = [{"type": "section", "text": _mrkdwn(text)} for text in texts if text.strip()]
    return [sections[n : n + PAGE_BLOCKS] for n in range(0, len(sections), PAGE_BLOCKS)]


def _titled(lines: Sequence[str]) -> Iterator[str]:
    """The lines escaped for mrkdwn, each title bold in place of its underline."""
    for line, title in titled(lines):
        yield f"*{_esc(line)}*" if title else _esc(line)


def _chunks(lines: Iterable[str], limit: int) -> Iterator[str]:
    """The lines joined into texts of at most `limit` characters, as few as can be."""
    chunk: list[str] = []
    size = -1
    for piece in (piece for line in lines for piece in _pieces(line, limit)):
        if chunk and size + 1 + len(piece) > limit:
            yield "\n".join(chunk)
            chunk, size = [], -1
        chunk.append(piece)
        size += 1 + len(piece)
    if chunk:
        yield "\n".join(chunk)


def _pieces(line: str, limit: int) -> Iterator[str]:
    """A line in pieces of at most `limit` characters: broken at a space (which the break replaces),
    or, in a word longer than that, anywhere but inside an escape like "&amp;"."""
    while len(line) > limit:
        space = line.rfind(" ", 1, limit + 1)
        if space > 0:
            yield line[:space]
            line = line[space + 1 :]
            continue
        amp = line.rfind("&", limit - 4, limit)
        cut = amp if amp > 0 and ";" not in line[amp:limit] else limit
        yield line[:cut]
        line = line[cut:]
    yield line


# --- forms -----------------------------------------------------------------------------------------


def choice_modal(
    ref: str, version: int, prompt: Prompt, index: int, orgs: Sequence[tuple[str, str]]
) -> Block:
    """The form for `prompt.choices[index]`: one input per field, filled in with its default.

    `orgs` are the (id, name) pairs offered for an organisations field.
    """
    if not 0 <= index < len(prompt.choices):
        raise ValueError(f"prompt {prompt.id!r} has no choice {index}")
    choice = prompt.choices[index]
    intro = {"type": "section", "text": _mrkdwn(f"*{_esc(prompt.question)}*\n{_esc(choice.label)}")}
    return {
        "type": "modal",
        "callback_id": ActionId.FORM.value,
        "private_metadata": ButtonRef(ref, version, prompt.id, index).encode(),
        "title": _plain(ref, VIEW_TEXT),
        "submit": _plain("Record", VIEW_TEXT),
        "close": _plain("Cancel", VIEW_TEXT),
        "blocks": [intro, *(_input(field, orgs) for field in choice.fields)][:MODAL_BLOCKS],
    }


def notice_modal(text: str) -> Block:
    """A form's last word: `text` and a button to close it."""
    return {
        "type": "modal",
        "title": _plain("jointly", VIEW_TEXT),
        "close": _plain("Close", VIEW_TEXT),
        "blocks": [{"type": "section", "text": _mrkdwn(_esc(text))}],
    }


def form_values(
    fields: Sequence[Field], state_values: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """A submitted form's `view.state.values` as plain answers for `fill`, and errors by block id.

    Dates come back as "YYYY-MM-DD", organisations as ids for the caller to look up. An optional
    field left empty is left out, so the command keeps its own value.
    """

    def answer(field: Field) -> Any:
        block = state_values.get(field.name)
        state = block.get(ActionId.VALUE.value) if isinstance(block, Mapping) else None
        return _answer(field, state if isinstance(state, Mapping) else {})

    return read_form(fields, answer)


def _input(field: Field, orgs: Sequence[tuple[str, str]]) -> Block:
    block = {
        "type": "input",
        "block_id": field.name,
        "label": _plain(field.label, LABEL),
        "optional": not field.required or unshown(field),
        "element": {**_element(field, orgs), "action_id": ActionId.VALUE.value},
    }
    if unshown(field):
        block["hint"] = _plain(TOO_LONG.format(n=len(field.default)), LABEL)
    return block


def _element(field: Field, orgs: Sequence[tuple[str, str]]) -> Block:
    default = to_plain(field.default)
    kind = field.kind
    if kind is FieldKind.TEXT:
        shown = {"initial_value": default} if default and not unshown(field) else {}
        return {"type": "plain_text_input", "multiline": True, **shown}
    if kind is FieldKind.LINES:
        shown = {"initial_value": "\n".join(default)} if default else {}
        return {"type": "plain_text_input", "multiline": True, **shown}
    if kind is FieldKind.DATETIME:
        moment = field.default
        return {
            "type": "datetimepicker",
            **({"initial_date_time": int(moment.timestamp())} if moment else {}),
        }
    if kind is FieldKind.DATE:
        return {"type": "datepicker", **({"initial_date": default} if default else {})}
    if kind is FieldKind.INT:
        shown = {"initial_value": str(default)} if default is not None else {}
        return {"type": "number_input", "is_decimal_allowed": False, **shown}
    if kind is FieldKind.BOOL:
        return _select("radio_buttons", YES_NO, () if default is None else ("yes" if default else "no",))
    if kind is FieldKind.CHOICE:
        return _select("static_select", field.options, () if default is None else (str(default),))
    if kind is FieldKind.ORGANISATIONS:
        ids = [str(getattr(org, "id", org)) for org in field.default or ()]
        return _select("multi_static_select", orgs, ids)
    return _select("multi_static_select", field.options, [str(v) for v in default or ()])


def _select(kind: str, options: Sequence[tuple[str, str]], chosen: Sequence[str]) -> Block:
    made = [{"text": _plain(label, OPTION_TEXT), "value": value} for value, label in options]
    element: Block = {"type": kind}
    if len(made) <= OPTIONS:
        element["options"] = made
    else:
        starts = range(0, len(made), OPTIONS)
        element["option_groups"] = [
            {
                "label": _plain(f"{i + 1}–{min(i + OPTIONS, len(made))}", OPTION_TEXT),
                "options": made[i : i + OPTIONS],
            }
            for i in starts
        ][:OPTIONS]
    by_value = {option["value"]: option for option in made}
    picked = [by_value[v] for v in dict.fromkeys(chosen) if v in by_value]  # in the default's order
    if picked and kind == "multi_static_select":
        element["initial_options"] = picked
    elif picked:
        element["initial_option"] = picked[0]
    return element


def _answer(field: Field, state: Mapping[str, Any]) -> Any:
    """The answer in one input's state, None when it is empty; ValueError when it cannot be used."""
    kind = field.kind
    if kind is FieldKind.DATETIME:
        moment = state.get("selected_date_time")
        if moment is None:
            return None
        if not isinstance(moment, int) or isinstance(moment, bool):
            raise ValueError(NOT_A_DATE)
        return datetime.fromtimestamp(moment, UTC).isoformat()
    if kind is FieldKind.LINES:
        lines = [line.strip() for line in str(state.get("value") or "").splitlines()]
        return [line for line in lines if line] or None
    if kind in (FieldKind.TEXT, FieldKind.INT, FieldKind.DATE):
        return _typed(kind, state.get("selected_date" if kind is FieldKind.DATE else "value"))
    if kind in (FieldKind.BOOL, FieldKind.CHOICE):
        chosen = [state["selected_option"]] if state.get("selected_option") else []
    else:
        chosen = state.get("selected_options") or []
    if not isinstance(chosen, list) or not all(_option(o) for o in chosen):
        raise ValueError(NOT_OFFERED)
    picked = [str(o["value"]) for o in chosen]
    offered = {v for v, _ in (YES_NO if kind is FieldKind.BOOL else field.options)}
    if not picked:
        return None
    if kind is not FieldKind.ORGANISATIONS and not offered.issuperset(picked):
        raise ValueError(NOT_OFFERED)
    if kind is FieldKind.BOOL:
        return picked[0] == "yes"
    return picked[0] if kind is FieldKind.CHOICE else picked


def _typed(kind: FieldKind, raw: object) -> Any:
    text = raw.strip() if isinstance(raw, str) else ""
    if not text or kind is FieldKind.TEXT:
        return text or None
    if kind is FieldKind.INT:
        if not re.fullmatch(r"[0-9]{1,9}", text):
            raise ValueError(NOT_WHOLE)
        return int(text)
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(NOT_A_DATE) from None


def _option(option: object) -> bool:
    value = option.get("value") if isinstance(option, Mapping) else None
    return isinstance(value, str) and 0 < len(value) <= OPTION_VALUE


# --- App Home --------------------------------------------------------------------------------------


def home_view(items: Sequence[HomeItem], *, today: date) -> Block:
    """The App Home tab: what waits for this person, in the order given (most urgent first)."""
    if not items:
        nothing = {
            "type": "section",
            "text": _mrkdwn("Nothing waiting for you. New questions will appear here."),
        }
        return {"type": "home", "blocks": [{"type": "header", "text": _plain("My cases", HEADER)}, nothing]}
    overdue = sum(1 for item in items if item.due and item.due < today)
    count = f"Waiting, most urgent first: {len(items)}" + (f" · *{overdue} overdue*" if overdue else "")
    blocks: list[Block] = [
        {"type": "header", "text": _plain("My cases", HEADER)},
        {"type": "context", "elements": [_mrkdwn(count)]},
        *(_home_item(item, today) for item in items[:HOME_ITEMS]),
    ]
    if len(items) > HOME_ITEMS:
        more = f"…and {len(items) - HOME_ITEMS} more, not shown here: see each case's thread."
        blocks.append({"type": "context", "elements": [_mrkdwn(more)]})
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS]}


def _home_item(item: HomeItem, today: date) -> Block:
    due = _deadline(item.due, item.what, today, short_day) if item.due else _esc(item.what)
    block: Block = {
        "type": "section",
        "text": _mrkdwn(f"*{_esc(item.ref)}* · {_esc(status_words(item.status))}\n{due}"),
    }
    if item.url and len(item.url) <= URL:
        block["accessory"] = _button("Open thread", ActionId.OPEN_THREAD, value=item.ref, url=item.url)
    return block


# --- pieces ----------------------------------------------------------------------------------------


def choice_action(index: int) -> str:
    return f"{ActionId.CHOICE.value}:{index}"


def _question(prompt: Prompt) -> Block:
    detail = f"\n{_esc(prompt.detail)}" if prompt.detail else ""
    return {"type": "section", "text": _mrkdwn(f"*{_esc(prompt.question)}*{detail}")}


def _button(text: str, action_id: str, *, value: str, url: str | None = None, style: str = "") -> Block:
    if len(value) > BUTTON_VALUE:
        raise ValueError(f"a button value is at most {BUTTON_VALUE} characters")
    button = {
        "type": "button",
        "text": _plain(text, BUTTON_TEXT),
        "action_id": str(action_id),
        "value": value,
    }
    return button | ({"url": url} if url else {}) | ({"style": style} if style else {})


def _deadline(on: date, what: str, today: date, day: Callable[[date], str]) -> str:
    if on < today:
        return f":warning: *OVERDUE* {day(on)}: {_esc(what)}"
    return f"*today*, {day(on)}: {_esc(what)}" if on == today else f"{day(on)}: {_esc(what)}"


def _plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": _cut(text, limit)}


def _mrkdwn(text: str, limit: int = TEXT) -> Block:
    # verbatim: a name or a task that looks like a link or @here stays words
    return {"type": "mrkdwn", "text": _cut(text, limit), "verbatim": True}


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    """`text` within `limit`; a cut one ends in "…", never in half an escape like "&am"."""
    text = text or "–"
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    return (cut[:amp] if amp >= 0 and ";" not in cut[amp:] else cut) + "…"
