// `daemoneye intel ...`: STIX 2.1 patterns (validate, match) and TAXII 2.1 feeds (intel-feeds.ts).
import type { Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { registerIntelFeeds } from './intel-feeds.ts';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { checkPatternSyntax, compilePattern, validatePattern } from '../../intel/pattern/compile.ts';
import { loadObservations } from '../../intel/pattern/observed-data.ts';
import { matchObservations } from '../../intel/pattern/match-observed.ts';
import { StixPatternError } from '../../intel/pattern/pattern-error.ts';

/** Observed-data files larger than this are refused before reading. */
const MAX_OBSERVED_BYTES = 256 * 1024 * 1024;

/** Show where in the pattern an error is: the pattern (or the part around the column) and a caret. */
function withCaret(pattern: string, e: unknown): never {
  if (e instanceof StixPatternError && e.column !== null && !pattern.includes('\n')) {
    const col = e.column - 1;
    const from = Math.max(0, col - 60);
    const shown = (from > 0 ? '…' : '') + pattern.slice(from, col + 60) + (col + 60 < pattern.length ? '…' : '');
    const caretAt = col - from + (from > 0 ? 1 : 0);
    process.stderr.write(`  ${shown}\n  ${' '.repeat(caretAt)}^\n`);
  }
  throw e;
}

function readObserved(file: string): unknown {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_OBSERVED_BYTES) throw new DaemonEyeError('DE_STIX_OBSERVED_DATA', `${file} is ${size} bytes; the limit is ${MAX_OBSERVED_BYTES}`);
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    if (cause instanceof DaemonEyeError) throw cause;
    throw new DaemonEyeError('DE_STIX_OBSERVED_DATA', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new DaemonEyeError('DE_STIX_OBSERVED_DATA', `${file} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

export function registerIntel(program: Command): void {
  const intel = program.command('intel').description('threat intelligence: STIX 2.1 patterns and TAXII 2.1 feeds');
  registerIntelFeeds(intel);

  intel
    .command('validate')
    .description('check a STIX 2.1 pattern: grammar, hash formats, qualifiers, and that it can be matched')
    .argument('<pattern>', 'the pattern, quoted for the shell')
    .option('--reference', 'accept exactly what the OASIS reference validator accepts (e.g. t\'2024-02-30T00:00:00Z\', which can never match)')
    .addHelpText('after', `
Prints "valid" and exits 0, or prints the error with its column and exits 2.

Examples:
  daemoneye intel validate "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"
  daemoneye intel validate "[ipv4-addr:value ISSUBSET '198.51.100.0/24'] REPEATS 5 TIMES WITHIN 600 SECONDS"
  daemoneye intel validate "[process:name = 'nc' AND process:command_line MATCHES '-e /bin/(ba)?sh']"

Patterns, operators and bounds: docs/intel.md.`)
    .action((pattern: string, opts: { reference?: boolean }) => {
      try {
        if (opts.reference === true) checkPatternSyntax(pattern);
        else validatePattern(pattern);
      } catch (e) {
        withCaret(pattern, e);
      }
      process.stdout.write('valid\n');
    });

  intel
    .command('match')
    .description('match a STIX 2.1 pattern against observed data: prints true or false')
    .argument('<pattern>', 'the pattern, quoted for the shell')
    .requiredOption('--observed <file>', 'JSON: a STIX 2.1 bundle, or a list of bundles, holding observed-data and the objects they reference')
    .option('--verbose', 'also print the observed-data ids that matched')
    .addHelpText('after', `
Exit status: 0 when the pattern matches (prints "true"), 1 when it does not
(prints "false"), 2 when the pattern or the data is invalid (prints the error).
Semantics are those of the OASIS reference matcher (docs/intel.md).

Examples:
  daemoneye intel match "[ipv4-addr:value = '198.51.100.7']" --observed sightings.json
  daemoneye intel match "([process:name = 'curl'] FOLLOWEDBY [file:name = 'x.sh']) WITHIN 60 SECONDS" --observed bundle.json --verbose`)
    .action((pattern: string, opts: { observed: string; verbose?: boolean }) => {
      let compiled;
      try {
        compiled = compilePattern(pattern);
      } catch (e) {
        withCaret(pattern, e);
      }
      const observations = loadObservations(readObserved(opts.observed));
      const result = matchObservations(compiled, observations);
      process.stdout.write(`${result.matched}\n`);
      if (opts.verbose === true) for (const id of result.observedDataIds) process.stdout.write(`  ${id}\n`);
      process.exitCode = result.matched ? 0 : 1;
    });
}
