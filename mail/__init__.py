"""Mail in and out: raw messages to `IncomingMail`, letters to `EmailMessage`, local and remote.

Modules: `parse` (intake path for every reader), `maildir` (local inbox), `letters` (templates and
message building), `outbox` (local .eml "sending"), `ports` (the Protocols adapters satisfy),
`errors` (the one exception tree). Nothing here imports `flows`, `store` or `bot`.
"""
