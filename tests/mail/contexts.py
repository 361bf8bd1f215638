"""Sample contexts for every letter template, shared by the letter and outbox tests."""

from __future__ import annotations

from typing import Any

from bot.config import Ombudsmen

OMBUDSMEN = [
    {
        "name": "Parliamentary and Health Service Ombudsman",
        "phone": "0345 015 4033",
        "website": "https://www.ombudsman.org.uk",
        "time_limit": "usually within 12 months of when you first knew about the problem",
    },
    {
        "name": "Local Government and Social Care Ombudsman",
        "phone": "0300 061 0614",
        "website": "https://www.lgo.org.uk",
        "time_limit": "usually within 12 months of when you first knew about the problem",
    },
]

# What must never be left in a rendered letter: template syntax, Python values, notes to self.
LEFTOVERS = ("{{", "}}", "{%", "%}", "None", "[", "]", "TODO", "Undefined")

COMMON: dict[str, Any] = {
    "ref": "NHT-2026-0042",
    "org_name": "Northshire Hospitals NHS Foundation Trust",
    "complainant_name": "Margaret Ellison",
}

SPECIFIC: dict[str, dict[str, Any]] = {
    "acknowledgement": {"received_on": "Tuesday 24 November 2026"},
    "written_record": {
        "received_on": "Tuesday 24 November 2026",
        "summary": "Your father was discharged late at night without his family being told.",
    },
    "consent_request": {
        "organisations": ["Northshire County Council", "Meadowbank Care Home"],
    },
    "signposting": {
        "organisations": [
            {"name": "Riverside Medical Practice", "contact": "practice.manager@riverside.example"},
            {"name": "Northshire County Council", "contact": "0300 123 4567"},
        ],
    },
    "consent_withdrawn": {
        "organisations": [{"name": "Meadowbank Care Home", "contact": "complaints@meadowbank.example"}],
        "withdrawn_on": "Monday 7 December 2026",
    },
    "pass_on": {
        "to_org_name": "Riverside Medical Practice",
        "complainant_address": "margaret.ellison@example.org",
        "received_on": "Tuesday 24 November 2026",
        "complaint_text": "My referral was never received by the hospital.",
        "consent_on": "Wednesday 25 November 2026",
    },
    "lead_proposal": {
        "to_org_name": "Northshire County Council",
        "lead_org_name": "Northshire Hospitals NHS Foundation Trust",
        "criteria": ["greatest_responsibility", "best_relationship"],
        "summary": "Discharge from hospital and the home care package that followed.",
        "consent_on": "Wednesday 25 November 2026",
    },
    "named_contact": {
        "lead_org_name": "Northshire Hospitals NHS Foundation Trust",
        "contact_name": "Sam Carter",
        "contact_email": "sam.carter@northshire-trust.example",
        "contact_phone": "01234 567890",
        "update_every": "every 20 working days",
        "advocacy": {"name": "Northshire Advocacy", "phone": "0800 000 0000",
                     "website": "https://advocacy.example"},
    },
    "response_period": {"response_due": "Friday 26 February 2027"},
    "timescale_changed": {
        "reason": "The care home's records are held off site.",
        "response_due": "Friday 12 March 2027",
        "previously": "Friday 26 February 2027",
    },
    "progress_update": {
        "summary_of_progress": "The hospital has finished its review of your father's discharge. "
        "The council is still checking why the care visits did not start.",
        "next_update": "Tuesday 22 December 2026",
        "expected_by": "Friday 29 January 2027",
    },
    "notice": {
        "to_name": "Lena Okafor",
        "notice": "NHT-2026-0042: reminder: the response on strand S2 is due Tuesday 15 December 2026.",
    },
    "reminder_overdue": {
        "to_org_name": "Northshire County Council",
        "about": "the response on strand S2",
        "due": "Tuesday 15 December 2026",
        "overdue": 11,
        "weekly": True,
        "copied_to": "complaints.escalation@northshire-council.example",
    },
    "contributor_request": {
        "to_org_name": "Northshire County Council",
        "strand": "S2",
        "matters": "Why the home care package did not start after discharge on 12 November.",
        "target": "Tuesday 15 December 2026",
        "plan_agreed": True,
        "understanding": "Mrs Marsh was discharged on 12 November before her care package started.",
        "outcomes_wanted": "An apology, and to know that discharges now wait for the package.",
        "reply_hint": "reply to this email; your reply is filed on strand S2 automatically.",
    },
    "meeting_invitation": {
        "to_org_name": "Northshire County Council",
        "when": "Thursday 3 December 2026 at 14:00 (London time)",
        "purpose": "Agree the investigation plan and timetable",
        "organisations": ["Northshire Hospitals NHS Foundation Trust", "Northshire County Council"],
        "reply_hint": "reply to this email with the name of the person who will attend for Northshire "
        "County Council, or who will represent it",
    },
    "contributor_question": {
        "to_org_name": "Northshire County Council",
        "strand": "S2",
        "question": "Who was told that the care visits should start on 13 November?",
        "reply_hint": "reply to this email: your answer is filed on strand S2 automatically",
    },
    "delay": {
        "reasons": "We are still waiting for one organisation's findings.",
        "expected_by": "Friday 4 June 2027",
    },
    "partial_response": {
        "answered": "The discharge went ahead without the checks it should have had.",
        "not_possible": "We cannot yet say why the care visits were missed.",
        "why_no_agreement": "The organisations disagree about who arranged the visits.",
        "ombudsmen": OMBUDSMEN,
    },
    "ombudsman_signpost": {"ombudsmen": OMBUDSMEN},
    "draft_for_comment": {
        "to_org_name": "Meadowbank Care Home",
        "draft": "Draft joint response text.",
        "version": 2,
        "comment_by": "Monday 7 December 2026",
    },
    "draft_to_complainant": {"draft": "Draft joint response text."},
    "learning_shared": {
        "to_org_name": "Northshire County Council",
        "learning": "Referrals for home care are now confirmed by phone on the day of discharge.",
    },
    "final_response": {
        "body": "We looked into each part of your complaint.\n\nWe have changed our process.",
        "signed_by": "Dr Alex Patel",
        "signed_role": "Chief Executive",
        "partial_response_on": "Monday 7 December 2026",
        "ombudsmen": OMBUDSMEN[:1],
        "organisations": ["Northshire Hospitals NHS Foundation Trust", "Northshire County Council"],
        "actions": [
            {
                "organisation": "Northshire County Council",
                "description": "Audit how hospital referrals for home care are received",
                "due": "Friday 29 January 2027",
                "evidence": "",
            },
        ],
    },
    "actions_complete": {
        "actions": [
            {
                "organisation": "Northshire County Council",
                "description": "Audit how hospital referrals for home care are received",
                "due": "Friday 29 January 2027",
                "evidence": "The audit report of 20 January 2027, shared with the trust.",
            },
        ],
    },
    "impasse_alert": {
        "to_name": "Jo Brown",
        "matter": "which organisation should lead",
        "since": "Monday 30 November 2026",
        "resolve_by": "Monday 14 December 2026",
        "organisations": ["Northshire Hospitals NHS Foundation Trust",
                          "Northshire County Council"],
    },
}


def context_for(template: str, **overrides: Any) -> dict[str, Any]:
    """The full sample context for a template, with any values replaced."""
    return {**COMMON, **SPECIFIC[template], **overrides}


def as_the_runner_would(context: dict[str, Any]) -> dict[str, Any]:
    """Ombudsman names ('phso', 'lgsco') become contact details from configuration."""
    if "ombudsmen" not in context:
        return context
    configured = Ombudsmen()
    return {**context, "ombudsmen": [getattr(configured, n).model_dump() for n in context["ombudsmen"]]}
