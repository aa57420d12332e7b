#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Reads a relay_rs QEMU console log (and host test output) and reports.

test mode: every KUnit case (KTAP) and guest check is a result; an Oops,
BUG, WARN, KASAN/UBSAN/lockdep/kmemleak report, panic, timeout, missing
suite or missing end marker is a failure. Ends with `N passed, N failed`.
demo mode: prints what the guest printed; fails unless the demo succeeded.
"""
import re
import sys

TS = re.compile(r'^\[\s*\d+\.\d+\]\s?')
BAD = [
    (re.compile(r'\bOops\b'), 'kernel Oops'),
    (re.compile(r'\bBUG:'), 'kernel BUG'),
    (re.compile(r'^------------\[ cut here \]'), 'kernel WARN'),
    (re.compile(r'^WARNING:'), 'kernel WARNING'),
    (re.compile(r'Kernel panic'), 'kernel panic'),
    (re.compile(r'KASAN'), 'KASAN report'),
    (re.compile(r'UBSAN'), 'UBSAN report'),
    (re.compile(r'possible (recursive|circular) locking|inconsistent lock state|'
                r'suspicious RCU usage|lock held when returning'), 'lockdep report'),
    (re.compile(r'unreferenced object'), 'kmemleak report'),
    (re.compile(r'general protection fault|Unable to handle|BUG: unable'), 'kernel fault'),
    (re.compile(r'Call Trace:'), 'kernel stack trace'),
    (re.compile(r'RELAY_RS_TIMEOUT'), 'QEMU timeout'),
]
EXPECTED_SUITES = ['relay_rs', 'relay_rs_c', 'relay_rs_c_fit']


def clean(line):
    return TS.sub('', line.rstrip('\r\n'))


def kernel_problems(lines):
    probs = []
    for i, line in enumerate(lines):
        for pat, what in BAD:
            if pat.search(line):
                probs.append((what, i, line))
                break
    return probs


def demo(lines, raw):
    inside = False
    for line in raw:
        if line.startswith('RELAY_RS_GUEST_START'):
            inside = True
            continue
        if inside and not line.startswith('RELAY_RS_') and not TS.match(line):
            print(line)
    probs = kernel_problems(lines)
    for what, i, line in probs:
        print(f'demo: {what}: {line}')
    ok = (any(l == 'RELAY_RS_DEMO ok' for l in lines)
          and any(l == 'RELAY_RS_DEMO_LIVE ok' for l in lines) and not probs)
    print('demo: ' + ('every record written was read back intact or counted as lost'
                      if ok else 'FAILED'))
    return 0 if ok else 1


def test(lines, host_lines):
    results = []  # (ok, name)
    suite = None
    suites_seen = set()
    for line in lines:
        m = re.match(r'^\s+# Subtest: (\S+)', line)
        if m:
            suite = m.group(1)
            continue
        m = re.match(r'^(\s+)(not ok|ok) \d+ (.+?)(\s+#\s*SKIP.*)?$', line)
        if m and suite:
            if m.group(4):
                continue
            results.append((m.group(2) == 'ok', f'kunit {suite}.{m.group(3)}'))
            continue
        m = re.match(r'^(not ok|ok) \d+ (\S+)', line)
        if m:
            suites_seen.add(m.group(2))
            suite = None
            continue
        m = re.match(r'^RELAY_RS_CHECK (not ok|ok) (.+)$', line)
        if m:
            results.append((m.group(1) == 'ok', f'guest {m.group(2)}'))
    for s in EXPECTED_SUITES:
        if s not in suites_seen:
            results.append((False, f'kunit suite {s} did not run'))
    if not any(l == 'RELAY_RS_DONE' for l in lines):
        results.append((False, 'guest did not finish (hang, crash or timeout)'))
    for what, i, line in kernel_problems(lines):
        results.append((False, f'{what}: {line.strip()}'))
    for line in host_lines:
        m = re.match(r'^test (\S+) \.\.\. (ok|FAILED|ignored)', line)
        if m and m.group(2) != 'ignored':
            results.append((m.group(2) == 'ok', f'host {m.group(1)}'))
    # A suite that runs again (relay_rs reloaded) counts once per test; a
    # test fails if any of its runs failed.
    merged = {}
    for ok, name in results:
        merged[name] = merged.get(name, True) and ok
    results = [(ok, name) for name, ok in merged.items()]
    for ok, name in results:
        print(('ok     ' if ok else 'FAILED ') + name)
    passed = sum(1 for ok, _ in results if ok)
    failed = len(results) - passed
    print(f'{passed} passed, {failed} failed')
    return 0 if failed == 0 and passed > 0 else 1


def main():
    mode, log = sys.argv[1], sys.argv[2]
    with open(log, errors='replace') as f:
        raw = [l.rstrip('\r\n') for l in f]
    lines = [clean(l) for l in raw]
    host = []
    if len(sys.argv) > 3:
        with open(sys.argv[3], errors='replace') as f:
            host = [l.rstrip('\n') for l in f]
    sys.exit(demo(lines, raw) if mode == 'demo' else test(lines, host))


if __name__ == '__main__':
    main()
