// Hand-written recursive-descent parser for the STIX 2.1 pattern grammar (STIXPattern.g4 in
// oasis-open/cti-stix2-json-schemas). Hand-written rather than generated so errors can say, in an
// analyst's words, what was expected at which column, and so recursion depth is bounded.
// Precedence, loosest first: FOLLOWEDBY, OR, AND between observations; qualifiers bind to the
// observation before them; inside [...], OR then AND. All binary operators are left-associative.
import type { CompareOp, Comparison, ComparisonExpr, Literal, LiteralKind, ObjectPath, ObservationExpr, ParsedPattern, PathStep, Qualifier } from './ast.ts';
import { explainBadString, explainMalformedLiteral, tokenize, type Token, type TokenKind } from './lexer.ts';
import { PATTERN_LIMITS } from './limits.ts';
import { StixPatternError, quoteText } from './pattern-error.ts';

const LITERAL_KINDS: Partial<Record<TokenKind, LiteralKind>> = {
  IntPos: 'int', IntNeg: 'int', FloatPos: 'float', FloatNeg: 'float', String: 'string', Bool: 'bool',
  Binary: 'binary', Hex: 'hex', Timestamp: 'timestamp',
};

class Parser {
  private readonly tokens: Token[];
  private pos = 0;
  private depth = 0;
  private comparisons = 0;
  private observations = 0;
  private readonly pattern: string;

  constructor(pattern: string) {
    this.pattern = pattern;
    this.tokens = tokenize(pattern);
  }

  parse(): ParsedPattern {
    const root = this.observationExpressions();
    if (this.peek().kind !== 'EOF') this.fail(this.describeExpectedAfterObservation());
    return { text: this.pattern, root };
  }

  // ---- token helpers

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'EOF') this.pos += 1;
    return t;
  }

  private isKeyword(word: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === 'Keyword' && t.text === word;
  }

  private expectKind(kind: TokenKind, what: string): Token {
    if (this.peek().kind !== kind) this.fail(`expected ${what}`);
    return this.next();
  }

  private expectKeyword(word: string): void {
    if (!this.isKeyword(word)) this.fail(`expected ${word}`);
    this.next();
  }

  /** Throws DE_STIX_PATTERN at the current token, naming what was found (and why, for look-alikes). */
  private fail(expected: string, token: Token = this.peek()): never {
    const found = token.kind === 'EOF' ? 'the end of the pattern' : quoteText(token.text);
    let why = '';
    if (token.kind === 'IdentNoHyphen' && /^[thb]$/.test(token.text)) {
      const explained = explainMalformedLiteral(this.pattern, token.offset);
      if (explained !== null) why = ` (${explained})`;
    } else if (token.kind === 'QUOTE') {
      why = ` (${explainBadString(this.pattern, token.offset)})`;
    } else if (token.text === 'null' || token.text === 'NULL') {
      why = ' (STIX 2.1 patterns have no null literal; use NOT … EXISTS to test absence)';
    } else if ((token.kind === 'IdentNoHyphen' || token.kind === 'IdentHyphen') && /^[A-Za-z]+$/.test(token.text) && token.text.toUpperCase() !== token.text) {
      const upper = token.text.toUpperCase();
      if (['AND', 'OR', 'NOT', 'FOLLOWEDBY', 'LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET', 'EXISTS', 'IN', 'START', 'STOP', 'SECONDS', 'WITHIN', 'REPEATS', 'TIMES'].includes(upper)) {
        why = ` (keywords are upper case: ${upper})`;
      }
    }
    throw new StixPatternError('DE_STIX_PATTERN', `${expected}, found ${found}${why}`, token.offset + 1);
  }

  private enter(): void {
    this.depth += 1;
    if (this.depth > PATTERN_LIMITS.maxDepth) {
      throw new StixPatternError('DE_STIX_PATTERN_LIMIT',
        `nesting deeper than ${PATTERN_LIMITS.maxDepth} levels of brackets and parentheses`, this.peek().offset + 1);
    }
  }

  private leave(): void {
    this.depth -= 1;
  }

  private describeExpectedAfterObservation(): string {
    return 'expected AND, OR, FOLLOWEDBY, a qualifier (WITHIN, REPEATS, START) or the end of the pattern';
  }

  // ---- observation expressions

  private observationExpressions(): ObservationExpr {
    let left = this.observationOr();
    while (this.isKeyword('FOLLOWEDBY')) {
      this.next();
      left = { kind: 'followedby', left, right: this.observationOr() };
    }
    return left;
  }

  private observationOr(): ObservationExpr {
    let left = this.observationAnd();
    while (this.isKeyword('OR')) {
      this.next();
      left = { kind: 'obs-or', left, right: this.observationAnd() };
    }
    return left;
  }

  private observationAnd(): ObservationExpr {
    let left = this.qualifiedObservation();
    while (this.isKeyword('AND')) {
      this.next();
      left = { kind: 'obs-and', left, right: this.qualifiedObservation() };
    }
    return left;
  }

  private qualifiedObservation(): ObservationExpr {
    let expr = this.observationExpression();
    for (;;) {
      if (this.isKeyword('WITHIN')) expr = { kind: 'qualified', inner: expr, qualifier: this.withinQualifier() };
      else if (this.isKeyword('REPEATS')) expr = { kind: 'qualified', inner: expr, qualifier: this.repeatsQualifier() };
      else if (this.isKeyword('START')) expr = { kind: 'qualified', inner: expr, qualifier: this.startStopQualifier() };
      else return expr;
    }
  }

  private observationExpression(): ObservationExpr {
    const t = this.peek();
    if (t.kind === 'LBRACK') {
      this.observations += 1;
      if (this.observations > PATTERN_LIMITS.maxObservations) {
        throw new StixPatternError('DE_STIX_PATTERN_LIMIT', `more than ${PATTERN_LIMITS.maxObservations} observation expressions [...] in one pattern`, t.offset + 1);
      }
      this.next();
      this.enter();
      const expr = this.comparisonExpression();
      this.leave();
      if (this.peek().kind !== 'RBRACK') this.fail('expected AND, OR or ] to close the observation');
      this.next();
      return { kind: 'observation', expr, column: t.offset + 1 };
    }
    if (t.kind === 'LPAREN') {
      this.next();
      this.enter();
      const inner = this.observationExpressions();
      this.leave();
      if (this.peek().kind !== 'RPAREN') this.fail('expected AND, OR, FOLLOWEDBY, a qualifier or ) to close the group');
      this.next();
      return { kind: 'group', inner };
    }
    if (t.kind === 'IdentNoHyphen' || t.kind === 'IdentHyphen') {
      this.fail('expected [ to open an observation (comparisons go inside square brackets: [type:property = value])');
    }
    this.fail('expected [ to open an observation or ( to open a group');
  }

  private withinQualifier(): Qualifier {
    this.next();
    const t = this.peek();
    if (t.kind !== 'IntPos' && t.kind !== 'FloatPos') this.fail('expected a positive number of seconds after WITHIN');
    this.next();
    this.expectKeyword('SECONDS');
    return { kind: 'within', seconds: this.literalOf(t) };
  }

  private repeatsQualifier(): Qualifier {
    this.next();
    const t = this.peek();
    if (t.kind !== 'IntPos') this.fail('expected a positive whole number after REPEATS');
    this.next();
    this.expectKeyword('TIMES');
    return { kind: 'repeats', count: this.literalOf(t) };
  }

  private startStopQualifier(): Qualifier {
    this.next();
    const start = this.expectKind('Timestamp', "a timestamp t'YYYY-MM-DDTHH:MM:SSZ' after START");
    this.expectKeyword('STOP');
    const stop = this.expectKind('Timestamp', "a timestamp t'YYYY-MM-DDTHH:MM:SSZ' after STOP");
    return { kind: 'startstop', start: this.literalOf(start), stop: this.literalOf(stop) };
  }

  // ---- comparison expressions

  private comparisonExpression(): ComparisonExpr {
    let left = this.comparisonAnd();
    while (this.isKeyword('OR')) {
      this.next();
      left = { kind: 'or', left, right: this.comparisonAnd() };
    }
    return left;
  }

  private comparisonAnd(): ComparisonExpr {
    let left = this.propTest();
    while (this.isKeyword('AND')) {
      this.next();
      left = { kind: 'and', left, right: this.propTest() };
    }
    return left;
  }

  private propTest(): ComparisonExpr {
    const t = this.peek();
    if (t.kind === 'LPAREN') {
      this.next();
      this.enter();
      const expr = this.comparisonExpression();
      this.leave();
      if (this.peek().kind !== 'RPAREN') this.fail('expected AND, OR or ) to close the parenthesis');
      this.next();
      return expr;
    }
    this.comparisons += 1;
    if (this.comparisons > PATTERN_LIMITS.maxComparisons) {
      throw new StixPatternError('DE_STIX_PATTERN_LIMIT', `more than ${PATTERN_LIMITS.maxComparisons} comparisons in one pattern`, t.offset + 1);
    }
    const path = this.objectPath();
    let negated = false;
    if (this.isKeyword('NOT')) { this.next(); negated = true; }
    const opToken = this.peek();
    const column = opToken.offset + 1;
    const make = (op: CompareOp, values: Literal[]): Comparison => ({ kind: 'comparison', path, negated, op, values, column });
    switch (opToken.kind) {
      case 'EQ': case 'NEQ':
        this.next();
        return make(opToken.kind === 'EQ' ? '=' : '!=', [this.literal(true)]);
      case 'LT': case 'LE': case 'GT': case 'GE': {
        this.next();
        const op = ({ LT: '<', LE: '<=', GT: '>', GE: '>=' } as const)[opToken.kind];
        return make(op, [this.literal(false)]);
      }
      case 'Keyword':
        switch (opToken.text) {
          case 'IN': this.next(); return make('IN', this.setLiteral());
          case 'LIKE': case 'MATCHES': case 'ISSUBSET': case 'ISSUPERSET': {
            this.next();
            const s = this.expectKind('String', `a quoted string after ${opToken.text}`);
            return make(opToken.text, [this.literalOf(s)]);
          }
          case 'EXISTS': this.next(); return make('EXISTS', []);
        }
    }
    this.fail('expected a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET, EXISTS)');
  }

  private objectPath(): ObjectPath {
    const typeToken = this.peek();
    if (typeToken.kind !== 'IdentNoHyphen' && typeToken.kind !== 'IdentHyphen') {
      this.fail('expected an object path such as file:name (an object type, a colon, a property)');
    }
    this.next();
    if (this.peek().kind !== 'COLON') {
      this.fail(`expected : between the object type ${quoteText(typeToken.text)} and its property`);
    }
    this.next();
    const steps: PathStep[] = [];
    const first = this.peek();
    if (first.kind === 'IdentNoHyphen') { this.next(); steps.push({ kind: 'key', key: first.text }); }
    else if (first.kind === 'String') { this.next(); steps.push({ kind: 'key', key: unquote(first.text) }); }
    else if (first.kind === 'IdentHyphen') {
      this.fail(`expected a property name; a name with a hyphen must be quoted: '${first.text}'`);
    } else this.fail('expected a property name after the colon');
    for (;;) {
      const t = this.peek();
      if (t.kind === 'DOT') {
        this.next();
        const key = this.peek();
        if (key.kind === 'IdentNoHyphen') { this.next(); steps.push({ kind: 'key', key: key.text }); }
        else if (key.kind === 'String') { this.next(); steps.push({ kind: 'key', key: unquote(key.text) }); }
        else if (key.kind === 'IdentHyphen') this.fail(`expected a property name; a name with a hyphen must be quoted: '${key.text}'`);
        else this.fail('expected a property name after the dot');
      } else if (t.kind === 'LBRACK' && this.isIndexStep()) {
        this.next();
        const idx = this.next();
        this.next();
        steps.push(idx.kind === 'ASTERISK' ? { kind: 'star' } : { kind: 'index', index: Number(idx.text) });
      } else break;
      if (steps.length > PATTERN_LIMITS.maxPathSteps) {
        throw new StixPatternError('DE_STIX_PATTERN_LIMIT', `an object path longer than ${PATTERN_LIMITS.maxPathSteps} steps`, t.offset + 1);
      }
    }
    return { objectType: typeToken.text, steps, column: typeToken.offset + 1 };
  }

  private isIndexStep(): boolean {
    const idx = this.peek(1);
    if (idx.kind !== 'IntPos' && idx.kind !== 'IntNeg' && idx.kind !== 'ASTERISK') {
      this.pos += 1;
      this.fail('expected a list index (a whole number) or * inside [ ]');
    }
    if (this.peek(2).kind !== 'RBRACK') {
      this.pos += 2;
      this.fail('expected ] to close the list index');
    }
    return true;
  }

  private setLiteral(): Literal[] {
    this.expectKind('LPAREN', 'a set such as (\'a\', \'b\') after IN');
    const values: Literal[] = [];
    if (this.peek().kind === 'RPAREN') { this.next(); return values; }
    for (;;) {
      values.push(this.literal(true));
      if (values.length > PATTERN_LIMITS.maxSetSize) {
        throw new StixPatternError('DE_STIX_PATTERN_LIMIT', `a set with more than ${PATTERN_LIMITS.maxSetSize} elements`, this.peek().offset + 1);
      }
      const t = this.next();
      if (t.kind === 'RPAREN') return values;
      if (t.kind !== 'COMMA') { this.pos -= 1; this.fail('expected , or ) in the set'); }
    }
  }

  private literal(allowBool: boolean): Literal {
    const t = this.peek();
    const kind = LITERAL_KINDS[t.kind];
    if (kind === undefined || (kind === 'bool' && !allowBool)) {
      this.fail(allowBool
        ? "expected a literal: 'string', number, true/false, b'base64', h'hex' or t'timestamp'"
        : "expected an orderable literal: 'string', number, b'base64', h'hex' or t'timestamp'");
    }
    this.next();
    return this.literalOf(t);
  }

  private literalOf(t: Token): Literal {
    return { kind: LITERAL_KINDS[t.kind]!, text: t.text, column: t.offset + 1 };
  }
}

/** The value of a StringLiteral token: strip quotes, undo \' and \\. */
export function unquote(text: string): string {
  return text.slice(1, -1).replace(/\\(['\\])/g, '$1');
}

/** Parse by the grammar alone. Throws StixPatternError (DE_STIX_PATTERN, DE_STIX_PATTERN_LIMIT). */
export function parsePattern(pattern: string): ParsedPattern {
  if (typeof pattern !== 'string') throw new StixPatternError('DE_STIX_PATTERN', 'the pattern is not a string', null);
  return new Parser(pattern).parse();
}
