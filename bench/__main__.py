"""`make bench`: every benchmark, their figures printed as one JSON object."""

import json

from bench import (
    bench_alongside,
    bench_busy_day,
    bench_chronology,
    bench_intake,
    bench_parse,
    bench_replicas,
    bench_report,
    bench_slack,
    bench_store,
    bench_sweep,
    bench_teams,
    bench_year,
)

if __name__ == "__main__":
    figures = {
        "store": bench_store.main([]),
        "intake": bench_intake.main([]),
        "intake_replicas": bench_replicas.main([]),
        "slack": bench_slack.main([]),
        "teams": bench_teams.main([]),
        "sweep": bench_sweep.main([]),
        "busy_day": bench_busy_day.main([]),
        "report": bench_report.main([]),
        "report_alongside": bench_alongside.main([]),
        "chronology": bench_chronology.main([]),
        "parse": bench_parse.main([]),
        "year": bench_year.main(["--days", "91", "--complaints", "1250"]),  # a quarter: the year is 10 min
    }
    print(json.dumps(figures, indent=2))
