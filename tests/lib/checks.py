"""The pass/fail lines the Python test scripts print: `ok: ...` per check that holds, and
`FAIL: ...` then exit status 1 at the first one that does not (CTest reads the status)."""
import sys


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)
    print("ok: " + message)
