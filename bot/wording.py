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
    "date_proposed": "{ref}: a new target date, {target}, is proposed for strand {strand}.",
    "reminder_contribution": "{ref}: reminder: {about} is due {on}.",
    "reminder_milestone": "{ref}: {about} is due today ({on}): how is it going?",
    "reminder_action": "{ref}: reminder: {about} is due {on}.",
    "reminder_comments": "{ref}: reminder: {about} are due {on}.",
    "reminder_acknowledgement": "{ref}: the acknowledgement is due {on} and has not gone yet.",
    "reminder_update": "{ref}: the person is owed an update letter (due {on}).",
    "reminder_response_period": "{ref}: the response period agreed with the person ends {on}.",
    "reminder_six_months": "{ref}: the six-month point is {on}: without a response by then, the "
    "person must be sent a letter explaining the delay.",
    "reminder_lead_not_agreed": "{ref}: the lead is still not agreed. Consider raising an impasse.",
    "reminder_contribution_late": "{ref}: {about} is long overdue. Consider raising an impasse.",
    "reminder_impasse_due": "{ref}: senior managers did not resolve the impasse by its date: "
    "the partial response is next.",
    "message_received": "{ref}: a new email from {who} is on the case{strand_note}.",
    "letter_failed": "{ref}: the {letter} letter could not be sent. The case shows what to do instead.",
    "impasse_alert": "{ref}: since {since}, the organisations cannot agree: {matter}. As a senior manager, "
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
