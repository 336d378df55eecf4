"""Runs every scenario of one project directory against a fresh in-memory
SQLite database seeded at one size, and writes a JSON report.

Runs inside the e2e virtualenv (Django installed); started by runner.py:

    python worker.py --project DIR --size N --out FILE
"""

import argparse
import hashlib
import json
import os
import sys
import traceback


def digest(outcome):
    text = json.dumps(outcome, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def run(project, size):
    sys.path.insert(0, os.path.abspath(project))
    sys.path.insert(1, os.path.dirname(os.path.abspath(__file__)))
    os.environ["DJANGO_SETTINGS_MODULE"] = "e2eproj.settings"

    import django

    django.setup()

    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from seed import seed

    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    with transaction.atomic():
        seed(size)

    import library.scenarios as registry

    report = []
    for sc in registry.load():
        ContentType.objects.clear_cache()
        with transaction.atomic():
            with CaptureQueriesContext(connection) as ctx:
                try:
                    outcome = {"value": sc.func()}
                except Exception as exc:  # a scenario that raises is recorded, not fatal
                    outcome = {"error": type(exc).__name__, "message": str(exc)}
            transaction.set_rollback(True)
        try:
            result_digest = digest(outcome)
        except (TypeError, ValueError) as exc:
            outcome = {"error": "NotJSONSerializable", "message": str(exc)}
            result_digest = digest(outcome)
        report.append(
            {
                "name": sc.name,
                "module": sc.module,
                "file": os.path.relpath(sys.modules[sc.module].__file__, project),
                "nplusone": sc.nplusone,
                "fixed_by": sc.fixed_by,
                "may_change": sc.may_change,
                "owns": list(sc.owns),
                "queries": len(ctx.captured_queries),
                "digest": result_digest,
                "error": outcome.get("error") and f"{outcome['error']}: {outcome['message']}"[:300],
            }
        )
    return report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        report = {"size": args.size, "scenarios": run(args.project, args.size)}
    except Exception:
        report = {"size": args.size, "fatal": traceback.format_exc()}
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
