#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarises a relay_rs benchmark console log (build/KERNEL/bench-MODE.log).

Writers: each case (CPUs, write path, record size, geometry) was timed in
interleaved rounds, one block per peer per round; each ratio of RATIOS (to
the C relay, and relay_rs' to the ftrace ring buffer) is taken per round and
reported as median and spread. Readers: MB/s
per consumer, its ratio to the C relay's read() with the same buffer size,
and conservation (records read + lost = attempted). Writes CSVs and a plot
under OUTDIR, bench/results/KERNEL/ (MODE: walltime or icount).

bench/report.py LOG OUTDIR MODE              one mode's log: tables, CSVs, plot
bench/report.py --tables PAGE OUTDIR KERNEL  KERNEL's tables in PAGE (docs/performance.md)
                                             from OUTDIR's CSVs
"""
import csv
import os
import re
import statistics
import sys

# The peers, as bench_main.c's peers[] names them, in column order. A
# peer is one more entry here (and its ratios in RATIOS, its label in LABELS
# and STYLE, and a PEER_TABLES entry for docs/performance.md).
IMPLS = ['c_relay', 'relay_rs', 'relay_rs_rust', 'relay_rs_lockless', 'ftrace', 'memcpy']
LABELS = {'c_relay': 'C', 'relay_rs': 'rs(C)', 'relay_rs_rust': 'rs(Rust)',
          'relay_rs_lockless': 'rs(lockl)', 'ftrace': 'ftrace', 'memcpy': 'memcpy'}
# Ratios per round, (key, numerator, denominator): the summary CSV has
# KEY_median, KEY_min and KEY_max.
RATIOS = [('rs_c', 'relay_rs', 'c_relay'), ('rs_rust', 'relay_rs_rust', 'c_relay'),
          ('ftrace_c', 'ftrace', 'c_relay'), ('rs_ftrace', 'relay_rs', 'ftrace'),
          ('rs_rust_ftrace', 'relay_rs_rust', 'ftrace'),
          ('lockless_c', 'relay_rs_lockless', 'c_relay'),
          ('lockless_ftrace', 'relay_rs_lockless', 'ftrace')]
# Ratios to the C relay, whose median above 1.00 a run counts.
TO_C = [k for k, _, d in RATIOS if d == 'c_relay' and k in ('rs_c', 'rs_rust')]
SUMMARY_HEADER = (['cpus', 'path', 'size', 'geometry'] + ['%s_ns' % i for i in IMPLS] +
                  ['%s_%s' % (k, s) for k, _, _ in RATIOS for s in ('median', 'min', 'max')])
# Tables of a peer against the others in docs/performance.md, after the
# relay_rs / C relay ones: (peer, its name there, [(ratio key, column)]).
PEER_TABLES = [('ftrace', 'ftrace ring buffer',
                [('ftrace_c', 'ftrace / C'), ('rs_ftrace', 'relay_rs / ftrace')]),
               ('relay_rs_lockless', 'relay_rs lockless channels',
                [('lockless_c', 'lockless / C'), ('lockless_ftrace', 'lockless / ftrace')])]


def scaling(rows):
    """From summary rows keyed (cpus, path, size, geometry), as strings:
    (CPUs, [(impl, time for a block on every CPU at once / for one block on
    1 CPU)], [(relay_rs API, its ratio to C on all CPUs / on 1 CPU)],
    [(relay_rs API, lowest, highest median ratio to C on all CPUs)]),
    medians over cases; None without a multi-CPU run. The second is
    steadier: it comes from the interleaved rounds."""
    allc = sorted({int(k[0]) for k in rows if int(k[0]) > 1})
    if not allc:
        return None
    pairs = [(r, rows[('1',) + k[1:]]) for k, r in rows.items()
             if k[0] == str(allc[-1]) and ('1',) + k[1:] in rows]
    absolute, relative, spread = [], [], []
    for impl in IMPLS:
        col = '%s_ns' % impl
        v = [float(r[col]) / float(one[col]) for r, one in pairs
             if r.get(col) and one.get(col)]
        if v:
            absolute.append((impl, statistics.median(v)))
    for a, name in (('rs_c', 'from C'), ('rs_rust', 'from Rust')):
        col = '%s_median' % a
        v = [float(r[col]) / float(one[col]) for r, one in pairs]
        if v:
            relative.append((name, statistics.median(v)))
        m = [float(r[col]) for r, _ in pairs]
        if m:
            spread.append((name, min(m), max(m)))
    return allc[-1], absolute, relative, spread


# A kernel message the console printed into a line of output.
KMSG = re.compile(r'\[ *\d+\.\d+\] .*')
WRITE_LINE = re.compile(r'^[a-z_]+,[a-z_]+(,\d+){5},\d+\.\d{3}$')


def parse(log):
    writes, reads, section = [], [], None
    with open(log, errors='replace') as f:
        for line in f:
            line = KMSG.sub('', line).strip()
            if line in ('RELAY_RS_BENCH_BEGIN', 'RELAY_RS_READ_BEGIN'):
                section = line
            elif line in ('RELAY_RS_BENCH_END', 'RELAY_RS_READ_END'):
                section = None
            elif section == 'RELAY_RS_BENCH_BEGIN' and WRITE_LINE.match(line):
                # (A line a message cut in two is left out: one measurement.)
                writes.append(line.split(','))
            elif section == 'RELAY_RS_READ_BEGIN' and line.startswith('RDBENCH '):
                reads.append(line[8:].split(','))
    return writes, reads


def write_table(writes, outdir, mode):
    cases = {}
    for impl, path, size, sb, n, cpus, rnd, ns in writes:
        key = (int(cpus), path, int(size), int(sb), int(n))
        cases.setdefault(key, {}).setdefault(int(rnd), {})[impl] = float(ns)
    summary, medians = [], {}
    print('writers (%s): median ns/record; ratios per round (median, min-max): to the C relay,'
          ' and relay_rs\' to ftrace' % mode)
    shown = [('rs_c', 'rs(C)/C'), ('rs_rust', 'rs(Rust)/C'), ('ftrace_c', 'ftrace/C'),
             ('rs_ftrace', 'rs(C)/ftrace')]
    print('%4s %-8s %5s %7s ' % ('cpus', 'path', 'size', 'subbufs') +
          ' '.join('%8s' % LABELS[i] for i in IMPLS) + ' ' +
          ' '.join('%13s' % t for _, t in shown))
    for key in sorted(cases):
        rounds = [r for r in cases[key].values() if 'c_relay' in r and r['c_relay'] > 0]
        med = {i: statistics.median(r[i] for r in rounds) for i in IMPLS
               if all(i in r for r in rounds)}
        ratio = {}
        for k, num, den in RATIOS:
            v = [r[num] / r[den] for r in rounds if num in r and r.get(den, 0) > 0]
            ratio[k] = (statistics.median(v), min(v), max(v)) if v else None
        cpus, path, size, sb, n = key
        geo = '%dKx%d' % (sb // 1024, n)
        medians[key] = med
        fmt = lambda t: '%.2f %.2f-%.2f' % t if t else '-'
        print('%4d %-8s %5d %7s ' % (cpus, path, size, geo) +
              ' '.join('%8s' % ('%.1f' % med[i] if i in med else '-') for i in IMPLS) + ' ' +
              ' '.join('%13s' % fmt(ratio[k]) for k, _ in shown))
        summary.append([cpus, path, size, geo] +
                       ['%.1f' % med[i] if i in med else '' for i in IMPLS] +
                       [('%.3f' % v) if ratio[k] else '' for k, _, _ in RATIOS
                        for v in (ratio[k] or (0, 0, 0))])
    with open(os.path.join(outdir, 'summary-%s.csv' % mode), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(SUMMARY_HEADER)
        w.writerows(summary)
    rows = {(str(r[0]), r[1], str(r[2]), r[3]): dict(zip(SUMMARY_HEADER, map(str, r)))
            for r in summary}
    over = [r for r in rows.values()
            if any(r['%s_median' % k] and float(r['%s_median' % k]) > 1.0 for k in TO_C)]
    print('writers (%s): %d cases, median ratio of relay_rs to C above 1.00 in %d' % (
        mode, len(summary), len(over)))
    sc = scaling(rows)
    if sc:
        cpus, absolute, relative, spread = sc
        print('scaling, time for a block on each of %d CPUs at once / one block on 1 CPU'
              ' (median over cases; lower is better):' % cpus)
        for name, v in absolute:
            print('  %-14s %.2f' % (name, v))
        for name, v in relative:
            print('  relay_rs %-9s ratio to C on %d CPUs / on 1 CPU: %.2f (<= 1.00: scales as'
                  ' well as C or better)' % (name, cpus, v))
        for name, lo, hi in spread:
            print('  relay_rs %-9s median ratio to C on %d CPUs: %.2f-%.2f over cases'
                  % (name, cpus, lo, hi))
    return medians


# The readers' implementations, as tests/guest/bench.sh names them.
READERS = {'c': 'C relay', 'rs': 'relay_rs', 'ft': 'ftrace'}


def read_table(reads, outdir, mode):
    if not reads:
        return
    groups, order = {}, []
    for impl, phase, m, bs, nbytes, secs, cpu, att, lost, rec in reads:
        key = (impl, phase, m, int(bs))
        if key not in groups:
            order.append(key)
        nbytes, att, lost, rec = int(nbytes), int(att), int(lost), int(rec)
        groups.setdefault(key, []).append({
            'mbs': nbytes / 1e6 / max(float(secs), 1e-9),
            'cpu_mbs': nbytes / 1e6 / float(cpu) if float(cpu) > 0 else float('nan'),
            'bytes': nbytes, 'att': att,
            'lost': lost, 'ok': nbytes % rec == 0 and nbytes // rec + lost == att,
            'missing': att - lost - nbytes // rec})
    med = {k: statistics.median(r['mbs'] for r in v) for k, v in groups.items()}
    cpu_med = {k: statistics.median(r['cpu_mbs'] for r in v) for k, v in groups.items()}
    rounds = {}
    for key, v in groups.items():
        rounds.setdefault(key[1], len(v))
    print('readers (%s): median over rounds (%s) of MB/s (first data to last) and of MB per'
          ' second of the reader\'s CPU time; ratios to the C relay\'s read() in the same'
          ' phase (1 MiB buffer for mmap and splice)' % (
              mode, ', '.join('%s %d' % kv for kv in rounds.items())))
    print('%-8s %-6s %-7s %8s %9s %7s %10s %7s %11s %s' % (
        'impl', 'phase', 'mode', 'bufsize', 'MB/s', 'ratio', 'MB/CPU-s', 'ratio',
        'lost (med)', 'conservation: read + lost = attempted'))
    out = []
    for key in order:
        impl, phase, m, bs = key
        runs = groups[key]
        ref_key = ('c', phase, 'read', bs if m in ('read', 'consume') else 1048576)
        ref, cpu_ref = med.get(ref_key), cpu_med.get(ref_key)
        ratio = med[key] / ref if ref else float('nan')
        cpu_ratio = cpu_med[key] / cpu_ref if cpu_ref else float('nan')
        bad = [r for r in runs if not r['ok']]
        verdict = 'ok in %d/%d runs' % (len(runs) - len(bad), len(runs))
        if bad:
            verdict += '; unaccounted records: %s' % ', '.join(str(r['missing']) for r in bad)
        print('%-8s %-6s %-7s %8d %9.1f %7.2f %10.1f %7.2f %11d %s' % (
            READERS.get(impl, impl), phase, m, bs, med[key], ratio,
            cpu_med[key], cpu_ratio, statistics.median(r['lost'] for r in runs), verdict))
        out.append([impl, phase, m, bs, '%.1f' % med[key], '%.3f' % ratio,
                    '%.1f' % cpu_med[key], '%.3f' % cpu_ratio,
                    statistics.median(r['lost'] for r in runs), len(runs) - len(bad), len(runs)])
    with open(os.path.join(outdir, 'readers-%s.csv' % mode), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['impl', 'phase', 'mode', 'bufsize', 'median_mb_per_s', 'ratio_to_c_read',
                    'median_mb_per_cpu_s', 'cpu_ratio_to_c_read', 'median_lost',
                    'conserved_runs', 'runs'])
        w.writerows(out)


STYLE = {'c_relay': ('C relay', 'o-'), 'relay_rs': ('relay_rs from C', 's-'),
         'relay_rs_rust': ('relay_rs from Rust', '^-'),
         'relay_rs_lockless': ('relay_rs lockless', 'v-'), 'ftrace': ('ftrace ring buffer', 'd--'),
         'memcpy': ('memcpy floor', 'k:')}


def plot(medians, outdir, mode):
    try:
        import matplotlib
    except ImportError:
        # Debian's python3-matplotlib, when python3 is another interpreter.
        sys.path.append('/usr/lib/python3/dist-packages')
        try:
            import matplotlib
        except ImportError:
            print('bench: matplotlib missing, no plot (scripts/setup.sh --bench installs it)')
            return
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    cpus = sorted({k[0] for k in medians})
    paths = ['write', '__write', 'reserve']
    geos = sorted({(k[3], k[4]) for k in medians})
    fig, axes = plt.subplots(len(cpus) * len(geos), len(paths), squeeze=False,
                             figsize=(4.2 * len(paths), 3.2 * len(cpus) * len(geos)))
    style = STYLE
    for row, (c, g) in enumerate((c, g) for c in cpus for g in geos):
        for col, p in enumerate(paths):
            ax = axes[row][col]
            keys = sorted(k for k in medians if k[0] == c and k[1] == p and (k[3], k[4]) == g)
            for i in IMPLS:
                xs = [k[2] for k in keys if i in medians[k]]
                ys = [medians[k][i] for k in keys if i in medians[k]]
                if xs:
                    ax.plot(xs, ys, style[i][1], label=style[i][0], markersize=4)
            ax.set_xscale('log', base=2)
            ax.set_yscale('log')
            ax.set_title('%s, %d CPU%s, %dKx%d' % (p, c, 's' if c > 1 else '', g[0] // 1024,
                                                   g[1]), fontsize=9)
            ax.set_xlabel('record bytes', fontsize=8)
            ax.set_ylabel('ns/record' if mode == 'walltime' else 'insns/record (icount)',
                          fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(True, which='both', alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.suptitle('relay_rs vs C relay and ftrace, write cost per record (%s, median of rounds)'
                 % mode,
                 fontsize=10)
    fig.tight_layout()
    path = os.path.join(outdir, 'writers-%s.png' % mode)
    fig.savefig(path, dpi=90)
    print('bench: plot in %s' % path)


def tables(outdir, page):
    """Markdown tables of the latest summaries (both modes), and the wall
    time plot, for docs/performance.md (PAGE: the plot's link is relative
    to it)."""
    def load(name):
        path = os.path.join(outdir, name)
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return list(csv.DictReader(f))
    modes = [m for m in ('icount', 'walltime') if load('summary-%s.csv' % m)]
    w = {m: {(r['cpus'], r['path'], r['size'], r['geometry']): r
             for r in load('summary-%s.csv' % m)} for m in modes}
    lines = []
    for m in modes:
        lines.append('%s%s, 1 CPU, relay_rs / C relay per record:' % (
            '\n' if lines else '', {'icount': 'Instruction count (-icount)',
                                   'walltime': 'Wall time (TCG)'}[m]))
        lines.append('')
        lines.append('| path | size | 4Kx8 from C | 4Kx8 from Rust | 256Kx8 from C | '
                     '256Kx8 from Rust |')
        lines.append('|---|---:|---:|---:|---:|---:|')
        keys = sorted({(k[1], int(k[2])) for k in w[m] if k[0] == '1'},
                      key=lambda k: (['write', '__write', 'reserve'].index(k[0]), k[1]))
        for path, size in keys:
            cells = []
            for g in ('4Kx8', '256Kx8'):
                r = w[m].get(('1', path, str(size), g))
                for a in ('rs_c', 'rs_rust'):
                    cells.append('%.2f (%.2f-%.2f)' % (float(r['%s_median' % a]),
                                                       float(r['%s_min' % a]),
                                                       float(r['%s_max' % a]))
                                 if r else '-')
            lines.append('| %s | %d | %s |' % (path, size, ' | '.join(cells)))
    for peer, title, cols in PEER_TABLES:
        for m in modes:
            lines += peer_table(w[m], m, peer, title, cols)
    for m in modes:
        sc = scaling(w[m])
        if not sc:
            continue
        cpus, absolute, relative, spread = sc
        lines.append('')
        lines.append('%d CPUs (%s): relay_rs / C relay median per case %s. Scaling: '
                     'relay_rs\'s ratio to C on %d CPUs over its ratio on 1 CPU (from the '
                     'interleaved rounds) %s; time for a block on each of %d CPUs at once '
                     '/ one block on 1 CPU, median over cases: %s.' % (
                         cpus, m, ', '.join('%s %.2f-%.2f' % x for x in spread), cpus,
                         ', '.join('%s %.2f' % x for x in relative), cpus,
                         ', '.join('%s %.2f' % x for x in absolute)))
    png = os.path.join(outdir, 'writers-walltime.png')
    if os.path.exists(png):
        lines += ['', '![ns per record by size](%s)' % os.path.relpath(
            png, os.path.dirname(os.path.abspath(page)))]
    rd = {m: load('readers-%s.csv' % m) for m in modes}
    rl = ['| consumer | phase | buffer | ' + ' | '.join(
        '%s MB/s | ratio | lost | conserved' % m for m in modes) + ' |',
          '|---|---|---:|' + '---:|---:|---:|---:|' * len(modes)]
    rkeys = [(r['impl'], r['phase'], r['mode'], r['bufsize']) for r in rd[modes[0]]] \
        if modes else []
    for k in rkeys:
        cells = []
        for m in modes:
            r = next((x for x in rd[m] if (x['impl'], x['phase'], x['mode'], x['bufsize']) == k),
                     None)
            cells.append('%s | %.2f | %s | %s/%s' % (
                r['median_mb_per_s'], float(r['ratio_to_c_read']), r['median_lost'],
                r['conserved_runs'], r['runs']) if r else '- | - | - | -')
        who = '%s %s' % (READERS.get(k[0], k[0]), k[2])
        rl.append('| %s | %s | %d KiB | %s |' % (who, k[1], int(k[3]) // 1024,
                                                 ' | '.join(cells)))
    return '\n'.join(lines), '\n'.join(rl)


def peer_table(rows, mode, peer, title, cols):
    """Markdown lines: PEER's ratios COLS [(ratio key, heading)] per path and
    size, on 1 CPU and on the most CPUs, for each geometry; none if the
    summary has no such peer (older runs)."""
    keys = [k for k, r in rows.items() if r.get('%s_ns' % peer)]
    if not keys:
        return []
    geos = sorted({k[3] for k in keys}, key=lambda g: int(g.split('K')[0]))
    cpus = sorted({k[0] for k in keys}, key=int)
    what = {'icount': 'Instruction count (-icount)', 'walltime': 'Wall time (TCG)'}[mode]
    out = ['', '%s, %s per record, median of the per-round ratios (min-max):' % (what, title),
           '', '| path | size | CPUs | ' + ' | '.join(
               '%s %s' % (g, h) for g in geos for _, h in cols) + ' |',
           '|---|---:|---:|' + '---:|' * (len(geos) * len(cols))]
    order = ['write', '__write', 'reserve']
    for path, size, c in sorted({(k[1], int(k[2]), k[0]) for k in keys},
                                key=lambda k: (order.index(k[0]), int(k[2]), k[1])):
        cells = []
        for g in geos:
            r = rows.get((c, path, str(size), g), {})
            for key, _ in cols:
                cells.append('%.2f (%.2f-%.2f)' % tuple(
                    float(r['%s_%s' % (key, s)]) for s in ('median', 'min', 'max'))
                    if r.get('%s_median' % key) else '-')
        out.append('| %s | %d | %s | %s |' % (path, size, c, ' | '.join(cells)))
    return out


def update_tables(page, outdir, kernel):
    """Rewrites what lies between PAGE's <!-- bench:KERNEL:writers --> and
    <!-- bench:KERNEL:readers --> markers and their closing ones: one
    section per kernel, each from its own results."""
    writers, readers = tables(outdir, page)
    with open(page) as f:
        text = f.read()
    for tag, body in (('writers', writers), ('readers', readers)):
        begin = '<!-- bench:%s:%s -->' % (kernel, tag)
        end = '<!-- /bench:%s:%s -->' % (kernel, tag)
        if begin not in text or end not in text:
            print('bench: %s has no %s ... %s: give %s a section there' % (
                page, begin, end, kernel))
            return 1
        a, b = text.index(begin) + len(begin), text.index(end)
        text = text[:a] + '\n' + body + '\n' + text[b:]
    with open(page, 'w') as f:
        f.write(text)
    print('bench: %s tables updated in %s' % (kernel, page))
    return 0


def main():
    if sys.argv[1] == '--tables':
        return update_tables(sys.argv[2], sys.argv[3], sys.argv[4])
    log, outdir, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    writes, reads = parse(log)
    if not writes:
        print('bench: no results (see %s)' % log)
        return 1
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, 'raw-%s.csv' % mode), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['impl', 'path', 'size', 'subbuf', 'n_subbufs', 'cpus', 'round',
                    'ns_per_record'])
        w.writerows(writes)
    medians = write_table(writes, outdir, mode)
    read_table(reads, outdir, mode)
    plot(medians, outdir, mode)
    return 0


if __name__ == '__main__':
    sys.exit(main())
