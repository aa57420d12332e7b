#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Reads relay_rs QEMU console logs (and host test output) and reports.

tests/report.py test HOST_LOG KERNEL=LOG...
  One console log per kernel (7.3=build/7.3/test.log ...): every KUnit case
  (KTAP) and guest check is a result, named with its kernel (`[7.3] kunit
  relay_rs.foo`); an Oops, BUG, WARN, KASAN/UBSAN/lockdep/kmemleak report,
  panic, timeout, missing suite, missing end marker or missing log is a
  failure of that kernel. The host log's `test NAME ... ok` lines are
  results once (`host NAME`); one whose name starts with a kernel between
  brackets (`test [7.3] compile_fail::foo`, tests/compile-fail/run.sh) is
  that kernel's. Ends with one line, `N passed, N failed`, over everything.
tests/report.py demo LOG
  Prints what the guest printed; fails unless the demo succeeded.
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


def guest_results(lines):
    """[(ok, name)] of one kernel's console log."""
    results = []
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
            # The console may put a kernel message on the same line, after
            # the name (the guest's write and printk share the UART).
            name = re.sub(r'\[\s*\d+\.\d+\].*$', '', m.group(2)).rstrip()
            results.append((m.group(1) == 'ok', f'guest {name}'))
    for s in EXPECTED_SUITES:
        if s not in suites_seen:
            results.append((False, f'kunit suite {s} did not run'))
    if not any(l == 'RELAY_RS_DONE' for l in lines):
        results.append((False, 'guest did not finish (hang, crash or timeout)'))
    for what, i, line in kernel_problems(lines):
        results.append((False, f'{what}: {line.strip()}'))
    return results


def test(kernel_logs, host_lines):
    """kernel_logs: [(kernel, console lines, or None if the log is missing)]."""
    groups = {k: [] for k, _, _ in kernel_logs}  # kernel -> [(ok, name)]
    for kernel, lines, path in kernel_logs:
        if lines is None:
            groups[kernel].append((False, f'no console log {path} (kernel or module build '
                                          'failed, or the guest never started: see above)'))
        else:
            groups[kernel] += guest_results(lines)
    host = []
    if host_lines is None:
        host.append((False, 'no host log'))
    for line in host_lines or []:
        m = re.match(r'^test (?:\[([^\]\s]+)\] )?(\S+) \.\.\. (ok|FAILED|ignored)', line)
        if m and m.group(3) != 'ignored':
            result = (m.group(3) == 'ok', m.group(2))
            if m.group(1):
                groups.setdefault(m.group(1), []).append(result)
            else:
                host.append(result)
    results = [(ok, f'[{k}] {name}') for k, g in groups.items() for ok, name in g]
    results += [(ok, f'host {name}') for ok, name in host]
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


def read_lines(path):
    """The log's lines without line ends, or None if it does not exist."""
    try:
        with open(path, errors='replace') as f:
            return [l.rstrip('\r\n') for l in f]
    except FileNotFoundError:
        return None


def usage():
    sys.exit(__doc__.strip())


def main():
    if len(sys.argv) == 3 and sys.argv[1] == 'demo':
        raw = read_lines(sys.argv[2])
        if raw is None:
            print(f'demo: no console log {sys.argv[2]}')
            print('demo: FAILED')
            sys.exit(1)
        sys.exit(demo([clean(l) for l in raw], raw))
    if len(sys.argv) < 4 or sys.argv[1] != 'test' or not all('=' in a for a in sys.argv[3:]):
        usage()
    kernel_logs = []
    for arg in sys.argv[3:]:
        kernel, path = arg.split('=', 1)
        raw = read_lines(path)
        kernel_logs.append((kernel, None if raw is None else [clean(l) for l in raw], path))
    sys.exit(test(kernel_logs, read_lines(sys.argv[2])))


if __name__ == '__main__':
    main()
