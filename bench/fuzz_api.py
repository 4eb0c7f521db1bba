"""A longer schemathesis run over the whole API with fresh seeds; prints findings.

    .venv/bin/python -m ganweb.devstack with-redis -- \
        .venv/bin/python bench/fuzz_api.py [--runs 2] [--examples 100] [--seed N]

The regular suite (tests/security/test_api_schema_fuzz.py) replays one fixed
seed with 30 examples per operation so that CI is repeatable; this script
searches wider, with a new seed each run, on a throwaway SQLite database.
Every finding is printed with schemathesis' reproduction (a curl line) and
becomes a regression test in tests/ganweb. Rewrites its section of
bench/RESULTS.md (seeds, examples, operations, findings).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _django(workdir: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ganweb.settings")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'fuzz.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.GAN_PLAYGROUND_TIMEOUT = 0.5  # no worker here: 503 "no worker"
    settings.GAN_PREFLIGHT_TIMEOUT = 0.5
    call_command("migrate", verbosity=0, interactive=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="seeds to try")
    parser.add_argument("--examples", type=int, default=100, help="per operation")
    parser.add_argument("--seed", type=int, default=None, help="first seed")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="fuzz-api-"))
    _django(workdir)

    import schemathesis
    from django.contrib.auth import get_user_model
    from django.core.wsgi import get_wsgi_application
    from rest_framework.authtoken.models import Token

    from bench.results_file import commit, machine, write_section
    from ganweb.accounts.throttle import login_failures_reset
    from tests.security.api_fuzz import FUZZ_ADDRESS, fuzz_api, with_address

    alice = get_user_model().objects.create_user("alice", password="fuzz-fuzz-1")
    auth = {"Authorization": f"Bearer {Token.objects.create(user=alice).key}"}
    schema = schemathesis.openapi.from_wsgi(
        "/api/openapi.json", with_address(get_wsgi_application())
    )
    first = (
        args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    )
    rows, findings = [], []
    for run in range(args.runs):
        fuzz_seed = first + run
        started = time.monotonic()
        report = fuzz_api(
            schema, headers=auth, fuzz_seed=fuzz_seed, examples=args.examples
        )
        login_failures_reset(username="", address=FUZZ_ADDRESS)
        seconds = time.monotonic() - started
        calls = sum(report.statuses.values())
        print(
            f"seed {fuzz_seed}: {report.operations} operations, {calls} calls in "
            f"{seconds:.0f}s, answers {dict(sorted(report.statuses.items()))}, "
            f"{len(report.failures)} findings",
            flush=True,
        )
        for failure in report.failures:
            print(f"\n--- seed {fuzz_seed}: {failure}\n", flush=True)
        findings += [
            (fuzz_seed, failure.splitlines()[0]) for failure in report.failures
        ]
        rows.append(
            f"| {fuzz_seed} | {report.operations} | {calls} | {seconds:.0f} | "
            f"{len(report.failures)} |"
        )
    load = os.getloadavg()[0]
    body = "\n".join(
        [
            "## API schema fuzzing (bench/fuzz_api.py)",
            "",
            f"Machine: {machine()}; commit {commit()}; load average {load:.1f} at the "
            f"end (shared machine). {args.examples} examples per operation and "
            "generation mode (positive, negative), a 5xx other than 503 "
            '"no worker" is a finding.',
            "",
            "| seed | operations | calls | seconds | findings |",
            "|---|---|---|---|---|",
            *rows,
            "",
            *([f"- seed {s}: {line}" for s, line in findings] or ["No findings."]),
        ]
    )
    write_section("fuzz-api", body)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
