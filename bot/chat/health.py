"""What the health checks answer, on the HTTP port of a chat front (Slack in HTTP mode, Teams), for
a load balancer in front of several replicas:

- `GET /healthz`: 200 "ok" while the process serves; it asks nothing of the database.
- `GET /readyz`: 200 "ready" when the store can serve (`CaseStore.check`: the database reachable,
  its schema current; the file store open), else 503 with the store's reason as text.

Each front adds the two routes its own way; what they answer is decided here. The store's reasons
name where the database is but never its password, and nothing here adds the connection string.
"""

from __future__ import annotations

import asyncio

from store.errors import StoreError
from store.ports import CaseStore

ALIVE_PATH = "/healthz"
READY_PATH = "/readyz"


def alive() -> tuple[int, str]:
    """(status, text) for `/healthz`: answering at all is the answer."""
    return 200, "ok"


async def ready(store: CaseStore) -> tuple[int, str]:
    """(status, text) for `/readyz`. The check blocks (up to a couple of seconds waiting for a
    connection), so it runs in a worker thread, never on the event loop."""
    try:
        await asyncio.to_thread(store.check)
    except StoreError as error:
        return 503, str(error)
    return 200, "ready"
