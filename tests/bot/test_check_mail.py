"""`jointly check-mail` as a person runs it (a separate process, a clean environment) against the
real Dovecot and aiosmtpd: both logins, the folder counts, nothing sent, nothing moved, no store;
and every failure one line with exit 4."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import SAMPLE_DIRECTORY
from tests.bot.test_cli import jointly
from tests.bot.test_cli_refusals import refused
from tests.servers.dovecot import Dovecot
from tests.servers.smtp import Issuer, SmtpServer, TestCert

ACCOUNTS = {"complaints": "smtp-secret"}
PASSWORDS = {"IMAP_PASSWORD": Dovecot.password, "SMTP_PASSWORD": "smtp-secret"}
IMAP_PASSWORD = 'password_env = "IMAP_PASSWORD"'
SMTP_PASSWORD = 'username = "complaints"\npassword_env = "SMTP_PASSWORD"'
Servers = Callable[..., SmtpServer]


def write_config(
    where: Path, dovecot: Dovecot, user: str, smtp: SmtpServer, cert: TestCert, mailbox: str, outbox: str
) -> None:
    (where / "config.toml").write_text(
        f"""
[service]
home_organisation = "northshire-trust"

[mailbox]
kind = "imap"
host = "{dovecot.host}"
port = {dovecot.tls_port}
ca_file = "{dovecot.cert_path}"
username = "{user}"
{mailbox}

[outbox]
kind = "smtp"
host = "{smtp.host}"
port = {smtp.port}
security = "starttls"
ca_file = "{cert.cert}"
from_address = "complaints@northshire-trust.example"
{outbox}
"""
        + SAMPLE_DIRECTORY.read_text()
    )


def test_check_mail_logs_in_to_both_counts_the_folders_and_sends_nothing(
    tmp_path: Path, dovecot: Dovecot, imap_user: str, smtp_servers: Servers, smtp_cert: TestCert
) -> None:
    smtp = smtp_servers("starttls", accounts=ACCOUNTS)
    mailbox = IMAP_PASSWORD + '\nsent_folder = "Sent Items"'
    write_config(tmp_path, dovecot, imap_user, smtp, smtp_cert, mailbox, SMTP_PASSWORD)
    for n in (1, 2):
        dovecot.append(imap_user, f"Subject: complaint {n}\r\n\r\nText\r\n".encode())
    dovecot.append(imap_user, b"Subject: a letter we sent\r\n\r\nText\r\n", folder="Sent Items")

    result = jointly(tmp_path, "check-mail", **PASSWORDS)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    mailbox_line, outbox_line = result.stdout.splitlines()
    assert mailbox_line == (
        f"mailbox: logged in to {dovecot.host}:{dovecot.tls_port} as {imap_user} (password); "
        "messages: INBOX 2, Processed (not made yet), Quarantine (not made yet), Sent Items 1"
    )
    assert outbox_line == (
        f"outbox: {smtp.host}:{smtp.port} (starttls), logged in as complaints (password); nothing sent"
    )
    assert smtp.received == [] and smtp.quits == 1
    assert len(dovecot.messages(imap_user, "INBOX")) == 2  # nothing read away or moved
    assert not (tmp_path / "var").exists()  # no store: it can run beside the service


def test_check_mail_with_one_oauth2_token_command_for_mailbox_and_outbox(
    tmp_path: Path, dovecot: Dovecot, imap_user: str, smtp_servers: Servers, smtp_cert: TestCert
) -> None:
    # Dovecot takes its password as an XOAUTH2 token; the SMTP server takes what the issuer issued.
    issuer = Issuer()
    issuer.issue(Dovecot.password)
    smtp = smtp_servers("starttls", issuer=issuer)
    script = tmp_path / "token.py"
    script.write_text(f"print({Dovecot.password!r})\n")
    command = json.dumps(shlex.join([sys.executable, str(script)]))  # a TOML string
    outbox = 'auth = "xoauth2"\nusername = "complaints@northshire-trust.example"'
    oauth2 = f"\n[oauth2]\ntoken_command = {command}\n"
    write_config(tmp_path, dovecot, imap_user, smtp, smtp_cert, 'auth = "xoauth2"', outbox + oauth2)

    result = jointly(tmp_path, "check-mail")

    assert result.returncode == 0, result.stderr
    assert "(xoauth2); messages: INBOX 0" in result.stdout
    assert "logged in as complaints@northshire-trust.example (xoauth2); nothing sent" in result.stdout
    assert f"user=<{imap_user}>, method=XOAUTH2" in dovecot.log()
    assert issuer.refused == [] and smtp.received == []


@pytest.mark.parametrize(
    ("change", "environ", "says"),
    [
        ({}, {"IMAP_PASSWORD": Dovecot.password}, "required secrets are not set: SMTP_PASSWORD"),
        ({}, {**PASSWORDS, "IMAP_PASSWORD": "wrong"}, "mailbox: cannot connect to the IMAP server"),
        ({}, {**PASSWORDS, "SMTP_PASSWORD": "wrong"}, "outbox: the mail server refused the login"),
        ({"sent_folder": "Sent Items"}, PASSWORDS, "mailbox.sent_folder: there is no folder 'Sent Items'"),
    ],
    ids=["secret unset", "imap login refused", "smtp login refused", "no sent folder"],
)
def test_a_failure_is_one_line_and_exit_4(
    tmp_path: Path,
    dovecot: Dovecot,
    imap_user: str,
    smtp_servers: Servers,
    smtp_cert: TestCert,
    change: dict[str, str],
    environ: dict[str, str],
    says: str,
) -> None:
    smtp = smtp_servers("starttls", accounts=ACCOUNTS)
    mailbox = IMAP_PASSWORD + "".join(f'\n{key} = "{value}"' for key, value in change.items())
    write_config(tmp_path, dovecot, imap_user, smtp, smtp_cert, mailbox, SMTP_PASSWORD)

    line = refused(jointly(tmp_path, "check-mail", **environ), 4, says)

    assert "wrong" not in line and "smtp-secret" not in line
    assert smtp.received == []
