// The parsed form of a STIX 2.1 pattern. Literals keep their source text; they are converted to
// values when the pattern is compiled for matching (compile.ts), because some grammatically valid
// literals cannot be matched (t'2024-02-30T00:00:00Z') and the validator must still accept them.

export type LiteralKind = 'int' | 'float' | 'string' | 'bool' | 'binary' | 'hex' | 'timestamp';

export interface Literal {
  readonly kind: LiteralKind;
  /** Token text as written, e.g. `'it\'s'`, `h'ff'`, `-12`. */
  readonly text: string;
  /** 1-based column. */
  readonly column: number;
}

export type PathStep =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'star' };

export interface ObjectPath {
  readonly objectType: string;
  readonly steps: readonly PathStep[];
  readonly column: number;
}

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'IN' | 'LIKE' | 'MATCHES' | 'ISSUBSET' | 'ISSUPERSET' | 'EXISTS';

export interface Comparison {
  readonly kind: 'comparison';
  readonly path: ObjectPath;
  readonly negated: boolean;
  readonly op: CompareOp;
  /** One literal for most operators, the set's elements for IN, none for EXISTS. */
  readonly values: readonly Literal[];
  readonly column: number;
}

export type ComparisonExpr =
  | Comparison
  | { readonly kind: 'and' | 'or'; readonly left: ComparisonExpr; readonly right: ComparisonExpr };

export type Qualifier =
  | { readonly kind: 'within'; readonly seconds: Literal }
  | { readonly kind: 'repeats'; readonly count: Literal }
  | { readonly kind: 'startstop'; readonly start: Literal; readonly stop: Literal };

export type ObservationExpr =
  | { readonly kind: 'observation'; readonly expr: ComparisonExpr; readonly column: number }
  | { readonly kind: 'obs-and' | 'obs-or' | 'followedby'; readonly left: ObservationExpr; readonly right: ObservationExpr }
  | { readonly kind: 'qualified'; readonly inner: ObservationExpr; readonly qualifier: Qualifier }
  /** A parenthesised group: kept so qualifier checks can tell `([…]) WITHIN … WITHIN …` from `[…] WITHIN … WITHIN …`. */
  | { readonly kind: 'group'; readonly inner: ObservationExpr };

export interface ParsedPattern {
  readonly text: string;
  readonly root: ObservationExpr;
}
