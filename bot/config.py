"""Settings: one TOML file, validated at start-up so a mistake stops us before any mail is read.

`load_config` reads the file with `tomllib` and validates it with the pydantic models below, which
compose mail's own (`mail.settings`: the mailbox, the outbox and the OAuth2 token source they
share). Every problem is reported at its exact key (``mailbox.port``, ``people[2].organisation``)
in one `bot.config_errors.ConfigError`, the only exception this module raises. Secrets never
appear in the file: settings ending in ``_env`` name the environment variable that holds them, and
`missing_secrets` lists those a configuration needs that the environment lacks. `local_config` is
the built-in configuration for local mode (no accounts anywhere), with fictional sample
organisations; `config.example.toml` documents every setting and uses the same organisations and
people.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, Field, Strict, ValidationError, model_validator

from bot.config_errors import ConfigError, problems_of, syntax_problem
from flows.due import Policy
from mail.settings import (
    Email,
    EnvName,
    Flag,
    ImapMailbox,
    Located,
    Mailbox,
    OAuth2,
    Outbox,
    Port,
    Positive,
    Problems,
    SmtpOutbox,
    Text,
    matching,
    raise_if,
)
from mail.settings import Settings as _Model

# --- value types --------------------------------------------------------------------------------

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_DOMAIN = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def _slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise ValueError(f"must be lower-case letters, digits and hyphens (got {value!r})")
    return value


def _non_empty(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value:  # checked after the items, so a list of wrong items is not also called empty
        raise ValueError("must list at least one")
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Domain = Annotated[str, matching(_DOMAIN, "a domain name")]
NonNegative = Annotated[int, Strict(), Field(ge=0)]
SlackUserId = Annotated[str, matching(re.compile(r"[UW][A-Z0-9]+"), "a Slack user id")]
TeamsUserId = Annotated[
    str,
    matching(
        re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"), "an Entra object id (a GUID)"
    ),
    AfterValidator(str.lower),
]
Url = Annotated[  # slack-sdk joins method names onto it, so it must end in a slash
    str,
    matching(re.compile(r"https?://\S+"), "an http(s) URL"),
    AfterValidator(lambda url: url if url.endswith("/") else url + "/"),
]
Sector = Literal["health", "social_care"]
NhsKind = Literal[
    "nhs_trust", "icb", "nhs_england", "gp_practice", "dental_practice", "independent_nhs_provider"
]
# A care provider may give NHS-funded care, so only NHS bodies and councils fix the sector.
OrganisationKind = NhsKind | Literal["local_authority", "care_provider"]
_SECTOR_OF_KIND: dict[str, Sector] = {
    "local_authority": "social_care",
    **dict.fromkeys(get_args(NhsKind), "health"),
}
Role = Literal["handler", "contributor", "manager", "admin"]


# --- models -------------------------------------------------------------------------------------
# The mailbox, outbox and OAuth2 tables are mail's own (`mail.settings`); composed here.


class Service(_Model):
    home_organisation: Slug
    data_dir: Path = Path("var")
    log_format: Literal["plain", "json"] = "plain"
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v),
    ] = "INFO"
    show_personal_details_in_chat: Flag = False
    reply_domain: Domain = "jointly.invalid"
    reply_token_secret_env: EnvName | None = None
    automatic_letters_per_sender_per_day: Positive = 3


class Chat(_Model):
    kind: Literal["terminal", "slack", "teams"] = "terminal"


class Slack(_Model):
    mode: Literal["socket", "http"] = "socket"
    bot_token_env: EnvName = "SLACK_BOT_TOKEN"
    app_token_env: EnvName = "SLACK_APP_TOKEN"
    signing_secret_env: EnvName = "SLACK_SIGNING_SECRET"
    api_base_url: Url = "https://slack.com/api/"
    complaints_channel: Text
    http_host: Text = "0.0.0.0"  # noqa: S104 (Slack must reach it; put it behind your proxy)
    http_port: Port = 3000


class Teams(_Model):
    """The bot's Microsoft Entra app registration (its secrets in the environment), the team and
    channel for case threads, and where Teams reaches the bot (`/api/messages` on the port)."""

    client_id_env: EnvName = "CLIENT_ID"
    tenant_id_env: EnvName = "TENANT_ID"
    client_secret_env: EnvName = "CLIENT_SECRET"
    certificate_env: EnvName | None = None  # a PEM file's path (key and certificate): instead of the secret
    team_id: Text
    complaints_channel: Text  # the channel's id: 19:...@thread.tacv2
    catalog_app_id: Text | None = None  # the app's id in the organisation's app catalogue, to install it
    service_url: Url = "https://smba.trafficmanager.net/teams/"
    graph_url: Url = "https://graph.microsoft.com/v1.0/"
    http_host: Text = "0.0.0.0"  # noqa: S104 (Teams must reach it; put it behind your proxy)
    http_port: Annotated[int, Strict(), Field(ge=0, le=65535)] = 3978  # 0: any free port


class StoreSettings(_Model):
    """Where cases are kept: files under the data directory (one process), or a PostgreSQL
    database (several replicas), its connection string in the environment variable `url_env`."""

    kind: Literal["file", "postgresql"] = "file"
    url_env: EnvName = "JOINTLY_DATABASE_URL"


class Clocks(_Model):
    update_every_working_days_default: Positive = 20
    reminder_offsets_working_days: tuple[NonNegative, ...] = (5, 1, 0)
    overdue_every_working_days: Positive = 2
    overdue_reminders: NonNegative = Policy.overdue_reminders
    impasse_lead_not_agreed_after_working_days: Positive = 10
    impasse_contribution_overdue_working_days: Positive = 10
    reminders_from_hour: Annotated[int, Strict(), Field(ge=0, le=23)] = 8


class Runner(_Model):
    retry_base_seconds: Positive = 30
    retry_cap_seconds: Positive = 3600
    sweep_seconds: Positive = 60

    @model_validator(mode="after")
    def _cap_is_above_base(self) -> Runner:
        if self.retry_cap_seconds < self.retry_base_seconds:
            raise Located([(("retry_cap_seconds",), "must not be less than retry_base_seconds")])
        return self


_OMBUDSMAN_TIME_LIMIT = "usually within 12 months of when you first knew about the problem"


class Ombudsman(_Model):
    name: Text
    phone: Text
    website: Text
    time_limit: Text = _OMBUDSMAN_TIME_LIMIT


class _Phso(Ombudsman):
    name: Text = "Parliamentary and Health Service Ombudsman"
    phone: Text = "0345 015 4033"
    website: Text = "www.ombudsman.org.uk"


class _Lgsco(Ombudsman):
    name: Text = "Local Government and Social Care Ombudsman"
    phone: Text = "0300 061 0614"
    website: Text = "www.lgo.org.uk"


class Ombudsmen(_Model):
    phso: _Phso = Field(default_factory=_Phso)
    lgsco: _Lgsco = Field(default_factory=_Lgsco)


class Advocacy(_Model):
    name: Text
    phone: Text
    website: Text


class Organisation(_Model):
    id: Slug
    name: Text
    sector: Sector
    kind: OrganisationKind
    aliases: tuple[Text, ...] = ()
    complaints_email: Email
    complaints_phone: Text
    escalation_email: Email | None = None
    address: Text | None = None
    advocacy: Advocacy | None = None
    contacts: tuple[Slug, ...] = ()
    senior_managers: tuple[Slug, ...] = ()

    @model_validator(mode="after")
    def _sector_fits_kind(self) -> Organisation:
        expected = _SECTOR_OF_KIND.get(self.kind, self.sector)
        if self.sector != expected:
            message = f"must be {expected} for kind {self.kind!r} (got {self.sector!r})"
            raise Located([(("sector",), message)])
        return self


class Person(_Model):
    id: Slug
    name: Text
    organisation: Slug
    roles: Annotated[tuple[Role, ...], AfterValidator(_non_empty)]
    email: Email
    slack_user_id: SlackUserId | None = None
    teams_user_id: TeamsUserId | None = None

    def has_role(self, role: Role) -> bool:
        return role in self.roles


class Config(_Model):
    service: Service
    mailbox: Mailbox
    outbox: Outbox
    chat: Chat = Field(default_factory=Chat)
    slack: Slack | None = None
    teams: Teams | None = None
    store: StoreSettings = Field(default_factory=StoreSettings)
    clocks: Clocks = Field(default_factory=Clocks)
    runner: Runner = Field(default_factory=Runner)
    ombudsmen: Ombudsmen = Field(default_factory=Ombudsmen)
    oauth2: OAuth2 | None = None
    organisations: tuple[Organisation, ...]
    people: tuple[Person, ...] = ()

    @model_validator(mode="after")
    def _cross_references_hold(self) -> Config:
        problems = _duplicates(self) + _references(self)
        if self.chat.kind == "slack" and self.slack is None:
            problems.append((("slack",), "a [slack] section is required when chat.kind is 'slack'"))
        if self.chat.kind == "teams" and self.teams is None:
            problems.append((("teams",), "a [teams] section is required when chat.kind is 'teams'"))
        if self.oauth2_users and self.oauth2 is None:
            users = " and ".join(f"{part}.auth" for part in self.oauth2_users)
            problems.append((("oauth2",), f"an [oauth2] section is required when {users} is 'xoauth2'"))
        raise_if(problems)
        return self

    @property
    def oauth2_users(self) -> list[str]:
        """The parts ("mailbox", "outbox") that log in with a token from [oauth2]."""
        parts = {"mailbox": self.mailbox, "outbox": self.outbox}
        return [
            name
            for name, part in parts.items()
            if isinstance(part, ImapMailbox | SmtpOutbox) and part.auth == "xoauth2"
        ]

    @property
    def home(self) -> Organisation:
        return self.organisation(self.service.home_organisation)

    @property
    def store_dir(self) -> Path:
        return self.service.data_dir / "store"

    def store_location(self, environ: Mapping[str, str]) -> Path | str:
        """The file store's directory, or the database's connection string (`missing_secrets`
        names the variable when it is unset)."""
        return environ[self.store.url_env] if self.store.kind == "postgresql" else self.store_dir

    def organisation(self, organisation_id: str) -> Organisation:
        """The organisation with this id; KeyError if there is none."""
        for organisation in self.organisations:
            if organisation.id == organisation_id:
                return organisation
        raise KeyError(f"unknown organisation {organisation_id!r}")

    def person(self, person_id: str) -> Person:
        """The person with this id; KeyError if there is none."""
        for person in self.people:
            if person.id == person_id:
                return person
        raise KeyError(f"unknown person {person_id!r}")

    def person_by_email(self, address: str) -> Person | None:
        """Who sent from this address (``Name <addr>`` accepted; case does not matter)."""
        wanted = parseaddr(address)[1].casefold()
        return next((p for p in self.people if wanted and p.email.casefold() == wanted), None)

    def person_by_slack(self, user_id: str) -> Person | None:
        return next((p for p in self.people if user_id and p.slack_user_id == user_id), None)

    def person_by_teams(self, object_id: str) -> Person | None:
        wanted = object_id.lower()
        return next((p for p in self.people if wanted and p.teams_user_id == wanted), None)

    def ombudsman(self, sector: Sector) -> Ombudsman:
        return self.ombudsmen.phso if sector == "health" else self.ombudsmen.lgsco


def _tags(union: Any) -> str:
    members = get_args(get_args(union)[0])
    return ", ".join(get_args(m.model_fields["kind"].annotation)[0] for m in members)


_KINDS = {"mailbox": _tags(Mailbox), "outbox": _tags(Outbox)}


def _duplicates(config: Config) -> Problems:
    problems: Problems = []
    checks: list[tuple[str, str, list[str | None]]] = [
        ("organisations", "id", [o.id for o in config.organisations]),
        ("people", "id", [p.id for p in config.people]),
        ("people", "email", [p.email.casefold() for p in config.people]),
        ("people", "slack_user_id", [p.slack_user_id for p in config.people]),
        ("people", "teams_user_id", [p.teams_user_id for p in config.people]),
    ]
    for section, key, values in checks:
        for index, value in enumerate(values):
            first = values.index(value)
            if value is not None and first < index:
                message = f"duplicate {key} {value!r} (also {section}[{first}])"
                problems.append(((section, index, key), message))
    seen: dict[str, str] = {}
    for index, organisation in enumerate(config.organisations):
        for position, alias in enumerate(organisation.aliases):
            owner = seen.setdefault(alias.casefold(), organisation.id)
            if owner != organisation.id:
                message = f"{alias!r} is also an alias of {owner!r}"
                problems.append((("organisations", index, "aliases", position), message))
    return problems


def _references(config: Config) -> Problems:
    organisations = {o.id for o in config.organisations}
    people = {p.id: p for p in config.people}

    def unknown(kind: str, value: str, known: Iterable[str]) -> str:
        return f"unknown {kind} {value!r} (known: {', '.join(sorted(known)) or 'none'})"

    problems: Problems = []
    if (home := config.service.home_organisation) not in organisations:
        message = unknown("organisation", home, organisations)
        problems.append((("service", "home_organisation"), message))
    for index, person in enumerate(config.people):
        if person.organisation not in organisations:
            message = unknown("organisation", person.organisation, organisations)
            problems.append((("people", index, "organisation"), message))
    for index, organisation in enumerate(config.organisations):
        for key in ("contacts", "senior_managers"):
            for position, person_id in enumerate(getattr(organisation, key)):
                loc = ("organisations", index, key, position)
                if person_id not in people:
                    problems.append((loc, unknown("person", person_id, people)))
                elif (theirs := people[person_id].organisation) != organisation.id:
                    problems.append((loc, f"{person_id!r} belongs to {theirs!r}"))
    return problems


# --- loading ------------------------------------------------------------------------------------


def load_config(path: Path) -> Config:
    """Read and validate a TOML configuration file; ConfigError says everything that is wrong."""
    try:
        text = path.read_bytes().decode("utf-8")
        raw = tomllib.loads(text)
    except OSError as error:
        raise ConfigError(path, f"cannot be read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(path, "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, "is not valid TOML", [syntax_problem(text, error)]) from None
    try:
        return Config.model_validate(raw)
    except ValidationError as error:
        problems = problems_of(error, raw, _KINDS)
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        raise ConfigError(path, f"invalid configuration ({count})", problems) from None


# --- secrets ------------------------------------------------------------------------------------


def missing_secrets(config: Config, environ: Mapping[str, str]) -> list[str]:
    """Names of the environment variables this configuration needs that are unset or empty."""
    needed = [config.service.reply_token_secret_env, *_mail_secrets(config)]
    if config.store.kind == "postgresql":
        needed.append(config.store.url_env)
    if config.chat.kind == "slack" and config.slack is not None:
        slack = config.slack
        needed.append(slack.bot_token_env)
        needed.append(slack.app_token_env if slack.mode == "socket" else slack.signing_secret_env)
    if config.chat.kind == "teams" and config.teams is not None:
        teams = config.teams
        needed += [teams.client_id_env, teams.tenant_id_env, teams.certificate_env or teams.client_secret_env]
    return _unset(needed, environ)


def missing_mail_secrets(config: Config, environ: Mapping[str, str]) -> list[str]:
    """The same, for logging in to the mailbox and the outbox only (`jointly check-mail`)."""
    return _unset(_mail_secrets(config), environ)


def _mail_secrets(config: Config) -> list[str | None]:
    mailbox, outbox = config.mailbox, config.outbox
    needed: list[str | None] = []
    if isinstance(mailbox, ImapMailbox) and mailbox.auth == "password":
        needed.append(mailbox.password_env)
    if isinstance(outbox, SmtpOutbox) and outbox.auth == "password":
        needed.append(outbox.password_env)
    if config.oauth2_users and config.oauth2 is not None:
        needed.append(config.oauth2.client_secret_env)
    return needed


def _unset(needed: Iterable[str | None], environ: Mapping[str, str]) -> list[str]:
    names = dict.fromkeys(name for name in needed if name is not None)
    return [name for name in names if not environ.get(name)]


def config_warnings(config: Config) -> list[str]:
    """What `check-config` warns about: settings left out that a service should have."""
    if config.mailbox.trusted_authserv_ids:
        return []
    return [
        "mailbox.trusted_authserv_ids is not set: a message From a case's complainant or contact "
        "is believed without asking the mail server whether that sender was authenticated"
    ]


# --- local mode ---------------------------------------------------------------------------------


SAMPLE_DIRECTORY = Path(__file__).parent / "examples" / "directory.toml"


def local_config(data_dir: Path) -> Config:
    """The configuration used without a config.toml: all local, with the sample organisations."""
    return Config.model_validate(
        {
            "service": {"home_organisation": "northshire-trust", "data_dir": data_dir},
            "mailbox": {"kind": "maildir", "path": data_dir / "inbox"},
            "outbox": {
                "kind": "files",
                "path": data_dir / "outbox",
                "from_address": "complaints@northshire-trust.example",
                "from_name": "Northshire Hospitals Complaints Team",
            },
            "chat": {"kind": "terminal"},
        }
        | tomllib.loads(SAMPLE_DIRECTORY.read_text(encoding="utf-8"))
    )
