"""The mailbox, outbox and OAuth2 settings: what `mail` needs to know to read and send mail.

They are pydantic models, validated as `bot.config` composes them into the whole configuration; they
live here so that `mail` imports nothing from the application, not even for typing. A model
validator that finds a problem below its own key raises `Located`, which `bot.config_errors` turns
into a message at that exact key (``outbox.username: required when auth is 'xoauth2'``). The value
types are shared with the rest of the configuration.

One `OAuth2` (the ``[oauth2]`` table) serves the mailbox and the outbox alike: one app registration
holds both permissions (IMAP.AccessAsApp, SMTP.SendAsApp) and one access token logs in to both.
"""

from __future__ import annotations

import re
import shlex
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, model_validator

from mail.maildir import MAX_MESSAGE_BYTES

Problems = list[tuple[tuple[str | int, ...], str]]


class Located(ValueError):
    """Raised by a model validator: problems at keys below the model (pydantic gives it no key)."""

    def __init__(self, problems: Sequence[tuple[tuple[str | int, ...], str]]) -> None:
        super().__init__("; ".join(f"{_dotted(loc)}: {msg}" for loc, msg in problems))
        self.problems = tuple(problems)


def raise_if(problems: Problems) -> None:
    if problems:
        raise Located(problems)


def _dotted(loc: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


# --- value types --------------------------------------------------------------------------------

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")


def matching(pattern: re.Pattern[str], what: str) -> AfterValidator:
    """A check that the whole value matches `pattern`; the message says it must be `what`."""

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"must be {what} (got {value!r})")
        return value

    return AfterValidator(check)


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):  # never echo it: it may be a secret pasted by mistake
        raise ValueError("must be the name of an environment variable, not the secret itself")
    return value


def _command(value: str) -> str:
    try:
        shlex.split(value)
    except ValueError as error:
        raise ValueError(f"cannot be split into a command line: {error}") from None
    return value


def _certificates(path: Path) -> Path:
    """A file of trusted certificates that can be read now, rather than a failure at the first
    connection."""
    try:
        ssl.create_default_context().load_verify_locations(cafile=path)
    except ssl.SSLError:
        raise ValueError(f"holds no certificate in PEM form: {path}") from None
    except OSError as error:
        raise ValueError(f"cannot be read: {path}: {error.strerror or error}") from None
    return path


Text = Annotated[str, Field(min_length=1)]
EnvName = Annotated[str, AfterValidator(_env_name)]
Email = Annotated[str, matching(_EMAIL, "an email address")]
Port = Annotated[int, Strict(), Field(ge=1, le=65535)]
Positive = Annotated[int, Strict(), Field(gt=0)]
Flag = Annotated[bool, Strict()]
Command = Annotated[Text, AfterValidator(_command)]
CertificateFile = Annotated[Path, AfterValidator(_certificates)]
AuthservId = Annotated[  # "" stands for Microsoft 365's header, which has no authserv-id
    str, matching(re.compile(r'[^\s;()"\\]*'), 'an authserv-id as the server writes it, or ""')
]
Auth = Literal["password", "xoauth2"]


class Settings(BaseModel):
    """Every settings table: unknown keys are mistakes, and nothing changes once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --- the mailbox --------------------------------------------------------------------------------


class _Mailbox(Settings):
    trusted_authserv_ids: tuple[AuthservId, ...] = ()  # see mail.auth


class MaildirMailbox(_Mailbox):
    kind: Literal["maildir"]
    path: Path
    max_message_bytes: Positive = MAX_MESSAGE_BYTES


class ImapMailbox(_Mailbox):
    kind: Literal["imap"]
    host: Text
    port: Port = 993
    security: Literal["tls", "starttls"] = "tls"
    ca_file: CertificateFile | None = None
    username: Text
    auth: Auth = "password"  # "xoauth2": a token from [oauth2]
    password_env: EnvName | None = None
    folder: Text = "INBOX"
    processed_folder: Text = "Processed"
    quarantine_folder: Text = "Quarantine"
    sent_folder: Text | None = None  # where the server keeps a copy of what the outbox sends
    max_message_bytes: Positive = MAX_MESSAGE_BYTES
    poll_seconds: Positive = 60
    use_idle: Flag = True

    @model_validator(mode="after")
    def _auth_is_complete(self) -> ImapMailbox:
        if self.auth == "password" and self.password_env is None:
            raise Located([(("password_env",), "required when auth is 'password'")])
        return self


# --- the outbox ---------------------------------------------------------------------------------


class FilesOutbox(Settings):
    kind: Literal["files"]
    path: Path
    from_address: Email
    from_name: Text | None = None


class SmtpOutbox(Settings):
    kind: Literal["smtp"]
    host: Text
    port: Port = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    ca_file: CertificateFile | None = None
    auth: Auth = "password"  # "password" without a username: no login at all
    username: Text | None = None
    password_env: EnvName | None = None
    from_address: Email
    from_name: Text | None = None

    @model_validator(mode="after")
    def _login_is_complete(self) -> SmtpOutbox:
        if self.auth == "xoauth2":
            if self.username is None:
                raise Located([(("username",), "required when auth is 'xoauth2'")])
        elif self.username is not None and self.password_env is None:
            raise Located([(("password_env",), "required when username is set")])
        elif self.password_env is not None and self.username is None:
            raise Located([(("username",), "required when password_env is set")])
        return self


Mailbox = Annotated[MaildirMailbox | ImapMailbox, Field(discriminator="kind")]
Outbox = Annotated[FilesOutbox | SmtpOutbox, Field(discriminator="kind")]


# --- OAuth2 -------------------------------------------------------------------------------------


class OAuth2(Settings):
    """Where XOAUTH2 access tokens come from (`mail.oauth`): a command that prints one, or an app
    registration in Microsoft Entra ID (client credentials)."""

    token_command: Command | None = None
    tenant_id: Text | None = None
    client_id: Text | None = None
    client_secret_env: EnvName | None = None

    @property
    def token_argv(self) -> list[str]:
        return shlex.split(self.token_command or "")

    @model_validator(mode="after")
    def _one_source(self) -> OAuth2:
        trio = ("tenant_id", "client_id", "client_secret_env")
        given = [name for name in trio if getattr(self, name) is not None]
        if self.token_command is not None and given:
            raise Located([((given[0],), "give token_command or this, not both")])
        if self.token_command is None:
            wanted = "required when there is no token_command"
            raise_if([((name,), wanted) for name in trio if name not in given])
        return self
