"""Mail in and out: raw messages to `IncomingMail`, letters to `EmailMessage`, local and remote.

Modules: `parse` (intake path for every reader), `maildir` (local inbox), `letters` (templates and
message building), `outbox` (local .eml "sending"), `ports` (the Protocols adapters satisfy),
`errors` (the one exception tree), `settings` (the mailbox, outbox and OAuth2 settings types).
Nothing here imports `flows` or `bot`, not even for typing (tests/mail/test_boundaries.py); from
`store`, only its atomic file writes.
"""
