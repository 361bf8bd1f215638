"""Where an IMAP XOAUTH2 access token comes from: a command the operator configures, or Microsoft's
client-credentials flow (NHSmail and Exchange Online need OAuth2 for IMAP).

A token source is any ``() -> str`` called once per connection, so a token is always fresh enough
for the login it is used for (tokens last about an hour; msal caches and renews them itself). The
command runs without a shell, from an argument list, with a timeout; its standard output, stripped,
is the token. Neither a token nor a secret ever appears in an error or a log line: errors name the
program and its exit status only, because a failing helper may print secrets on stderr.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mail.errors import MailboxError

if TYPE_CHECKING:  # the settings' shape only: mail never imports the application at run time
    from bot.config import ImapMailbox

TokenSource = Callable[[], str]

OUTLOOK_SCOPE = "https://outlook.office365.com/.default"
MICROSOFT_LOGIN = "https://login.microsoftonline.com"


def configured_token_source(settings: ImapMailbox, secret: str | None) -> TokenSource | None:
    """The token source the settings ask for (None for a password login); `secret` is the value of
    ``oauth2_client_secret_env`` when the client-credentials flow is configured."""
    if settings.auth != "xoauth2":
        return None
    if settings.oauth2_token_command is not None:
        return command_token_source(settings.oauth2_token_argv)
    if not secret or settings.oauth2_tenant_id is None or settings.oauth2_client_id is None:
        raise MailboxError("no OAuth2 client secret for the IMAP login", username=settings.username)
    return client_credentials_token_source(settings.oauth2_tenant_id, settings.oauth2_client_id, secret)


def command_token_source(argv: Sequence[str], timeout: float = 30) -> TokenSource:
    """Run `argv` (no shell) for each token; its stripped standard output is the token."""
    if not argv:
        raise MailboxError("no OAuth2 token command given")
    args = list(argv)

    def fetch() -> str:
        try:
            done = subprocess.run(
                args, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise MailboxError("the OAuth2 token command timed out", command=args[0]) from None
        except OSError as error:
            raise MailboxError(
                "the OAuth2 token command could not be run", command=args[0], reason=error.strerror
            ) from None
        if done.returncode != 0:
            raise MailboxError("the OAuth2 token command failed", command=args[0], status=done.returncode)
        token = done.stdout.decode("utf-8", "replace").strip()
        if not token:
            raise MailboxError("the OAuth2 token command printed no token", command=args[0])
        return token

    return fetch


def client_credentials_token_source(
    tenant_id: str,
    client_id: str,
    client_secret: str,
    *,
    authority_host: str = MICROSOFT_LOGIN,
    scope: str = OUTLOOK_SCOPE,
    **msal_options: Any,
) -> TokenSource:
    """Microsoft identity platform, client-credentials grant (app-only access to the mailbox).

    msal is imported on first use, so deployments using a password or a token command need not
    install it. `msal_options` go to `msal.ConfidentialClientApplication` (e.g. ``timeout``).
    """
    app: Any = None

    def fetch() -> str:
        nonlocal app
        try:
            import msal  # optional: only this flow needs it
        except ImportError:
            raise MailboxError(
                "the msal package is needed for the OAuth2 client-credentials flow",
                install="pip install 'msal>=1.28,<2'",
            ) from None
        try:
            if app is None:  # built once: it holds the token cache
                app = msal.ConfidentialClientApplication(
                    client_id,
                    client_credential=client_secret,
                    authority=f"{authority_host.rstrip('/')}/{tenant_id}",
                    **msal_options,
                )
            result = app.acquire_token_for_client(scopes=[scope])
        except Exception as error:  # msal raises ValueError, requests' errors...: name the type only
            raise MailboxError(
                "the OAuth2 token could not be obtained", tenant=tenant_id, reason=type(error).__name__
            ) from None
        token = result.get("access_token") if isinstance(result, dict) else None
        if not token:
            said = result.get("error", "no access_token") if isinstance(result, dict) else "no result"
            raise MailboxError("the OAuth2 token was refused", tenant=tenant_id, reason=str(said))
        return str(token)

    return fetch
