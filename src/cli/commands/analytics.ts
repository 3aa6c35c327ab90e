// `daemoneye analytics status|train|rollback|score`: behavioural models (docs/analytics.md).
import type { Command } from 'commander';
import { scoreTable, scoredCsv, TABLE_MODELS } from '../../analytics/score-table.ts';

const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);

export function registerAnalytics(program: Command): void {
  const analytics = program.command('analytics').description('behavioural analytics: anomaly models over process features');

  analytics
    .command('score')
    .description('fit a model on one feature table (CSV) and score another: one line per input row (raw, p, calibrated)')
    .requiredOption('--train <csv>', 'training feature table: a header line, then one row per observation')
    .requiredOption('--input <csv>', 'rows to score (same feature columns)')
    .option('--model <name>', `model: ${TABLE_MODELS.join(' | ')}`, 'iforest')
    .option('--seed <n>', 'random seed: the same seed gives the same scores', '1')
    .option('--trees <n>', 'isolation forest: number of trees', '100')
    .option('--sample-size <n>', 'isolation forest: rows per tree (psi)', '256')
    .option('--features <cols>', 'comma-separated feature columns (default: every column not in --ignore)')
    .option('--ignore <cols>', 'comma-separated columns that are not features', 'id,label')
    .addHelpText('after', `
Output (CSV on stdout): row,raw,p,calibrated
  raw         the model's own score (isolation forest: 2^(-E[h]/c(psi)), ~0.5 ordinary, -> 1 anomalous)
  p           tail probability of raw among the training rows' scores
  calibrated  min(1, -log10(p) / 4): 0.8 is about 1 in 1,600

Examples:
  daemoneye analytics score --model iforest --train week1.csv --input today.csv --seed 42
  daemoneye analytics score --train a.csv --input b.csv --features cmdline_entropy,cmdline_length
  daemoneye analytics score --model rarity --train a.csv --input b.csv --features parent,child`)
    .action((opts: { train: string; input: string; model: string; seed: string; trees: string; sampleSize: string; features?: string; ignore: string }) => {
      const rows = scoreTable(opts.train, opts.input, {
        model: opts.model, seed: Number(opts.seed), trees: Number(opts.trees), sampleSize: Number(opts.sampleSize),
        ignore: list(opts.ignore), ...(opts.features === undefined ? {} : { features: list(opts.features) }),
      });
      process.stdout.write(scoredCsv(rows));
    });
}
