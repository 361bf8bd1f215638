"""Real servers on 127.0.0.1 for adapter tests, each a pytest fixture module (see `dovecot`)."""
