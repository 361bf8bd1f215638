"""Real servers for the tests that need them: a private Dovecot (IMAP), a private PostgreSQL, aiosmtpd
(SMTP), and fakes of Slack's Web API and of Teams' connector (Slack's and Microsoft's own servers
are the one part that cannot run here)."""

pytest_plugins = [
    "tests.servers.dovecot",
    "tests.servers.postgres",
    "tests.servers.slack",
    "tests.servers.smtp",
    "tests.servers.teams",
]
