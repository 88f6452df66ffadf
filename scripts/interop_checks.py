"""The check harness the interoperability scripts share (idc_interop.py,
idc_admin_interop.py): each check prints one JSON object,
{"check": NAME, "ok": true} or {"check": NAME, "ok": false, "detail": ...};
a later check can `need` what an earlier one stored in STATE, and
`exit_code()` is 0 only if every check passed."""
import json
import traceback

RESULTS = []
STATE = {}


def report(name, ok, detail=None):
    line = {"check": name, "ok": bool(ok)}
    if not ok:
        line["detail"] = detail
    RESULTS.append(line)
    print(json.dumps(line), flush=True)


class CheckFailed(Exception):
    pass


def expect(cond, detail):
    if not cond:
        raise CheckFailed(detail)


def check(name):
    """Runs the decorated function at once as one check; an exception is a failure."""

    def run(fn):
        try:
            fn()
        except CheckFailed as e:
            report(name, False, str(e))
        except Exception as e:  # noqa: BLE001 - any surprise is a failed check
            report(name, False, f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=-3)}")
        else:
            report(name, True)
        return fn

    return run


def need(key):
    if key not in STATE:
        raise CheckFailed(f"skipped: an earlier check did not produce {key!r}")
    return STATE[key]


def exit_code():
    return 1 if any(not r["ok"] for r in RESULTS) else 0
