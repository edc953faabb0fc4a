#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs a toml-test decoder over every case of the conformance corpus.

usage: run-toml-test.py DECODER [CORPUS_DIR]

The corpus is $TOML_TEST_DIR if set, else CORPUS_DIR. Valid cases must decode
to JSON structurally equal to the expected .json (rules from the corpus
README); invalid cases must be rejected with exit status 1 and a
"line:col: message" diagnostic. Crashes, sanitizer reports and timeouts fail.
Ends with the line "N passed, M failed".
"""
import json
import math
import os
import re
import subprocess
import sys
from datetime import date

TIMEOUT = 20
DIAG = re.compile(rb"^[0-9]+:[0-9]+: \S.*\n?$")


def sanitizer_env():
    env = dict(os.environ)
    # a sanitizer report must not look like a clean parse error (exit 1)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":exitcode=86:detect_leaks=1"
    env["UBSAN_OPTIONS"] = env.get("UBSAN_OPTIONS", "") + ":halt_on_error=1:exitcode=87:print_stacktrace=1"
    return env


def run(decoder, path, env):
    with open(path, "rb") as f:
        data = f.read()
    try:
        p = subprocess.run([decoder], input=data, capture_output=True, timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return None, b"", b"timeout"
    return p.returncode, p.stdout, p.stderr


FRAC = re.compile(r"\.([0-9]+)")
DATETIME = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})([+-])([0-9]{2}):([0-9]{2})$")


def norm_datetime(kind, text):
    """Canonical form: upper-case T/Z, fraction truncated to ms without trailing zeros,
    offset datetimes as UTC instants."""
    t = text.strip()
    if kind in ("datetime", "datetime-local") and len(t) > 10 and t[10] in " t":
        t = t[:10] + "T" + t[11:]
    t = t.replace("z", "Z")
    frac = ""
    m = FRAC.search(t)
    if m:
        frac = m.group(1)[:3].rstrip("0")
        t = t[: m.start()] + t[m.end():]
    if kind != "datetime":
        return t + ("." + frac if frac else "")
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    m = DATETIME.match(t)
    if not m:
        return "bad:" + text
    y, mo, d, h, mi, sec, sign, oh, om = m.groups()
    # an instant in seconds, by plain arithmetic (no range limits, leap second 60 kept)
    try:
        days = date(int(y), int(mo), int(d)).toordinal()
    except ValueError:
        return "bad:" + text
    offset = (int(oh) * 60 + int(om)) * (-1 if sign == "-" else 1)
    instant = days * 86400 + int(h) * 3600 + int(mi) * 60 + int(sec) - offset * 60
    return f"{instant}.{frac}"


def is_scalar(v):
    return isinstance(v, dict) and set(v.keys()) == {"type", "value"} and isinstance(v["type"], str) \
        and isinstance(v["value"], str)


def compare(exp, got, path):
    """Returns None when equal, else a description of the first difference."""
    if is_scalar(exp):
        if not is_scalar(got):
            return f"{path}: expected {exp['type']}, got {type_name(got)}"
        if exp["type"] != got["type"]:
            return f"{path}: expected type {exp['type']}, got {got['type']}"
        t, a, b = exp["type"], exp["value"], got["value"]
        if t == "float":
            an, bn = "nan" in a.lower(), "nan" in b.lower()
            if an or bn:
                ok = an and bn
            else:
                try:
                    fa, fb = float(a), float(b)
                except ValueError:
                    return f"{path}: bad float {b!r}"
                ok = fa == fb and math.copysign(1, fa) == math.copysign(1, fb)
        elif t == "bool":
            ok = a.lower() == b.lower()
        elif t in ("datetime", "datetime-local", "date-local", "time-local"):
            ok = norm_datetime(t, a) == norm_datetime(t, b)
        else:
            ok = a == b
        return None if ok else f"{path}: expected {t} {a!r}, got {b!r}"
    if isinstance(exp, dict):
        if not isinstance(got, dict) or is_scalar(got):
            return f"{path}: expected table, got {type_name(got)}"
        if set(exp) != set(got):
            missing = sorted(set(exp) - set(got))
            extra = sorted(set(got) - set(exp))
            return f"{path}: keys differ: missing {missing}, extra {extra}"
        for k in exp:
            d = compare(exp[k], got[k], f"{path}.{k!r}")
            if d:
                return d
        return None
    if isinstance(exp, list):
        if not isinstance(got, list):
            return f"{path}: expected array, got {type_name(got)}"
        if len(exp) != len(got):
            return f"{path}: expected {len(exp)} elements, got {len(got)}"
        for i, (a, b) in enumerate(zip(exp, got)):
            d = compare(a, b, f"{path}[{i}]")
            if d:
                return d
        return None
    return f"{path}: unexpected JSON in expected file: {exp!r}"


def type_name(v):
    if is_scalar(v):
        return v["type"]
    if isinstance(v, dict):
        return "table"
    if isinstance(v, list):
        return "array"
    return repr(v)


def check_valid(decoder, toml_path, env):
    rc, out, err = run(decoder, toml_path, env)
    if rc != 0:
        return f"exit status {rc}, expected 0: {err.decode(errors='replace').strip()[:300]}"
    try:
        got = json.loads(out)
    except ValueError as e:
        return f"decoder wrote invalid JSON: {e}"
    with open(toml_path[:-5] + ".json", "rb") as f:
        exp = json.loads(f.read())
    return compare(exp, got, "$")


def check_invalid(decoder, toml_path, env):
    rc, out, err = run(decoder, toml_path, env)
    if rc is None:
        return "timeout"
    if rc == 0:
        return "accepted, expected an error"
    if rc != 1:
        return f"exit status {rc} (crash?): {err.decode(errors='replace').strip()[:300]}"
    if not DIAG.match(err):
        return f"diagnostic is not 'line:col: message': {err[:200]!r}"
    return None


def collect(root, kind):
    cases = []
    for dirpath, _, files in os.walk(os.path.join(root, kind)):
        for f in files:
            if f.endswith(".toml"):
                cases.append(os.path.join(dirpath, f))
    return sorted(cases)


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    decoder = sys.argv[1]
    root = os.environ.get("TOML_TEST_DIR") or (sys.argv[2] if len(sys.argv) > 2 else None)
    if not root or not os.path.isdir(os.path.join(root, "valid")):
        print(f"toml-test corpus not found at {root!r} (set TOML_TEST_DIR)", file=sys.stderr)
        return 2
    env = sanitizer_env()
    valid, invalid = collect(root, "valid"), collect(root, "invalid")
    if not valid or not invalid:
        print(f"no cases under {root}", file=sys.stderr)
        return 2
    passed = failed = 0
    for kind, cases, check in (("valid", valid, check_valid), ("invalid", invalid, check_invalid)):
        for case in cases:
            msg = check(decoder, case, env)
            name = os.path.relpath(case, root)
            if msg:
                failed += 1
                print(f"FAIL {name}: {msg}")
            else:
                passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
