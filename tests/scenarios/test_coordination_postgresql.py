"""The three-organisation complaint from first email to closure, and the one into the impasse
ladder, with the store in PostgreSQL: the same assistant on the database backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import local_config
from store.ports import open_store
from tests.bot.support import Clock
from tests.scenarios.coordination import Day
from tests.scenarios.test_coordination import (
    START,
    test_a_three_organisation_complaint_from_first_email_to_closure,
)

__all__ = ["test_a_three_organisation_complaint_from_first_email_to_closure"]  # run here on PostgreSQL


@pytest.fixture
async def day(tmp_path: Path, postgres_url: str) -> AsyncIterator[Day]:
    config = local_config(tmp_path / "var")
    with open_store(postgres_url) as store:
        yield Day.local(config, store, Clock(START))
