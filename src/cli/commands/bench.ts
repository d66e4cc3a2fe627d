import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CommandSpec } from '../types.js';
import { RuntimeError, UsageError } from '../types.js';
import { messages } from '../messages.js';

export const command: CommandSpec = {
  name: 'bench',
  summary: 'Run the accuracy and latency benchmark: scenarios of people and autonomous writers sharing a workspace, judged from git history.',
  usage: 'bench [--scenario NAME|FILE]... [--repeat N] [--json] [--out DIR] [--quick] [--fanotify auto|on|off] [--evidence fanotify|trace|exec|heuristic] [--commit-bench] [--skip-micro] [--keep] [--keep-failed]',
  options: {
    scenario: { type: 'string', multiple: true, short: 's' },
    json: { type: 'boolean' },
    repeat: { type: 'string', short: 'n' },
    out: { type: 'string', short: 'o' },
    quick: { type: 'boolean' },
    'commit-bench': { type: 'boolean' },
    'skip-micro': { type: 'boolean' },
    keep: { type: 'boolean' },
    'keep-failed': { type: 'boolean' },
    fanotify: { type: 'string' },
    evidence: { type: 'string' },
  },
  optionHelp: {
    scenario: 'a shipped scenario name or a .json file; repeatable or comma-separated (default: all shipped)',
    json: 'print the results as JSON (an array when several scenarios run) on stdout',
    repeat: 'run each scenario and micro-benchmark N times; each figure is the median, with the worst of the N beside it',
    out: 'write report.json and report.html (charts) into DIR',
    quick: 'shorter timelines (each scenario\'s quickMs, default 6 s)',
    'commit-bench': 'also measure commit cost with 50k tracked files (slow)',
    'skip-micro': 'skip the per-layer micro-benchmarks (their figures stay null)',
    keep: 'keep the temp workspaces and print where they are',
    'keep-failed': 'keep the workspace, winnow\'s log and the players\' truth of a run that missed a change, committed churn or looped',
    fanotify: 'auto | on | off: override autonomous.fanotify in every scenario',
    evidence: 'fanotify | trace | exec | heuristic: put every agent on this evidence rung (exec: agents run under winnow exec, attaching refused)',
  },
  details: 'Scenarios live in bench/scenarios/*.json; the format is documented in bench/README.md.\nProgress goes to stderr on a terminal; the table or JSON goes to stdout. Exit code 1 if a scenario could not run or one of its checks failed (for CI).',
  async run(args, io) {
    const { resolveScenarios } = await import('../../bench/scenario.js');
    const { runBench } = await import('../../bench/runner.js');
    const fan = args.values.fanotify as string | undefined;
    if (fan !== undefined && !['auto', 'on', 'off'].includes(fan)) {
      throw new UsageError(messages.oneOf('--fanotify', ['auto', 'on', 'off'], fan));
    }
    const evidence = args.values.evidence as string | undefined;
    if (evidence !== undefined && !['fanotify', 'trace', 'exec', 'heuristic'].includes(evidence)) {
      throw new UsageError(messages.oneOf('--evidence', ['fanotify', 'trace', 'exec', 'heuristic'], evidence));
    }
    const repeatText = args.values.repeat as string | undefined;
    const repeat = repeatText === undefined ? 1 : Number(repeatText);
    if (!Number.isInteger(repeat) || repeat < 1 || repeat > 100) throw new UsageError(messages.repeatRange(repeatText));
    const scenarios = await resolveScenarios((args.values.scenario as string[] | undefined) ?? [], io.cwd);
    if (scenarios.length === 0) throw new RuntimeError(messages.noScenarios());

    let lastLen = 0;
    const onProgress = io.isTTY
      ? (p: import('../../bench/runner.js').Progress) => {
          const play = p.phase === 'playing' && p.durationMs ? ` ${((p.elapsedMs ?? 0) / 1000).toFixed(1)}/${(p.durationMs / 1000).toFixed(1)} s` : '';
          const text = p.phase === 'done' ? '' : `[${p.index}/${p.total}] ${p.scenario}: ${p.phase}${play}`;
          io.stderr(`\r${text.padEnd(lastLen)}${p.phase === 'done' ? '\r' : ''}`);
          lastLen = text.length;
        }
      : undefined;
    const report = await runBench(scenarios, {
      quick: Boolean(args.values.quick),
      commitBench: Boolean(args.values['commit-bench']),
      skipMicro: Boolean(args.values['skip-micro']),
      keep: Boolean(args.values.keep),
      keepFailed: Boolean(args.values['keep-failed']),
      repeat,
      ...(fan ? { fanotify: fan as 'auto' | 'on' | 'off' } : {}),
      ...(evidence ? { evidence: evidence as 'fanotify' | 'trace' | 'exec' | 'heuristic' } : {}),
      ...(onProgress ? { onProgress } : {}),
    });

    // With --repeat: the medians in the SPEC's shape, and under "repeat" the worst and every run.
    const results = report.runs.map((r) => (r.repeat ? { ...r.result, repeat: r.repeat } : r.result));
    const json = JSON.stringify(results.length === 1 ? results[0] : results, null, 2) + '\n';
    if (args.values.json) io.stdout(json);
    else {
      const { renderTable } = await import('../../bench/table.js');
      io.stdout(renderTable(report));
    }
    if (args.values.json) {
      for (const n of report.layers.notes) io.stderr(`winnow bench: ${n}\n`);
      for (const r of report.runs) for (const n of r.detail.notes) io.stderr(`winnow bench: ${r.result.scenario}: ${n}\n`);
    }
    if (typeof args.values.out === 'string') {
      const { renderHtml } = await import('../../bench/report-html.js');
      const dir = resolve(io.cwd, args.values.out);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'report.json'), json);
      await writeFile(join(dir, 'report.html'), renderHtml(report));
      io.stderr(`winnow bench: ${messages.benchWrote(join(dir, 'report.json'), join(dir, 'report.html'))}\n`);
    }
    for (const f of report.failures) io.stderr(`winnow bench: ${messages.benchCouldNotRun(f.scenario, f.error)}\n`);
    const failed = report.runs.flatMap((r) =>
      r.detail.checks.filter((c) => c.ok === false).map((c) => `${r.result.scenario}: ${c.name} (${c.detail})`),
    );
    if (failed.length) io.stderr(`winnow bench: ${messages.benchChecksFailed(failed)}\n`);
    return report.failures.length || failed.length ? 1 : 0;
  },
};
