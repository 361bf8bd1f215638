"""Every sentence the assistant says in chat, in one place. References and tasks only: no names,
no health details (DOMAIN.md section 4)."""

from __future__ import annotations

from typing import Any

NOTICES = {
    "new_case": "New complaint {ref} received. It needs a handler: which organisations are involved?",
    "new_case_related": "New email {ref} received: it may be part of {related}. Is it?",
    "mail_quarantined": "A message to the complaints mailbox could not be read and was set aside "
    "as {ref} ({reason}). Please look at it in the mailbox's quarantine folder.",
    "disk_refused": "The assistant cannot write to its data folder ({reason}). Until it can, it takes "
    "in no mail (new mail waits in the mailbox) and sends nothing; it tries again by itself and "
    "carries on as soon as it can write. Please ask whoever looks after the server.",
    "database_unreachable": "The assistant cannot reach its database ({reason}). Until it can, it "
    "takes in no mail (new mail waits in the mailbox) and sends nothing; it tries again by itself "
    "and carries on as soon as the database answers. Please ask whoever looks after the database.",
    "consent_withdrawn": "{ref}: the person withdrew consent for {organisations}: nothing more is "
    "sent to them, and the response cannot cover their part unless the person consents again. The "
    "person has been told, with how to contact them directly.",
    "lead_objected": "{ref}: {organisation} objects to the proposed lead.",
    "lead_agreed": "{ref}: {lead} is agreed as the lead organisation. Next: the named contact.",
    "contribution_received": "{ref}: a contribution arrived for strand {strand}.",
    "date_proposed": "{ref}: a new target date, {target}, is proposed for strand {strand}.",
    "reminder_contribution": "{ref}: reminder: {about} is due {due}.",
    "reminder_contribution_overdue": "{ref}: reminder: {about} was due {due} and is now "
    "{overdue_days} overdue.",
    "reminder_milestone": "{ref}: {about} is due {due}: how is it going?",
    "reminder_milestone_overdue": "{ref}: {about} was due {due}: how is it going?",
    "reminder_action": "{ref}: reminder: {about} is due {due}.",
    "reminder_action_overdue": "{ref}: reminder: {about} was due {due} and is now {overdue_days} overdue.",
    "reminder_comments": "{ref}: reminder: {about} are due {due}.",
    "reminder_comments_overdue": "{ref}: reminder: {about} were due {due} and are now "
    "{overdue_days} overdue.",
    "reminder_acknowledgement": "{ref}: the acknowledgement is due {due} and has not gone yet.",
    "reminder_acknowledgement_overdue": "{ref}: the acknowledgement was due {due} and has not gone yet: "
    "it is {overdue_days} late.",
    "reminder_update": "{ref}: the person is owed an update letter (due {due}).",
    "reminder_response_period": "{ref}: the response period promised to the person ends {due}.",
    "reminder_response_period_overdue": "{ref}: the response period promised to the person ended {due}, "
    "and the response has not gone yet.",
    "reminder_six_months": "{ref}: {about} is {due}: without a response by then, the person must be sent "
    "a letter explaining the delay.",
    "reminder_six_months_overdue": "{ref}: {about} was {due} and there is no response yet: the person "
    "must be sent a letter explaining the delay.",
    "reminder_lead_not_agreed": "{ref}: the lead is still not agreed. Consider raising an impasse.",
    "reminder_contribution_late": "{ref}: {about} was due {due} and is long overdue. "
    "Consider raising an impasse.",
    "reminder_comments_late": "{ref}: {organisation} has not answered the reminders about {about}, "
    "due {due}, now {overdue_days} overdue. Its reminders now go weekly. Consider raising an impasse.",
    "reminder_action_late": "{ref}: {organisation} has not answered the reminders about {about}, "
    "due {due}, now {overdue_days} overdue. Its reminders now go weekly. Consider asking its senior "
    "managers to help (before the response, by raising an impasse).",
    "reminder_impasse_due": "{ref}: senior managers did not resolve the impasse by {due}: "
    "the partial response is next.",
    "message_received": "{ref}: a new email from {who}{strand_note}: read it.",
    "letter_failed": "{ref}: the {letter} letter could not be sent. The case shows what to do instead.",
    "letter_in_doubt": "{ref}: the {letter} letter to {to} may or may not have gone at {at}, when "
    "sending it was cut off. The case asks whether to resend it or record it as sent.",
    "learning_shared": "{ref}: what the organisations learned from this complaint, to share with your "
    "teams: {learning}",
    "impasse_resolved": "{ref}: the senior managers resolved the impasse; the outcome is in the case "
    "record, and the case carries on.",
    "impasse_alert": "{ref}: since {since}, the organisations cannot agree: {matter}. As a senior manager, "
    "please help resolve it by {resolve_by}: tell us whether your organisation can resolve it, and what "
    "it proposes.",
}


def notice(message: str, context: dict[str, Any]) -> str:
    """The chat text for a `Notify` effect; unknown messages still say something useful. A reminder
    past its date takes the message's `_overdue` wording when it has one."""
    template = NOTICES.get(message, "{ref}: " + message.replace("_", " ") + ".")
    overdue = int(context.get("overdue") or 0)
    if overdue:
        template = NOTICES.get(f"{message}_overdue", template)
    values = {k: ", ".join(v) if isinstance(v, list) else v for k, v in context.items()}
    values["strand_note"] = f" (strand {values['strand']})" if values.get("strand") else ""
    values["overdue_days"] = f"{overdue} working day{'' if overdue == 1 else 's'}"
    return template.format_map(_Blank(values))


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"
