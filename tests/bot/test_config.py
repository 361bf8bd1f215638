"""The configuration file: what a deployer writes, and what they are told when it is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

import bot.config
import mail.settings
from bot.config import (
    Config,
    config_warnings,
    load_config,
    local_config,
    missing_mail_secrets,
    missing_secrets,
)
from bot.config_errors import ConfigError
from mail.settings import ImapMailbox, SmtpOutbox
from tests.servers.smtp import TestCert

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"

MINIMAL = """
[service]
home_organisation = "trust"

[mailbox]
kind = "imap"
host = "imap.trust.example"
username = "complaints"
password_env = "IMAP_PASSWORD"

[outbox]
kind = "smtp"
host = "smtp.trust.example"
username = "complaints"
password_env = "SMTP_PASSWORD"
from_address = "complaints@trust.example"

[chat]
kind = "slack"

[slack]
complaints_channel = "C0123"

[[organisations]]
id = "trust"
name = "A Trust"
sector = "health"
kind = "nhs_trust"
complaints_email = "complaints@trust.example"
complaints_phone = "01632 960 001"
contacts = ["ann"]
senior_managers = ["bob"]

[[organisations]]
id = "council"
name = "A Council"
sector = "social_care"
kind = "local_authority"
complaints_email = "complaints@council.example"
complaints_phone = "01632 960 002"
contacts = ["cat"]

[[people]]
id = "ann"
name = "Ann"
organisation = "trust"
roles = ["handler"]
email = "ann@trust.example"
slack_user_id = "U0ANN"

[[people]]
id = "bob"
name = "Bob"
organisation = "trust"
roles = ["manager"]
email = "bob@trust.example"

[[people]]
id = "cat"
name = "Cat"
organisation = "council"
roles = ["contributor"]
email = "Cat@Council.example"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Config:
    return load_config(write(tmp_path, text))


def problems(tmp_path: Path, text: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return {p.key: p.message for p in caught.value.problems}


def edit(old: str, new: str) -> str:
    assert MINIMAL.count(old) == 1, old
    return MINIMAL.replace(old, new)


# --- the shipped configurations -------------------------------------------------------------


def test_the_example_file_loads() -> None:
    config = load_config(EXAMPLE)

    assert isinstance(config.mailbox, ImapMailbox)
    assert isinstance(config.outbox, SmtpOutbox)
    assert config.chat.kind == "slack" and config.slack is not None
    assert config.home.id == "northshire-trust"


MODELS = {"bot.config": bot.config, "mail.settings": mail.settings}


def _settings(model: type[BaseModel]) -> set[str]:
    names = set(model.model_fields)
    for field in model.model_fields.values():
        for module, inner in re.findall(r"(bot\.config|mail\.settings)\.(\w+)", repr(field.annotation)):
            names |= _settings(getattr(MODELS[module], inner))
    return names


def test_the_example_file_shows_every_setting() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    shown = set(re.findall(r"^#? ?([a-z0-9_]+)(?:\.[a-z_]+)* =", text, re.MULTILINE))
    shown |= set(re.findall(r"^#? ?\[+([a-z0-9_.]+)\]+$", text, re.MULTILINE))  # a table may be commented out
    shown |= {part for name in list(shown) for part in name.split(".")}

    assert _settings(Config) - shown == set()


def test_the_example_uses_the_local_mode_organisations_and_people(tmp_path: Path) -> None:
    example, local = load_config(EXAMPLE), local_config(tmp_path)

    assert example.organisations == local.organisations
    assert example.people == local.people


def test_local_mode_is_all_local_and_self_consistent(tmp_path: Path) -> None:
    config = local_config(tmp_path)

    assert config.mailbox.kind == "maildir" and config.mailbox.path == tmp_path / "inbox"
    assert config.outbox.kind == "files" and config.outbox.path == tmp_path / "outbox"
    assert config.outbox.from_address == "complaints@northshire-trust.example"
    assert config.outbox.from_name == "Northshire Hospitals Complaints Team"
    assert config.chat.kind == "terminal"
    assert config.store_dir == tmp_path / "store"
    assert config.home.name == "Northshire Hospitals NHS Foundation Trust"
    assert missing_secrets(config, {}) == []
    assert Config.model_validate(config.model_dump()) == config
    for organisation in config.organisations:
        for person_id in organisation.contacts + organisation.senior_managers:
            assert config.person(person_id).organisation == organisation.id
    handlers = [p for p in config.people if p.has_role("handler")]
    assert handlers[0].id == "asha-patel"  # local mode's person at the keyboard
    assert {p.organisation for p in handlers} == {"northshire-trust", "northshire-council"}
    council = config.organisation("northshire-council")
    assert council.advocacy is not None and council.advocacy.name == "Northshire Advocacy Hub"


def test_defaults_fill_what_the_file_leaves_out(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL)

    assert config.service.data_dir == Path("var")
    assert config.service.reply_domain == "jointly.invalid"
    assert config.service.show_personal_details_in_chat is False
    assert isinstance(config.mailbox, ImapMailbox)
    assert (config.mailbox.port, config.mailbox.folder) == (993, "INBOX")
    assert config.mailbox.max_message_bytes == 25 * 1024 * 1024
    assert config.clocks.reminder_offsets_working_days == (5, 1, 0)
    assert config.ombudsman("health").phone == "0345 015 4033"
    assert config.ombudsman("social_care").website == "www.lgo.org.uk"
    assert config.slack is not None and config.slack.api_base_url == "https://slack.com/api/"


def test_an_ombudsman_may_be_changed_in_part(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL + '\n[ombudsmen.phso]\nphone = "0345 000 0000"\n')

    assert config.ombudsmen.phso.phone == "0345 000 0000"
    assert config.ombudsmen.phso.name == "Parliamentary and Health Service Ombudsman"


# --- mistakes, each named at its key ----------------------------------------------------------


def test_a_wrong_type_names_the_key_and_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, edit('host = "imap.trust.example"', 'host = "imap"\nport = "abc"'))

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    message = str(caught.value)
    assert message.splitlines()[0] == f"{path}: invalid configuration (1 problem)"
    assert "  mailbox.port: must be a whole number, without quotes (got 'abc')" in message


def test_a_choice_outside_the_list_says_what_is_allowed(tmp_path: Path) -> None:
    text = edit('sector = "social_care"', 'sector = "nhs"')

    assert problems(tmp_path, text) == {
        "organisations[1].sector": "must be one of health, social_care (got 'nhs')"
    }


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('password_env = "IMAP_PASSWORD"', 'pasword_env = "IMAP_PASSWORD"', "mailbox.pasword_env"),
        ("[chat]", "[chats]", "chats"),
        ('name = "Bob"', 'name = "Bob"\nteam = "x"', "people[1].team"),
    ],
)
def test_an_unknown_key_is_named(tmp_path: Path, old: str, new: str, key: str) -> None:
    found = problems(tmp_path, edit(old, new))

    assert found[key].startswith("unknown setting")


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('home_organisation = "trust"', 'home_organisation = "trsut"', "service.home_organisation"),
        ('organisation = "council"', 'organisation = "counsil"', "people[2].organisation"),
    ],
)
def test_an_unknown_organisation_is_named_at_its_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    found = problems(tmp_path, edit(old, new))

    assert found[key].startswith("unknown organisation ")
    assert found[key].endswith("(known: council, trust)")


def test_an_unknown_person_is_named_at_its_key(tmp_path: Path) -> None:
    found = problems(tmp_path, edit('contacts = ["ann"]', 'contacts = ["ann", "anne"]'))

    assert found == {"organisations[0].contacts[1]": "unknown person 'anne' (known: ann, bob, cat)"}


def test_a_contact_must_belong_to_the_organisation(tmp_path: Path) -> None:
    found = problems(tmp_path, edit('senior_managers = ["bob"]', 'senior_managers = ["cat"]'))

    assert found == {"organisations[0].senior_managers[0]": "'cat' belongs to 'council'"}


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, edit('id = "council"', 'id = "trust"'))

    assert found["organisations[1].id"] == "duplicate id 'trust' (also organisations[0])"


def test_two_people_may_not_share_an_email(tmp_path: Path) -> None:
    found = problems(tmp_path, edit("Cat@Council.example", "ANN@trust.example"))

    assert found == {"people[2].email": "duplicate email 'ann@trust.example' (also people[0])"}


def test_an_alias_belongs_to_one_organisation(tmp_path: Path) -> None:
    text = edit('kind = "nhs_trust"', 'kind = "nhs_trust"\naliases = ["The Hospital"]').replace(
        'kind = "local_authority"', 'kind = "local_authority"\naliases = ["x", "the hospital"]'
    )

    assert problems(tmp_path, text) == {
        "organisations[1].aliases[1]": "'the hospital' is also an alias of 'trust'"
    }


def test_imap_password_login_needs_the_password_variable(tmp_path: Path) -> None:
    found = problems(tmp_path, edit('password_env = "IMAP_PASSWORD"\n', ""))

    assert found == {"mailbox.password_env": "required when auth is 'password'"}


def test_oauth2_needs_a_token_command_or_the_whole_app_registration(tmp_path: Path) -> None:
    text = edit('password_env = "IMAP_PASSWORD"', 'auth = "xoauth2"') + '[oauth2]\ntenant_id = "t"\n'

    assert problems(tmp_path, text) == {
        "oauth2.client_id": "required when there is no token_command",
        "oauth2.client_secret_env": "required when there is no token_command",
    }


def test_oauth2_takes_a_token_command_or_an_app_registration_not_both(tmp_path: Path) -> None:
    text = edit('password_env = "IMAP_PASSWORD"', 'auth = "xoauth2"')
    text += '[oauth2]\ntoken_command = "get-token"\nclient_id = "c"\n'

    assert problems(tmp_path, text) == {"oauth2.client_id": "give token_command or this, not both"}


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        (
            'password_env = "SMTP_PASSWORD"',
            'auth = "oauth"',
            "outbox.auth",
            "must be one of password, xoauth2 (got 'oauth')",
        ),
        (
            'username = "complaints"\npassword_env = "SMTP_PASSWORD"',
            'auth = "xoauth2"',
            "outbox.username",
            "required when auth is 'xoauth2'",
        ),
        (
            'password_env = "SMTP_PASSWORD"',
            'auth = "xoauth2"',
            "oauth2",
            "an [oauth2] section is required when outbox.auth is 'xoauth2'",
        ),
    ],
)
def test_the_outbox_login_settings_are_checked_at_their_keys(
    tmp_path: Path, old: str, new: str, key: str, message: str
) -> None:
    assert problems(tmp_path, edit(old, new)) == {key: message}


def test_settings_moved_to_oauth2_are_unknown_in_the_mailbox(tmp_path: Path) -> None:
    text = edit('password_env = "IMAP_PASSWORD"', 'auth = "xoauth2"\noauth2_client_id = "c"')
    found = problems(tmp_path, text + '[oauth2]\ntoken_command = "get-token"\n')

    assert found["mailbox.oauth2_client_id"].startswith("unknown setting")


def test_imap_needs_host_and_username(tmp_path: Path) -> None:
    text = edit('host = "imap.trust.example"\nusername = "complaints"\n', "")

    assert problems(tmp_path, text) == {"mailbox.host": "required", "mailbox.username": "required"}


@pytest.mark.parametrize("section", ["mailbox", "outbox"])
def test_a_ca_file_must_be_readable_and_hold_certificates(
    tmp_path: Path, smtp_cert: TestCert, section: str
) -> None:
    after = {"mailbox": 'password_env = "IMAP_PASSWORD"\n', "outbox": 'password_env = "SMTP_PASSWORD"\n'}

    def with_ca(path: Path) -> str:
        return edit(after[section], after[section] + f'ca_file = "{path}"\n')

    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    missing = tmp_path / "missing.pem"

    assert getattr(load(tmp_path, with_ca(smtp_cert.cert)), section).ca_file == smtp_cert.cert
    assert problems(tmp_path, with_ca(missing)) == {
        f"{section}.ca_file": f"cannot be read: {missing}: No such file or directory"
    }
    assert problems(tmp_path, with_ca(junk)) == {
        f"{section}.ca_file": f"holds no certificate in PEM form: {junk}"
    }
    assert problems(tmp_path, with_ca(tmp_path)) == {
        f"{section}.ca_file": f"cannot be read: {tmp_path}: Is a directory"
    }


def test_an_unknown_kind_is_named(tmp_path: Path) -> None:
    found = problems(tmp_path, edit('kind = "imap"', 'kind = "pop3"'))

    assert found == {"mailbox.kind": "must be one of maildir, imap (got 'pop3')"}


def test_slack_chat_needs_a_slack_section(tmp_path: Path) -> None:
    found = problems(tmp_path, edit('[slack]\ncomplaints_channel = "C0123"\n', ""))

    assert list(found) == ["slack"]


TEAMS = '[teams]\nteam_id = "team-1"\ncomplaints_channel = "19:complaints@thread.tacv2"\n'


def test_teams_chat_needs_a_teams_section_and_the_apps_identity(tmp_path: Path) -> None:
    chat = edit('kind = "slack"', 'kind = "teams"')
    assert list(problems(tmp_path, chat)) == ["teams"]

    config = load(tmp_path, chat + TEAMS)
    assert config.teams is not None and config.teams.http_port == 3978
    needed = missing_secrets(config, {"IMAP_PASSWORD": "x", "SMTP_PASSWORD": "x", "CLIENT_ID": "x"})
    assert needed == ["TENANT_ID", "CLIENT_SECRET"]  # no Slack token asked for
    pem = load(tmp_path, chat + TEAMS + 'certificate_env = "TEAMS_CERTIFICATE"\n')
    assert missing_secrets(pem, {"IMAP_PASSWORD": "x", "SMTP_PASSWORD": "x"}) == [
        "CLIENT_ID",
        "TENANT_ID",
        "TEAMS_CERTIFICATE",
    ]


def test_a_database_store_needs_its_connection_string(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL + '[store]\nkind = "postgresql"\n')
    environ = {"IMAP_PASSWORD": "x", "SMTP_PASSWORD": "x", "SLACK_BOT_TOKEN": "x", "SLACK_APP_TOKEN": "x"}
    assert missing_secrets(config, environ) == ["JOINTLY_DATABASE_URL"]
    url = "postgresql://jointly@db.example/cases"
    assert config.store_location({"JOINTLY_DATABASE_URL": url}) == url
    assert load(tmp_path, MINIMAL).store_location({}) == Path("var") / "store"


def test_a_teams_user_id_is_an_entra_object_id_and_finds_its_person(tmp_path: Path) -> None:
    guid = "3F2B8C1A-6D4E-4B7F-9A2C-5E1D0B9C8A7F"
    config = load(tmp_path, edit('slack_user_id = "U0ANN"', f'teams_user_id = "{guid}"'))
    ann = config.person_by_teams(guid.lower())
    assert ann is not None and ann.id == "ann" and ann.teams_user_id == guid.lower()
    assert config.person_by_teams("") is None
    found = problems(tmp_path, edit('slack_user_id = "U0ANN"', 'teams_user_id = "29:1abc"'))
    assert (
        list(found) == ["people[0].teams_user_id"] and "Entra object id" in found["people[0].teams_user_id"]
    )


def test_a_secret_pasted_in_place_of_its_name_is_refused_and_not_repeated(tmp_path: Path) -> None:
    path = write(tmp_path, edit('password_env = "SMTP_PASSWORD"', 'password_env = "hunter2!"'))

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert "outbox.password_env: must be the name of an environment variable" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_an_nhs_body_cannot_be_social_care(tmp_path: Path) -> None:
    found = problems(tmp_path, edit('sector = "health"', 'sector = "social_care"'))

    assert found == {"organisations[0].sector": "must be health for kind 'nhs_trust' (got 'social_care')"}


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = edit('kind = "smtp"', 'kind = "smtp"\nport = 0').replace('roles = ["manager"]', "roles = []")

    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)

    assert {p.key for p in caught.value.problems} == {"outbox.port", "people[1].roles"}
    assert "(2 problems)" in str(caught.value)


def test_a_toml_syntax_error_gives_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[service]\nhome_organisation = "trust"\nlog_level = INFO\n')

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    lines = str(caught.value).splitlines()
    assert lines[0] == f"{path}: is not valid TOML"
    assert lines[1].startswith("  line 3, column 13: invalid value")
    assert lines[1].endswith("the line reads: log_level = INFO")


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path / "nowhere.toml")


# --- secrets ------------------------------------------------------------------------------------


def test_missing_secrets_lists_exactly_the_unset_variables(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL)
    environ = {"IMAP_PASSWORD": "x", "SMTP_PASSWORD": "", "SLACK_SIGNING_SECRET": "x"}

    assert missing_secrets(config, environ) == ["SMTP_PASSWORD", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"]


def test_http_mode_needs_the_signing_secret_not_the_app_token(tmp_path: Path) -> None:
    config = load(tmp_path, edit("[slack]", '[slack]\nmode = "http"'))

    assert missing_secrets(config, {"SLACK_BOT_TOKEN": "x"}) == [
        "IMAP_PASSWORD",
        "SMTP_PASSWORD",
        "SLACK_SIGNING_SECRET",
    ]


def test_a_token_command_needs_no_secret_and_terminal_chat_no_slack_tokens(
    tmp_path: Path,
) -> None:
    text = edit('password_env = "IMAP_PASSWORD"', 'auth = "xoauth2"')
    text = text.replace('kind = "slack"', 'kind = "terminal"')
    config = load(tmp_path, text + "[oauth2]\ntoken_command = \"get-token --for 'complaints box'\"\n")

    assert missing_secrets(config, {}) == ["SMTP_PASSWORD"]
    assert config.oauth2 is not None
    assert config.oauth2.token_argv == ["get-token", "--for", "complaints box"]


def test_one_app_registration_serves_mailbox_and_outbox_with_one_secret(tmp_path: Path) -> None:
    text = edit('password_env = "IMAP_PASSWORD"', 'auth = "xoauth2"')
    text = text.replace('password_env = "SMTP_PASSWORD"', 'auth = "xoauth2"')
    app = '[oauth2]\ntenant_id = "t"\nclient_id = "c"\nclient_secret_env = "OAUTH2_CLIENT_SECRET"\n'
    config = load(tmp_path, text + app)

    assert config.oauth2_users == ["mailbox", "outbox"]
    assert missing_mail_secrets(config, {}) == ["OAUTH2_CLIENT_SECRET"]


def test_an_oauth2_section_nobody_uses_needs_no_secret(tmp_path: Path) -> None:
    app = '[oauth2]\ntenant_id = "t"\nclient_id = "c"\nclient_secret_env = "OAUTH2_CLIENT_SECRET"\n'
    config = load(tmp_path, MINIMAL + app)

    assert config.oauth2_users == []
    assert missing_mail_secrets(config, {}) == ["IMAP_PASSWORD", "SMTP_PASSWORD"]


def test_a_client_secret_pasted_in_place_of_its_name_is_not_repeated(tmp_path: Path) -> None:
    text = edit('password_env = "IMAP_PASSWORD"', 'auth = "xoauth2"')
    app = '[oauth2]\ntenant_id = "t"\nclient_id = "c"\nclient_secret_env = "a~Q8s"\n'
    found = problems(tmp_path, text + app)

    assert found == {
        "oauth2.client_secret_env": "must be the name of an environment variable, not the secret itself"
    }


def test_the_example_needs_its_oauth2_slack_and_reply_signing_secrets() -> None:
    assert missing_secrets(load_config(EXAMPLE), {}) == [
        "JOINTLY_REPLY_SECRET",
        "OAUTH2_CLIENT_SECRET",
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
    ]


# --- lookups ------------------------------------------------------------------------------------


def test_people_are_found_by_email_and_slack_id(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL)

    cat = config.person_by_email("Cat Smith <cat@council.EXAMPLE>")
    assert cat is not None and cat.id == "cat"
    ann = config.person_by_slack("U0ANN")
    assert ann is not None and ann.id == "ann"
    assert config.person_by_email("someone@else.example") is None
    assert config.person_by_slack("") is None
    with pytest.raises(KeyError):
        config.organisation("nowhere")


# --- sender authentication ----------------------------------------------------------------------


def test_trusted_mail_servers_are_named_by_authserv_id_and_unset_gives_a_warning(tmp_path: Path) -> None:
    unset = load(tmp_path, MINIMAL)
    assert unset.mailbox.trusted_authserv_ids == ()
    [warning] = config_warnings(unset)
    assert warning.startswith("mailbox.trusted_authserv_ids is not set")

    trusted = 'password_env = "IMAP_PASSWORD"\ntrusted_authserv_ids = ["mx.trust.example", ""]'
    config = load(tmp_path, edit('password_env = "IMAP_PASSWORD"', trusted))
    assert config.mailbox.trusted_authserv_ids == ("mx.trust.example", "")
    assert config_warnings(config) == []
    assert config_warnings(load_config(EXAMPLE)) == []

    pasted = 'password_env = "IMAP_PASSWORD"\ntrusted_authserv_ids = ["mx.trust.example; spf=pass"]'
    [(key, message)] = problems(tmp_path, edit('password_env = "IMAP_PASSWORD"', pasted)).items()
    assert key.startswith("mailbox.trusted_authserv_ids") and "an authserv-id" in message
