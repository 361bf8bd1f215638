"""Real servers for the tests that need them: a private Dovecot (IMAP) and aiosmtpd (SMTP)."""

pytest_plugins = ["tests.servers.dovecot", "tests.servers.slack", "tests.servers.smtp"]
