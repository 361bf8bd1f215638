"""Everything held about one complainant, for a subject access request (UK GDPR article 15).

`export_person` finds every case whose complainant's email is the one asked about (case does not
matter) and writes, into a new or empty folder::

    README.txt         what this is, what each part holds, and what to review before it is released
    <REF>/             one folder per case: the case's chronology folder (`bot.chronology`), so its
                       event log as events.json, its letters, its attachments, and its own manifest
    manifest.json      every other file of the export with its SHA-256 and size

Like each case's folder, the export is private whatever the umask: folders 0700, files 0600.

Cases are found by reading each case (the store's summaries hold no personal details, on purpose),
so an export reads every case file once: fine for a request made a few times a year.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parseaddr
from pathlib import Path

from bot.chronology import empty_folder, make_private, write_chronology, write_manifest
from bot.config import Config
from bot.service import CaseService
from flows.calendar import LONDON

README = """\
Subject access export: {email}
Prepared {generated} (London time) by jointly, the joint complaints assistant of
{organisation}.

This folder holds everything the assistant keeps about complaints made by the person
with this email address. It found {count}.

{cases}

Each case folder holds:
  chronology.html   the case from first email to now: every event, when it happened
                    (London time) and who recorded it; the organisations; the letters;
                    the attachments. Open it in any web browser; it needs no network.
  events.json       the case's record exactly as the assistant stores it.
  letters/          every letter sent, or queued to be sent, on the case (.txt and .html).
  attachments/      the files that came with emails, under the names the assistant
                    gave them; chronology.html shows the name each was sent with.
  timeline.png/svg  the case's dates as a picture.
  manifest.json     a checksum (SHA-256) and size for every file in the case folder.

manifest.json beside this file lists every file of the export with its checksum, so
that anyone can check that nothing was changed after it was prepared.

Before release: the records also name staff and other organisations, and may hold
information about other people (a relative's care, for instance). Review them for
third-party information under the Data Protection Act 2018, Schedule 2, Part 3, before
they are sent. Other records the organisations keep (clinical records, their own
complaint files) are not held by this assistant and are not included.
"""


def export_person(service: CaseService, config: Config, email: str, out_dir: Path, now: datetime) -> Path:
    """Write everything held about the complainant with `email` into `out_dir` (new or empty);
    returns the README."""
    wanted = _address(email)
    if "@" not in wanted:
        raise ValueError(f"not an email address: {email!r}")
    folder = empty_folder(out_dir)
    refs = cases_of(service, wanted)
    lines = []
    for ref in refs:
        case = service.load(ref)
        write_chronology(service, config, ref, folder / ref, now)
        received = f"received {case.received_on:%d %b %Y}" if case.received_at else "not received"
        lines.append(f"  {ref}/  {received}, {case.status.value.replace('_', ' ')}")
    readme = folder / "README.txt"
    readme.write_text(
        README.format(
            email=wanted,
            generated=now.astimezone(LONDON).strftime("%a %d %b %Y %H:%M"),
            organisation=config.home.name,
            count=f"{len(refs)} case" + ("" if len(refs) == 1 else "s"),
            cases="\n".join(lines) or "  (no cases: nothing is held about this address)",
        ),
        encoding="utf-8",
    )
    write_manifest(folder, {"email": wanted, "generated_at": now.isoformat(), "cases": refs})
    make_private(folder)
    return readme


def cases_of(service: CaseService, email: str) -> list[str]:
    """The references of the cases whose complainant has `email` (compared without regard to case)."""
    wanted = _address(email)
    refs = sorted(s.stream for s in service.store.summaries() if s.stream.startswith("JC-"))
    return [ref for ref in refs if wanted and _address(service.load(ref).complainant.email) == wanted]


def _address(value: str) -> str:
    return parseaddr(value)[1].strip().casefold()
