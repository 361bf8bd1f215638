"""The `jointly` command line.

    jointly [--config FILE] [--data-dir DIR] [--practice-clock WHEN] COMMAND
      run [--once]              run the assistant (local mode when there is no config.toml)
      cases [--open] [--json]   list cases: reference, status, organisations, lead, next deadline
      show REF [--brief] [--json]
                                a case in full: the complaint, messages, letters, organisations, plan,
                                what waits (wrapped to the terminal); --brief: the timeline in short
      import PATH... [--json]   take in .eml files, mbox files or Maildir folders
      report [--from DATE] [--to DATE] [--org ID] [--format table|csv|json]
                                figures for a period (default: the year to 31 March containing today)
      referral REF --org ORG --ombudsman phso|lgsco
                                record that the person took ORG's part to an Ombudsman
      chronology REF --out DIR  the Ombudsman bundle: chronology.html, letters, attachments, manifest
      export-person EMAIL --out DIR
                                everything held about a complainant (subject access request)
      retention [--json]        closed records due for review (10 years after closure)
      destroy REF --by PERSON --reason TEXT
                                destroy a record due for review, leaving a tombstone
      check-config [FILE]       validate a configuration file and exit
      check-mail                log in to the mailbox and the outbox, count the folders, send nothing

Exit codes: 0 done; 1 no such case, or the case refuses the command; 2 invalid configuration or
arguments (a malformed reference, a path that is missing or not a mail source, an unknown option);
3 store or data folder unavailable (in use by another process, a corrupt file, or a disk that
refuses writes: full or read-only); 4 a required secret is missing or too short, or a configured
part is missing (for check-mail: cannot be reached, refuses the login, or lacks a folder). Each
failure is one line on stderr naming what is wrong, never a traceback.

In local mode, `--practice-clock WHEN` (+3d, +2h, +1w, or a London date and time) moves time
forward for training before `run`, running each day's cycle on the way (see `bot.practice`); the
store is then a practice store, refused with a real configuration.

The commands that only read (cases, show, report, chronology, export-person, retention) work while
`jointly run` holds the store; those that change records (import, referral, destroy) are then
refused with exit 3, saying to stop the service first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console

from bot.app import DISK_REFUSALS, Assistant, NotAvailable, reply_secret, utc_now
from bot.case_text import case_text
from bot.check_mail import check_mail
from bot.chronology import write_chronology
from bot.config import (
    Config,
    config_warnings,
    load_config,
    local_config,
    missing_mail_secrets,
    missing_secrets,
)
from bot.config_errors import ConfigError
from bot.directory import actor, handlers, system_actor
from bot.export import export_person
from bot.importer import ImportInbox
from bot.intake import Intake, Outcome
from bot.logs import configure
from bot.practice import PracticeClock, TimeNotMoved, not_local, parse_when, real_parts, refusal, travel
from bot.report import Scope, compute, load_facts
from bot.report_render import print_tables, to_csv
from bot.retention import destroy, due_for_review
from bot.service import CaseService
from flows.calendar import london_date
from flows.codec import to_plain
from flows.commands import RecordOmbudsmanReferral
from flows.errors import DomainError, UnknownCase
from flows.model import Ombudsman
from flows.summary import deadlines
from store.copy import copy_store
from store.errors import StoreError, StoreLocked
from store.ports import CaseStore, open_store
from store.records import check_id

EXIT_OK, EXIT_CASE, EXIT_INVALID, EXIT_STORE, EXIT_MISSING = 0, 1, 2, 3, 4


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INVALID, f"{self.prog}: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="jointly", description="Coordinates multi-organisation complaints.")
    p.add_argument("--config", type=Path, help="configuration file (default: ./config.toml if present)")
    p.add_argument("--data-dir", type=_folder, help="where the store, inbox and outbox live (default: var)")
    p.add_argument(
        "--practice-clock",
        metavar="WHEN",
        type=_when,
        help="local mode, with run: move time forward (+3d, +2h, +1w, or a London date and time) first",
    )
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the assistant")
    run.add_argument("--once", action="store_true", help="one cycle, print what waits, exit")
    cases = sub.add_parser("cases", help="list cases")
    cases.add_argument("--open", action="store_true", help="open cases only")
    cases.add_argument("--json", action="store_true", help="JSON output (stable; see README)")
    show = sub.add_parser("show", help="a case in full, every text whole")
    show.add_argument("ref", type=_reference)
    show.add_argument("--brief", action="store_true", help="the timeline in short, one line per event")
    show.add_argument("--json", action="store_true")
    take = sub.add_parser("import", help="take in .eml files, mbox files or Maildir folders")
    take.add_argument("paths", nargs="+", type=_source)
    take.add_argument("--json", action="store_true", help="JSON output (stable; see README)")
    report = sub.add_parser("report", help="figures for a period: timeliness, annual report, KO41a")
    report.add_argument("--from", dest="start", type=_day, metavar="DATE", help="first day of receipt")
    report.add_argument("--to", dest="end", type=_day, metavar="DATE", help="last day of receipt")
    report.add_argument("--org", metavar="ID", help="one organisation's part (and its KO41a)")
    report.add_argument("--format", choices=("table", "csv", "json"), default="table")
    referral = sub.add_parser("referral", help="record that the person went to an Ombudsman")
    referral.add_argument("ref", type=_reference)
    referral.add_argument("--org", required=True, metavar="ID", help="the organisation whose part it is")
    referral.add_argument("--ombudsman", required=True, choices=[o.value for o in Ombudsman])
    chronology = sub.add_parser("chronology", help="the Ombudsman bundle for a case")
    chronology.add_argument("ref", type=_reference)
    chronology.add_argument("--out", type=_folder, required=True, help="a new or empty folder")
    person = sub.add_parser("export-person", help="everything held about a complainant (subject access)")
    person.add_argument("email")
    person.add_argument("--out", type=_folder, required=True, help="a new or empty folder")
    retention = sub.add_parser("retention", help="closed records due for review")
    retention.add_argument("--json", action="store_true")
    destroy = sub.add_parser("destroy", help="destroy a record due for review, leaving a tombstone")
    destroy.add_argument("ref", type=_reference)
    destroy.add_argument(
        "--by", required=True, metavar="PERSON", help="the handler destroying it (person id)"
    )
    destroy.add_argument("--reason", required=True)
    store = sub.add_parser("store", help="the store itself: copy it to another kind of store")
    copy = store.add_subparsers(dest="store_command", required=True).add_parser(
        "copy", help="copy every case into an empty store of another kind, and verify it"
    )
    copy.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="WHERE",
        help="a store directory or a postgresql:// URL",
    )
    copy.add_argument(
        "--to", dest="target", required=True, metavar="WHERE", help="an empty one, of either kind"
    )
    check = sub.add_parser("check-config", help="validate a configuration file")
    check.add_argument("file", nargs="?", type=Path)
    sub.add_parser("check-mail", help="log in to the mailbox and the outbox, count the folders, send nothing")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every known failure is one line on stderr and its exit code."""
    args = parser().parse_args(argv)
    try:
        return dispatch(args)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_INVALID
    except StoreError as error:
        print(f"jointly: {error}", file=sys.stderr)
        return EXIT_STORE
    except NotAvailable as error:
        print(f"jointly: {error}", file=sys.stderr)
        return EXIT_MISSING
    except UnknownCase as error:
        print(f"jointly: {error.message}", file=sys.stderr)
        return EXIT_CASE
    except OSError as error:  # a file outside the store: the log, the mail folders, an attachment
        if error.filename is None and error.errno not in DISK_REFUSALS:
            raise  # not a file's trouble (a network error): shown in full
        where = f"{error.filename}: " if error.filename else ""
        print(f"jointly: {where}{error.strerror or error}", file=sys.stderr)
        return EXIT_STORE


def dispatch(args: argparse.Namespace) -> int:
    if args.practice_clock is not None and args.command != "run":
        print(
            "jointly: --practice-clock goes with `run` (jointly --practice-clock WHEN run)", file=sys.stderr
        )
        return EXIT_INVALID
    if args.command == "check-config":
        return check_config(args.file or args.config or Path("config.toml"))
    if args.command == "store":
        return store_copy(args.source, args.target)
    config, local = resolve_config(args.config, args.data_dir)
    if args.practice_clock is not None and real_parts(config):
        print(f"jointly: {not_local(config, '--practice-clock')}", file=sys.stderr)
        return EXIT_INVALID
    if args.command == "check-mail":
        return check_mail_command(config)
    chatting = local and args.command == "run" and not args.once and sys.stdin.isatty()
    log_file = config.service.data_dir / "jointly.log" if chatting else None
    if log_file:
        log_file.parent.mkdir(parents=True, exist_ok=True)
    configure(config.service.log_format, config.service.log_level, log_file)
    with open_case_store(config, args.command) as store:
        if why := refusal(config, store):
            print(f"jointly: {why}", file=sys.stderr)
            return EXIT_STORE
        clock = utc_now if real_parts(config) else PracticeClock(store)  # a practice store's time
        if args.command == "run":
            return run(config, store, args.once, local, clock, args.practice_clock)
        now = clock()
        if args.command == "cases":
            return list_cases(store, args.open, args.json)
        if args.command == "import":
            return import_mail(config, store, args.paths, args.json, now)
        if args.command == "report":
            return report(config, store, args.start, args.end, args.org, args.format, now)
        if args.command == "referral":
            return referral(config, store, args.ref, args.org, Ombudsman(args.ombudsman), now)
        if args.command in ("chronology", "export-person"):
            what = args.ref if args.command == "chronology" else args.email
            return bundle(config, store, args.command, what, args.out, now)
        if args.command == "retention":
            return list_retention(store, args.json, now)
        if args.command == "destroy":
            return destroy_record(config, store, args.ref, args.by, args.reason, now)
        return show_case(store, args.ref, args.json, args.brief, now)


READERS = frozenset({"cases", "show", "report", "chronology", "export-person", "retention"})


def open_case_store(config: Config, command: str) -> CaseStore:
    """Commands that only read open the store read-only, beside a running service (each case is
    read whole; see `store.store`); the others take the writer's lock, and are refused with how
    to go about it when the service holds it: never a wait, never two writers."""
    if config.store.kind == "postgresql" and not os.environ.get(config.store.url_env):
        raise NotAvailable(f"the database's connection string {config.store.url_env} is not set")
    if command in READERS:
        return open_store(config.store_location(os.environ), readonly=True)
    try:
        return open_store(config.store_location(os.environ))
    except StoreLocked as error:
        if command == "run":
            raise
        holder = f" (pid {error.pid})" if error.pid is not None else ""
        raise StoreError(
            f"`jointly {command}` changes records, and the store at {error.path} is held by a "
            f"running jointly{holder}: stop the service, run `jointly {command}` again, then "
            "start the service again"
        ) from None


def resolve_config(path: Path | None, data_dir: Path | None) -> tuple[Config, bool]:
    """--config, else ./config.toml, else local mode under --data-dir (default var/); and whether
    it is local mode."""
    if path is None and Path("config.toml").exists():
        path = Path("config.toml")
    if path is None:
        return local_config(data_dir or Path("var")), True
    config = load_config(path)
    if data_dir is not None:
        service = config.service.model_copy(update={"data_dir": data_dir})
        config = config.model_copy(update={"service": service})
    return config, False


def store_copy(source: str, target: str) -> int:
    """Copy a store (read only: it may be a running service's) into an empty one, and verify it."""
    with open_store(source, readonly=True) as reading, open_store(target) as writing:
        copied = copy_store(reading, writing)
    frm, to = _shown_location(source), _shown_location(target)
    print(
        f"copied {copied.streams} cases and records and {copied.cursors} cursors from {frm} to {to};"
        " the counts and each one's checksum match"
    )
    return EXIT_OK


def _shown_location(where: str) -> str:
    return where.rsplit("@", 1)[-1] if "://" in where else where  # no password on the screen


def check_config(path: Path) -> int:
    config = load_config(path)
    missing = missing_secrets(config, os.environ)
    print(f"{path}: valid ({len(config.organisations)} organisations, {len(config.people)} people)")
    if missing:
        print("  not set in this environment: " + ", ".join(missing))
    for warning in config_warnings(config):
        print("  warning: " + warning)
    return EXIT_OK


def check_mail_command(config: Config) -> int:
    """Print one line per part; a failure is `NotAvailable` (exit 4), naming the part."""
    configure(config.service.log_format, "CRITICAL")  # the report or the one error line says it all
    missing = missing_mail_secrets(config, os.environ)
    if missing:
        raise NotAvailable("required secrets are not set: " + ", ".join(missing))
    for line in check_mail(config, os.environ):
        print(line)
    return EXIT_OK


def run(
    config: Config,
    store: CaseStore,
    once: bool,
    local: bool,
    clock: Callable[[], datetime] = utc_now,
    when: str | None = None,
) -> int:
    """Run the assistant. In local mode without a terminal nobody can answer and nothing outside
    can arrive, so it runs one cycle and exits; with a configuration it runs as a service. With
    `when`, the practice clock first moves there, running each day's cycle on the way."""
    missing = missing_secrets(config, os.environ)
    if missing:
        print("jointly: required secrets are not set: " + ", ".join(missing), file=sys.stderr)
        return EXIT_MISSING
    assistant = Assistant(config, store, sys.stdout, clock=clock, local=local)
    interactive = sys.stdin.isatty()
    if local and not interactive and not once:
        print("Local mode with no terminal to answer from: one cycle, then exit.")
        once = True

    async def session() -> None:
        if when is not None and isinstance(clock, PracticeClock):
            print(await travel(clock, when, assistant.cycle), flush=True)
        await (assistant.run_once() if once else assistant.run_forever(interactive))

    try:
        asyncio.run(session())
    except TimeNotMoved as error:
        print(f"jointly: --practice-clock: {error}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def case_rows(store: CaseStore, open_only: bool) -> list[dict[str, Any]]:
    """Case summaries from the store's index (no case file is opened; read-only): open ones first,
    soonest deadline first, then by reference. Their keys are `flows.summary.summarise`'s."""
    if open_only:
        rows = [s.summary for s in store.summaries(open_only=True)]
    else:
        rows = [s.summary for s in store.summaries() if s.summary.get("status") != "quarantined"]
    return sorted(rows, key=_by_urgency)


def _by_urgency(row: dict[str, Any]) -> tuple[bool, str, str]:
    due = row["next_deadline"]
    return (not row["open"], due["on"] if due else "9999", row["ref"])


def import_mail(config: Config, store: CaseStore, paths: list[Path], as_json: bool, now: datetime) -> int:
    inbox = ImportInbox(paths, config.mailbox.max_message_bytes)
    service = CaseService(store)
    outcomes = Intake(config, service, inbox, reply_secret(config, store, os.environ)).poll(now)
    messages = [_imported(inbox.sources[o.uid], o) for o in outcomes]
    totals = dict(Counter(m["outcome"] for m in messages))
    if as_json:
        print(json.dumps({"messages": messages, "totals": totals}, indent=2))
        return EXIT_OK
    for m in messages:
        why = m.get("kind") or m.get("reason") or ""
        print(f"{m['outcome']:<12} {m.get('ref') or '-':<18} {why}  {m['source']}")
    print(", ".join(f"{count} {outcome}" for outcome, count in totals.items()) or "no messages")
    if totals.get("new"):
        print("Acknowledgements are queued: they are sent by the next `jointly run`.")
    return EXIT_OK


def _imported(source: str, outcome: Outcome) -> dict[str, Any]:
    entry: dict[str, Any] = {"source": source, "outcome": outcome.outcome, "ref": outcome.ref}
    if outcome.outcome == "automatic":
        entry["kind"] = outcome.detail
    elif outcome.outcome == "quarantined":
        entry["reason"] = outcome.detail
    return entry


def list_cases(store: CaseStore, open_only: bool, as_json: bool) -> int:
    listing = case_rows(store, open_only)
    if as_json:  # the report's facts stay out of the listing: they are the report's business
        print(json.dumps([{k: v for k, v in row.items() if k != "facts"} for row in listing], indent=2))
        return EXIT_OK
    for row in listing:
        due = row["next_deadline"]
        print(
            f"{row['ref']:<18} {row['status']:<17} lead: {row['lead'] or '-':<28} "
            f"next: {due['on'] + ' ' + due['what'] if due else '-'}"
        )
        print(f"{'':18} {', '.join(row['organisations'] or [])}")
    return EXIT_OK


def _when(text: str) -> str:
    """A time to move the practice clock to; checked here for its form, placed once the store's
    practice time is known."""
    try:
        parse_when(text, utc_now())
    except TimeNotMoved as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _reference(text: str) -> str:
    """A case reference: letters, digits and hyphens as the store names its records, so nothing
    given here can name a file outside the store."""
    try:
        return check_id(text, "case reference")
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a case reference: {text!r}") from None


def _folder(text: str) -> Path:
    """A folder, or where one can be made."""
    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"not a folder: {text}")
    return Path(text)


def _source(text: str) -> Path:
    """What `import` reads: an .eml or mbox file, or a Maildir folder (one with cur/ and new/)."""
    path = Path(text)
    if not path.exists():
        problem = "no such file or folder"
    elif path.is_dir() and not ((path / "cur").is_dir() and (path / "new").is_dir()):
        problem = "not a Maildir folder (it has no cur/ and new/ folders)"
    elif not (path.is_dir() or path.is_file()):
        problem = "neither a file nor a folder"
    elif not os.access(path, os.R_OK):
        problem = "cannot be read"
    else:
        return path
    raise argparse.ArgumentTypeError(f"{problem}: {text}")


def report(
    config: Config,
    store: CaseStore,
    start: date | None,
    end: date | None,
    org: str | None,
    form: str,
    now: datetime,
) -> int:
    """The figures for cases received from `start` to `end`; a missing end is the end of the
    reporting year (to 31 March) of the other one, and with neither, of today."""
    if org is not None and org not in {o.id for o in config.organisations}:
        print(f"jointly: no organisation {org!r} in the configuration", file=sys.stderr)
        return EXIT_INVALID
    today = london_date(now)
    home = config.service.home_organisation
    year = Scope.reporting_year(start or end or today, home, org)
    scope = Scope(
        start or year.start, end or year.end, home, org, {o.id: o.name for o in config.organisations}
    )
    if scope.start > scope.end:
        print(f"jointly: --from {scope.start} is after --to {scope.end}", file=sys.stderr)
        return EXIT_INVALID
    figures = compute(load_facts(CaseService(store)), scope, today)
    if form == "json":
        print(json.dumps(figures, indent=2))
    elif form == "csv":
        sys.stdout.write(to_csv(figures))
    else:
        print_tables(figures, Console(highlight=False))
    return EXIT_OK


def referral(
    config: Config, store: CaseStore, ref: str, org: str, ombudsman: Ombudsman, now: datetime
) -> int:
    """Record the referral as the running organisation's first handler (the assistant, if none)."""
    people = handlers(config, config.service.home_organisation)
    who = actor(people[0]) if people else system_actor(config)
    command = RecordOmbudsmanReferral(actor=who, org_id=org, ombudsman=ombudsman)
    service = CaseService(store)
    try:
        service.load(ref)  # a reference that cannot exist is "no such case", not a new one
        service.execute(ref, command, now)
    except DomainError as error:
        print(f"jointly: {error.message}", file=sys.stderr)
        return EXIT_CASE
    body = config.ombudsmen.phso if ombudsman is Ombudsman.PHSO else config.ombudsmen.lgsco
    name = next((o.name for o in config.organisations if o.id == org), org)
    print(f"{ref}: referral to the {body.name} recorded for {name}'s part.")
    return EXIT_OK


def bundle(config: Config, store: CaseStore, command: str, what: str, out: Path, now: datetime) -> int:
    """Write the Ombudsman chronology of case `what`, or the subject access export for email `what`."""
    service = CaseService(store)
    try:
        if command == "chronology":
            written = write_chronology(service, config, what, out, now)
        else:
            written = export_person(service, config, what, out, now)
    except (FileExistsError, ValueError) as error:
        print(f"jointly: {error}", file=sys.stderr)
        return EXIT_INVALID
    print(written)
    return EXIT_OK


def list_retention(store: CaseStore, as_json: bool, now: datetime) -> int:
    due = due_for_review(CaseService(store), london_date(now))
    if as_json:
        print(json.dumps([vars(d) for d in due], indent=2))
        return EXIT_OK
    if not due:
        print("No closed record is due for review.")
    for record in due:
        print(f"{record.ref}  closed {record.closed_at[:10]}  review due {record.review_on}")
    return EXIT_OK


def destroy_record(
    config: Config, store: CaseStore, ref: str, person: str, reason: str, now: datetime
) -> int:
    try:
        gone = destroy(CaseService(store), config, ref, person, reason, now)
    except KeyError:
        print(f"jointly: no person {person!r} in the directory", file=sys.stderr)
        return EXIT_INVALID
    except DomainError as error:
        print(f"jointly: {error.message}", file=sys.stderr)
        return EXIT_CASE
    print(f"{ref}: record destroyed; a tombstone remains ({gone} attachment file(s) removed).")
    return EXIT_OK


def show_case(
    store: CaseStore, ref: str, as_json: bool, brief: bool = False, now: datetime | None = None
) -> int:
    if ref.startswith("Q-") and store.exists(ref):
        return show_set_aside(store, ref, as_json)
    service = CaseService(store)
    case = service.load(ref)
    events = store.load(ref).events
    timeline: dict[str, Any] = {
        "ref": ref,
        "status": case.status.value,
        "events": events,
        "letters": [to_plain(letter) for letter in case.letters.values()],
        "deadlines": [to_plain(d) for d in deadlines(case)],
    }
    if as_json:
        print(json.dumps(timeline, indent=2))
        return EXIT_OK
    if not brief:
        width = shutil.get_terminal_size().columns - 1
        print("\n".join(case_text(case, london_date(now or utc_now()), width)))
        return EXIT_OK
    print(f"{ref}  {case.status.value}")
    for event in events:
        details = ", ".join(f"{k}={_short(v)}" for k, v in event.items() if k not in ("type", "at", "by"))
        print(f"  {event['at'][:16].replace('T', ' ')}  {event['by']:<12} {event['type']:<24} {details}")
    for d in deadlines(case):
        print(f"  due {d.on.isoformat()}  {d.what}")
    return EXIT_OK


def show_set_aside(store: CaseStore, ref: str, as_json: bool) -> int:
    """A message set aside by intake: when, which mailbox file, and why."""
    events = store.load(ref).events
    if as_json:
        print(json.dumps({"ref": ref, "status": "quarantined", "events": events}, indent=2))
        return EXIT_OK
    for event in events:
        print(f"{ref}  {event['at'][:16].replace('T', ' ')}  message {event['uid']}: {event['reason']}")
    return EXIT_OK


def _short(value: Any) -> str:
    """One line, at most 40 characters: names stand for records, lists are joined."""
    if isinstance(value, dict):
        value = value.get("name") or value.get("id") or json.dumps(value)
    if isinstance(value, list):
        value = "; ".join(_short(v) for v in value)
    text = " ".join(str(value).split()) if value is not None else "-"
    return text if len(text) <= 40 else text[:37] + "..."


if __name__ == "__main__":
    sys.exit(main())
