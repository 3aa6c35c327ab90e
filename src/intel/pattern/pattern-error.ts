// Pattern errors carry the column (1-based) so the CLI and feed sync can point at the offending text.
import { DaemonEyeError } from '../../errors/catalogue.ts';

export type PatternErrorCode = 'DE_STIX_PATTERN' | 'DE_STIX_PATTERN_INVALID' | 'DE_STIX_PATTERN_LIMIT';

export class StixPatternError extends DaemonEyeError {
  /** 1-based column of the offending text, or null when the error concerns the whole pattern. */
  readonly column: number | null;
  constructor(code: PatternErrorCode, message: string, column: number | null, hint?: string) {
    super(code, column === null ? message : `column ${column}: ${message}`, hint === undefined ? {} : { hint });
    this.column = column;
  }
}

/** Quote a piece of pattern text for an error message, shortened so a hostile pattern cannot flood logs. */
export function quoteText(text: string): string {
  const short = text.length > 60 ? text.slice(0, 57) + '...' : text;
  return JSON.stringify(short);
}
