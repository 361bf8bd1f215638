"""Every sentence the assistant says in chat, in one place. References and tasks only: no names,
no health details (DOMAIN.md section 4)."""

from __future__ import annotations

from typing import Any

NOTICES = {
    "new_case": "New complaint {ref} received. It needs a handler: which organisations are involved?",
    "mail_quarantined": "A message to the complaints mailbox could not be read and was set aside "
    "as {ref} ({reason}). Please look at it in the mailbox's quarantine folder.",
    "consent_withdrawn": "{ref}: consent withdrawn for {organisations}. Sharing with them has stopped.",
    "lead_objected": "{ref}: {organisation} objects to the proposed lead.",
    "lead_agreed": "{ref}: {lead} is agreed as the lead organisation. Next: the named contact.",
    "contribution_received": "{ref}: a contribution arrived for strand {strand}.",
    "message_received": "{ref}: a new email from {who} is on the case{strand_note}.",
    "letter_failed": "{ref}: the {letter} letter could not be sent. The case shows what to do instead.",
    "impasse_alert": "{ref}: the organisations cannot agree on '{matter}'. As a senior manager, "
    "please help resolve it by {resolve_by}.",
}


def notice(message: str, context: dict[str, Any]) -> str:
    """The chat text for a `Notify` effect; unknown messages still say something useful."""
    template = NOTICES.get(message, "{ref}: " + message.replace("_", " ") + ".")
    values = {k: ", ".join(v) if isinstance(v, list) else v for k, v in context.items()}
    values["strand_note"] = f" (strand {values['strand']})" if values.get("strand") else ""
    return template.format_map(_Blank(values))


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"
