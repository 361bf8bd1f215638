"""CaseService: the one load-decide-append loop every input goes through, and case references."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from bot.config import Config
from bot.directory import org_ref
from bot.service import CaseService
from flows import commands as c
from flows.errors import InvalidCommand, NotAllowedNow, UnknownCase
from flows.model import Actor, Status
from store.store import Store
from tests.bot.support import NOW, receive

REF = "JC-261125-TEST"
KEY = "mail:<hand-1@mail.example.org>"


def only_ours(config: Config, handler: Actor) -> c.IdentifyOrganisations:
    return c.IdentifyOrganisations(actor=handler, orgs=(org_ref(config, "northshire-trust"),))


def test_execute_stores_events_effects_key_and_summary_in_one_go(
    service: CaseService, store: Store, config: Config
) -> None:
    decision = service.execute(REF, receive(config), NOW, keys=[KEY])

    record = store.load(REF)
    assert [e["type"] for e in record.events] == ["ComplaintReceived", "LetterQueued"]
    assert [e["type"] for e in record.events] == [type(e).__name__ for e in decision.events]
    assert [(r.key, r.status) for r in record.effects] == [(e.key, "pending") for e in decision.effects]
    assert {r.effect["type"] for r in record.effects} == {"SendLetter", "Notify"}
    assert record.summary["ref"] == REF
    assert record.summary["status"] == "received"
    assert record.summary["acknowledged_at"] is None
    assert [s.summary for s in store.summaries() if s.stream == REF] == [record.summary]
    assert store.stream_for_key(KEY) == REF
    assert [(r.key, r.effect["ref"]) for _, r in store.due_effects(NOW)] == [
        (e.key, REF) for e in decision.effects
    ]


def test_load_folds_the_stored_events_into_the_case(service: CaseService, config: Config) -> None:
    service.execute(REF, receive(config), NOW)

    case = service.load(REF)

    assert case.ref == REF
    assert case.version == 2
    assert case.status is Status.RECEIVED
    assert case.complainant.email == "pat@example.org"
    assert case.home_org == "northshire-trust"


def test_commands_in_sequence_each_build_on_the_version_before(
    service: CaseService, store: Store, config: Config, handler: Actor
) -> None:
    service.execute(REF, receive(config), NOW)
    service.execute(REF, only_ours(config, handler), NOW)
    for days in (5, 10, 15):
        service.execute(REF, c.SetUpdateFrequency(actor=handler, working_days=days), NOW)

    case = service.load(REF)
    assert case.update_every == 15
    assert case.status is Status.NAMING_CONTACT
    assert case.version == store.load(REF).version == len(store.load(REF).events)
    assert store.load(REF).summary["lead"] == "Northshire Hospitals NHS Foundation Trust"


def test_commands_from_many_threads_are_serialised_without_a_version_conflict(
    service: CaseService, store: Store, config: Config, handler: Actor
) -> None:
    service.execute(REF, receive(config), NOW)
    service.execute(REF, only_ours(config, handler), NOW)
    before = store.load(REF).version

    def set_every(days: int) -> None:
        service.execute(REF, c.SetUpdateFrequency(actor=handler, working_days=days), NOW)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(set_every, range(1, 25)))

    events = store.load(REF).events
    assert store.load(REF).version == before + 24
    recorded = [e["working_days"] for e in events if e["type"] == "UpdateFrequencySet"]
    assert sorted(recorded) == list(range(1, 25))


def test_a_refused_command_stores_nothing(
    service: CaseService, store: Store, config: Config, handler: Actor
) -> None:
    service.execute(REF, receive(config), NOW)
    service.execute(REF, only_ours(config, handler), NOW)
    version = store.load(REF).version

    with pytest.raises(InvalidCommand):
        service.execute(REF, c.SetUpdateFrequency(actor=handler, working_days=0), NOW)

    assert store.load(REF).version == version
    assert service.load(REF).update_every is None


def test_loading_a_missing_case_raises_unknown_case_naming_it(service: CaseService) -> None:
    with pytest.raises(UnknownCase) as raised:
        service.load("JC-261125-NONE")

    assert raised.value.context == {"ref": "JC-261125-NONE"}
    assert "JC-261125-NONE" in raised.value.message


def test_a_command_for_a_case_not_yet_received_is_refused_and_opens_nothing(
    service: CaseService, store: Store, handler: Actor
) -> None:
    with pytest.raises(NotAllowedNow):
        service.execute("JC-261125-NONE", c.SetUpdateFrequency(actor=handler, working_days=5), NOW)

    assert not store.exists("JC-261125-NONE")
    assert store.summaries() == []


def test_the_same_complaint_cannot_be_received_twice_on_one_reference(
    service: CaseService, store: Store, config: Config
) -> None:
    service.execute(REF, receive(config), NOW)

    with pytest.raises(NotAllowedNow):
        service.execute(REF, receive(config), NOW)

    assert store.load(REF).version == 2


def test_new_ref_is_jc_then_the_day_of_receipt_then_four_characters(service: CaseService) -> None:
    ref = service.new_ref(datetime(2026, 11, 24, 9, 0, tzinfo=UTC), KEY)

    assert re.fullmatch(r"JC-261124-[A-Z2-7]{4}", ref)


def test_new_ref_derives_from_the_key_alone(service: CaseService) -> None:
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    key = "mail:<20261123194210.4f1c@mail.example.org>"  # sample 01, as the README shows it

    assert service.new_ref(at, key) == "JC-261124-UAP6"
    assert service.new_ref(at, key) == service.new_ref(at.replace(hour=17), key)
    assert service.new_ref(at, key) != service.new_ref(at, key + "x")


def test_new_ref_grows_one_character_per_reference_already_taken(
    service: CaseService, config: Config
) -> None:
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    first = service.new_ref(at, KEY)
    service.execute(first, receive(config), NOW)

    second = service.new_ref(at, KEY)
    service.execute(second, receive(config), NOW)
    third = service.new_ref(at, KEY)

    assert len(first) == len("JC-261124-XXXX")
    assert second.startswith(first) and len(second) == len(first) + 1
    assert third.startswith(second) and len(third) == len(second) + 1
    assert service.new_ref(at, "mail:<other@x>") != first  # other keys are not held up


def test_new_ref_carries_the_london_day_of_receipt(service: CaseService) -> None:
    after_midnight_in_london = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)  # 00:30 BST on 2 June

    assert service.new_ref(after_midnight_in_london, KEY).startswith("JC-260602-")
