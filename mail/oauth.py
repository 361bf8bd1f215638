"""Where an XOAUTH2 access token comes from, for the IMAP mailbox and the SMTP outbox alike: a
command the operator configures, or Microsoft's client-credentials flow (NHSmail and Exchange
Online need OAuth2 for both).

`Tokens` is the one cache, shared by the mailbox and the outbox (one app registration serves both,
and its token is good for both): a token is reused until `EARLY` seconds before it expires, and
fetched again at once when a server refuses it (`renew`). Its expiry is what the identity platform
says (``expires_in``), or for a command's token the ``exp`` claim when it is a JWT (Microsoft's
access tokens are); a token whose expiry is not known is fetched again for each login.

The command runs without a shell, from an argument list, with a timeout; its standard output,
stripped, is the token. Neither a token nor a secret ever appears in an error or a log line:
errors name the program and its exit status only, because a failing helper may print secrets on
stderr. Fetching blocks (a process, an HTTP request): the outbox calls it in a thread.
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mail.errors import TokenError
from mail.settings import OAuth2

OUTLOOK_SCOPE = "https://outlook.office365.com/.default"
MICROSOFT_LOGIN = "https://login.microsoftonline.com"
EARLY = 300.0  # seconds before its expiry that a token is no longer handed out


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float | None = None  # seconds since the epoch; None when not known


Fetch = Callable[[], Token]


class Tokens:
    """The current access token: fetched when first needed and when about to expire or refused.
    Safe to share between threads (the mailbox's and the outbox's); one fetch at a time."""

    def __init__(self, fetch: Fetch, *, clock: Callable[[], float] = time.time, early: float = EARLY):
        self._fetch = fetch
        self._clock = clock
        self._early = early
        self._held: Token | None = None
        self._lock = threading.Lock()

    def token(self) -> str:
        """A token to log in with, fetched unless the one held lasts more than `early` seconds."""
        with self._lock:
            held = self._held
            if held is None or held.expires_at is None or held.expires_at - self._early <= self._clock():
                held = self._held = self._fetch()
            return held.value

    def renew(self, refused: str) -> str:
        """A token instead of `refused`, which a server would not take: fetched again, unless
        another login has replaced it meanwhile."""
        with self._lock:
            if self._held is None or self._held.value == refused:
                self._held = self._fetch()
            return self._held.value


def configured_tokens(settings: OAuth2, secret: str | None) -> Tokens:
    """The token source the settings ask for; `secret` is the value of ``client_secret_env`` when
    the client-credentials flow is configured."""
    if settings.token_command is not None:
        return Tokens(command_fetch(settings.token_argv))
    if not secret or settings.tenant_id is None or settings.client_id is None:
        raise TokenError("no OAuth2 client secret", variable=settings.client_secret_env)
    return Tokens(client_credentials_fetch(settings.tenant_id, settings.client_id, secret))


def command_fetch(argv: Sequence[str], timeout: float = 30) -> Fetch:
    """Run `argv` (no shell) for each token; its stripped standard output is the token."""
    if not argv:
        raise TokenError("no OAuth2 token command given")
    args = list(argv)

    def fetch() -> Token:
        try:
            done = subprocess.run(
                args, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise TokenError("the OAuth2 token command timed out", command=args[0]) from None
        except OSError as error:
            raise TokenError(
                "the OAuth2 token command could not be run", command=args[0], reason=error.strerror
            ) from None
        if done.returncode != 0:
            raise TokenError("the OAuth2 token command failed", command=args[0], status=done.returncode)
        token = done.stdout.decode("utf-8", "replace").strip()
        if not token:
            raise TokenError("the OAuth2 token command printed no token", command=args[0])
        return Token(token, _jwt_expiry(token))

    return fetch


def client_credentials_fetch(
    tenant_id: str,
    client_id: str,
    client_secret: str,
    *,
    authority_host: str = MICROSOFT_LOGIN,
    scope: str = OUTLOOK_SCOPE,
    **msal_options: Any,
) -> Fetch:
    """Microsoft identity platform, client-credentials grant (app-only access to the mailbox).

    msal is imported on first use. `msal_options` go to `msal.ConfidentialClientApplication` (e.g.
    ``timeout``). msal's own cache is emptied before each request: `Tokens` decides when a token is
    old, and msal would hand back the very token a server has just refused.
    """
    app: Any = None

    def fetch() -> Token:
        nonlocal app
        try:
            import msal
        except ImportError:
            raise TokenError(
                "the msal package is needed for the OAuth2 client-credentials flow",
                install="pip install 'msal>=1.28,<2'",
            ) from None
        try:
            if app is None:  # built once: it holds the identity platform's metadata
                app = msal.ConfidentialClientApplication(
                    client_id,
                    client_credential=client_secret,
                    authority=f"{authority_host.rstrip('/')}/{tenant_id}",
                    **msal_options,
                )
            app.remove_tokens_for_client()
            result = app.acquire_token_for_client(scopes=[scope])
        except Exception as error:  # msal raises ValueError, requests' errors...: name the type only
            raise TokenError(
                "the OAuth2 token could not be obtained", tenant=tenant_id, reason=type(error).__name__
            ) from None
        return _msal_token(result, tenant_id)

    return fetch


def _msal_token(result: object, tenant_id: str) -> Token:
    found: dict[str, Any] = result if isinstance(result, dict) else {"error": "no result"}
    if not found.get("access_token"):
        said = str(found.get("error", "no access_token"))
        raise TokenError("the OAuth2 token was refused", tenant=tenant_id, reason=said)
    lifetime = found.get("expires_in")
    expires_at = time.time() + lifetime if isinstance(lifetime, int | float) else None
    return Token(str(found["access_token"]), expires_at)


def _jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT (seconds since the epoch); None for any other token."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:  # not base64, not UTF-8, not JSON: an opaque token after all
        return None
    expires = claims.get("exp") if isinstance(claims, dict) else None
    return float(expires) if isinstance(expires, int | float) and not isinstance(expires, bool) else None
