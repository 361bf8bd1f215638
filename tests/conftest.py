"""Real servers for the tests that need them: a private Dovecot (IMAP), aiosmtpd (SMTP) and a fake
Slack Web API (Slack's own servers are the one part that cannot run here)."""

pytest_plugins = ["tests.servers.dovecot", "tests.servers.slack", "tests.servers.smtp"]
