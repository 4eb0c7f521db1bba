"""The schemathesis drive shared by the regular fuzz test and bench/fuzz_api.py.

schemathesis' own pytest plugin does not run under pytest 9, so each operation
of /api/openapi.json gets its own hypothesis test here, positive then negative
cases, with a given seed and example count.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

# Wrong passwords from the fuzz are counted against this address, not against
# 127.0.0.1 (which every other test and the live stack sign in from).
FUZZ_ADDRESS = "198.51.100.77"
# Revoking alice's token mid-run would turn the rest into 401s; revocation has
# its own tests (tests/ganweb/api, tests/security/test_socket_access.py).
SKIPPED = {("DELETE", "/api/auth/token/revoke")}


def with_address(app):
    def wrapped(environ, start_response):
        environ["REMOTE_ADDR"] = FUZZ_ADDRESS
        return app(environ, start_response)

    return wrapped


@dataclass
class FuzzReport:
    operations: int = 0
    statuses: Counter = field(default_factory=Counter)  # answers by class (200...)
    failures: list[str] = field(default_factory=list)  # one per failing operation


def fuzz_api(schema, *, headers: dict, fuzz_seed: int, examples: int) -> FuzzReport:
    """Every operation of ``schema`` (schemathesis, from_wsgi) with ``examples``
    cases per generation mode, drawn from ``fuzz_seed``; a 5xx is a failure,
    except 503 "no worker" (documented: no light worker answered in time)."""
    report = FuzzReport()
    budget = settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,  # no replay of other runs' examples: the seed decides
    )
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        report.operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @seed(fuzz_seed)
            @budget
            @given(case=operation.as_strategy(mode))
            def call(case):
                case.headers = {**(case.headers or {}), **headers}
                response = case.call()
                report.statuses[response.status_code // 100 * 100] += 1
                if response.status_code == 503 and "no worker" in response.text:
                    return
                case.validate_response(response, checks=(not_a_server_error,))

            try:
                call()
            except Exception as failure:  # keep going: report every operation
                report.failures.append(f"{operation.label} ({mode.value}): {failure}")
    return report
