#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarises a relay_rs benchmark console log (build/bench.log).

Each case (write path, record size, geometry) was timed in interleaved
rounds, C relay then relay_rs; the ratio relay_rs / C is taken per round and
reported as median and spread. Writes the raw CSV and the summary under
bench/results/.
"""
import csv
import os
import statistics
import sys


def main():
    log, outdir, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    rows, inside = [], False
    with open(log, errors='replace') as f:
        for line in f:
            line = line.strip()
            if line == 'RELAY_RS_BENCH_BEGIN':
                inside = True
            elif line == 'RELAY_RS_BENCH_END':
                inside = False
            elif inside and line.count(',') == 6:
                rows.append(line.split(','))
    if not rows:
        print('bench: no results (see %s)' % log)
        return 1
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, 'raw-%s.csv' % mode), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['impl', 'path', 'size', 'subbuf', 'n_subbufs', 'round', 'ns_per_record'])
        w.writerows(rows)
    cases = {}
    for impl, path, size, sb, n, rnd, ns in rows:
        key = (path, int(size), int(sb), int(n))
        cases.setdefault(key, {}).setdefault(int(rnd), {})[impl] = float(ns)
    summary = []
    print('%-8s %6s %9s %10s %10s %8s %15s' % ('path', 'size', 'subbufs', 'C ns/rec', 'rs ns/rec',
                                                'rs/C', 'spread'))
    for key in sorted(cases):
        rounds = [r for r in cases[key].values() if 'c_relay' in r and 'relay_rs' in r]
        ratios = [r['relay_rs'] / r['c_relay'] for r in rounds if r['c_relay'] > 0]
        c = statistics.median(r['c_relay'] for r in rounds)
        rs = statistics.median(r['relay_rs'] for r in rounds)
        med = statistics.median(ratios)
        path, size, sb, n = key
        geo = '%dKx%d' % (sb // 1024, n)
        print('%-8s %6d %9s %10.1f %10.1f %8.2f %7.2f-%-7.2f' % (path, size, geo, c, rs, med,
                                                              min(ratios), max(ratios)))
        summary.append([path, size, geo, '%.1f' % c, '%.1f' % rs, '%.3f' % med,
                        '%.3f' % min(ratios), '%.3f' % max(ratios)])
    with open(os.path.join(outdir, 'summary-%s.csv' % mode), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['path', 'size', 'geometry', 'c_ns_per_record', 'rs_ns_per_record',
                    'median_ratio', 'min_ratio', 'max_ratio'])
        w.writerows(summary)
    over = [s for s in summary if float(s[5]) > 1.0]
    print('bench (%s): %d cases, median ratio relay_rs/C above 1.00 in %d' % (mode, len(summary), len(over)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
