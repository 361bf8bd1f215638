"""Parsing hostile mail: ``python -m bench.bench_parse``.

Prints one JSON object: the seconds `mail.parse.parse_message` takes over the largest shapes of
`tests/mail/test_bad_input.py` (which asserts their bounded work, not their time): a 30 MiB
attachment (40 MB of base64), 5,000 tiny parts, and HTML shaped to make a parser slow. Each is the
best of `--runs`. Targets: the attachment under 4 s, every other shape under 2 s.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from bench.common import machine, peak_rss_mb
from mail.parse import parse_message
from tests.mail.test_bad_input import HEAD, HOSTILE_HTML, big_attachment, tiny_parts


def best_of(runs: int, raw: bytes) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        parse_message(raw)
        times.append(time.perf_counter() - started)
    return round(min(times), 3)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    shapes = {"attachment_30_mib": big_attachment()[0], "parts_5000": tiny_parts()}
    for name, html in HOSTILE_HTML.items():
        shapes[f"html_{name.replace(' ', '_')}"] = HEAD + b"Content-Type: text/html\n\n" + html
    seconds = {name: best_of(max(args.runs, 1), raw) for name, raw in shapes.items()}
    limits = {name: 4.0 if name == "attachment_30_mib" else 2.0 for name in seconds}
    return {
        "seconds": seconds,
        "targets": {name: {"value": s, "ok": s < limits[name]} for name, s in seconds.items()},
        "peak_rss_mb": peak_rss_mb(),
        "machine": machine(),
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
