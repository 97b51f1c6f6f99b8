"""Property-based fuzzing of the published OpenAPI schema with schemathesis: no input gives a 5xx.

Every operation in ``/openapi.json`` of a real server (uvicorn on 127.0.0.1, tmp database, fast
payment timings) gets a bounded number of schema-valid (positive) and schema-violating (negative)
requests, checked with schemathesis' ``not_a_server_error``. Derandomized, so a run is repeatable.

The fuzzer carries credentials, so it gets past the auth layer into the handlers: every request is
signed as the provisioned kiosk ``KIOSK-T1`` (``sync.signing.KioskAuth``, a fresh signature per
request) and carries an admin session token. Staff logout is fuzzed last, since it ends that session.

Longer fuzzing session (more examples per operation and mode)::

    KIOSK_FUZZ_EXAMPLES=500 QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -q \\
        tests/test_server_schemathesis.py

or, with the whole schemathesis CLI (stateful phase, coverage phase, every check), against a
throw-away server started with ``python -m server --db /tmp/fuzz.db --fast-payments``::

    .venv/bin/st run http://127.0.0.1:8700/openapi.json --checks not_a_server_error \\
        --max-examples 1000 --seed 1
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error

from sync.signing import KioskAuth

EXAMPLES = int(os.environ.get("KIOSK_FUZZ_EXAMPLES", "25"))
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


@pytest.mark.slow
def test_no_server_error_on_any_operation(server: Any) -> None:
    schema = schemathesis.openapi.from_url(server.base_url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    assert "POST /api/v1/payments" in labels and "POST /api/v1/patients/identify" in labels
    assert not any("/sandbox/" in label for label in labels), "the provider sandbox is not the kiosk API"
    assert "POST /api/v1/enrollments" in labels and "POST /api/v1/staff/login" in labels
    operations.sort(key=lambda op: op.label == "POST /api/v1/staff/logout")  # it ends the admin session

    failures: list[str] = []
    with requests.Session() as http:
        http.auth = KioskAuth.from_credential(server.kiosk_credential("KIOSK-T1"))
        http.headers["Authorization"] = f"Bearer {server.staff_token()}"
        signed_ok = http.get(server.base_url + "/api/v1/departments", timeout=10)
        assert signed_ok.status_code == 200, "the fuzzer's credential must get past the signature check"
        for op in operations:
            for mode in MODES:
                # No shrink phase: shrinking a failure would eat the time budget, and the failure text
                # below already carries a curl line to reproduce it.
                @settings(
                    max_examples=EXAMPLES,
                    derandomize=True,
                    database=None,
                    deadline=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=op.as_strategy(generation_mode=mode))
                def run(case: schemathesis.Case) -> None:
                    case.call_and_validate(
                        base_url=server.base_url, session=http, checks=[not_a_server_error], timeout=10
                    )

                try:
                    run()
                except Unsatisfiable:
                    # negative mode for an operation without parameters or body: nothing to break
                    assert mode is schemathesis.GenerationMode.NEGATIVE, op.label
                # FailureGroup is a BaseExceptionGroup; collect every operation's failure, not just the first
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported in the assert below
                    failures.append(f"{op.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
