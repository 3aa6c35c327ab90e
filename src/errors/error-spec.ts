// The shape of one catalogue row; per-area tables in codes/ use it too.

export interface ErrorSpec {
  /** What went wrong, in one line. */
  readonly summary: string;
  /** How to solve it: the first thing an operator should try. */
  readonly hint: string;
  /** Process exit code the CLI uses when this error ends a command. */
  readonly exit: number;
}
