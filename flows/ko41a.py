"""The coding lists for KO41a and the annual report, in one place: service areas, subject areas (with
clinical sub-categories), professions, age bands and complainant status.

Codes are short and stable (they are stored on cases); labels are what people see. The lists
follow NHS England's KO41a return (DOMAIN.md section 4).
"""

from __future__ import annotations

SERVICE_AREAS: tuple[tuple[str, str], ...] = (
    ("acute", "Acute services (hospital)"),
    ("mental_health", "Mental health"),
    ("community", "Community health services"),
    ("ambulance", "Ambulance services"),
    ("gp", "General practice"),
    ("dental", "Dental"),
    ("social_care", "Adult social care"),
    ("other", "Other"),
)

SUBJECTS: tuple[tuple[str, str], ...] = (
    ("access", "Access to treatment or drugs"),
    ("admissions", "Admissions, discharges and transfers"),
    ("appointments", "Appointments"),
    ("clinical/diagnosis", "Clinical treatment: diagnosis"),
    ("clinical/treatment", "Clinical treatment: treatment and procedures"),
    ("clinical/medication", "Clinical treatment: medication"),
    ("clinical/care", "Clinical treatment: nursing and personal care"),
    ("communication", "Communications"),
    ("consent", "Consent"),
    ("staff_attitude", "Staff attitude and behaviour"),
    ("facilities", "Facilities and environment"),
    ("records", "Records and confidentiality"),
    ("waiting", "Waiting times"),
    ("care_package", "Care package or assessment (social care)"),
    ("other", "Other"),
)

PROFESSIONS: tuple[tuple[str, str], ...] = (
    ("medical", "Medical"),
    ("nursing", "Nursing and midwifery"),
    ("ahp", "Allied health professionals"),
    ("ambulance", "Ambulance staff"),
    ("admin", "Administrative and clerical"),
    ("social_work", "Social work and social care staff"),
    ("other", "Other"),
)

AGE_BANDS: tuple[tuple[str, str], ...] = (
    ("0-15", "0 to 15"),
    ("16-64", "16 to 64"),
    ("65-84", "65 to 84"),
    ("85+", "85 and over"),
    ("unknown", "Not known"),
)

COMPLAINANT_STATUS: tuple[tuple[str, str], ...] = (
    ("patient", "The patient or service user"),
    ("on_behalf", "Someone on their behalf"),
)


def label(options: tuple[tuple[str, str], ...], code: str) -> str:
    return dict(options).get(code, code)
