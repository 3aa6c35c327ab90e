import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalize, CanonicalJsonError, isCanonicalJson } from './canonical-json.ts';

// RFC 8785 §3.2.2 / §3.2.3: the sample object, as JSON text (parsed, as a verifier would receive it).
const SAMPLE_INPUT = String.raw`{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`;
const SAMPLE_OUTPUT = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;

test('RFC 8785 §3.2.3: the sample object canonicalises to the published text', () => {
  assert.equal(canonicalize(JSON.parse(SAMPLE_INPUT)), SAMPLE_OUTPUT);
  // §3.2.4: and its UTF-8 bytes start as published (7b 22 6c 69 ...), with the euro sign as e2 82 ac.
  const bytes = Buffer.from(canonicalize(JSON.parse(SAMPLE_INPUT)), 'utf8');
  assert.equal(bytes.subarray(0, 4).toString('hex'), '7b226c69');
  assert.ok(bytes.includes(Buffer.from('e282ac', 'hex')));
});

test('RFC 8785 §3.2.3: properties sort by UTF-16 code units, not by code point or locale', () => {
  const input = {
    '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One',
    '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis',
  };
  assert.equal(canonicalize(input),
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign",' +
    '"\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}');
  // Appendix B's locale example: French collation would put péché after pêche; JCS must not.
  assert.equal(canonicalize({ sin: 4, 'pêche': 3, 'péché': 2, peach: 1 }), '{"peach":1,"péché":2,"pêche":3,"sin":4}');
});

test('RFC 8785 Appendix B: IEEE 754 numbers serialise as published', () => {
  const vectors: [string, string][] = [
    ['0000000000000000', '0'], ['8000000000000000', '0'], ['0000000000000001', '5e-324'], ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'], ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'], ['c340000000000000', '-9007199254740992'], ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'], ['44b52d02c7e14af6', '1e+23'], ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'], ['444b1ae4d6e2ef4f', '999999999999999900000'], ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'], ['3eb0c6f7a0b5ed8d', '0.000001'], ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'], ['41b3de4355555555', '333333333.3333333'], ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'], ['becbf647612f3696', '-0.0000033333333333333333'], ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  for (const [hex, expected] of vectors) {
    const n = Buffer.from(hex, 'hex').readDoubleBE(0);
    assert.equal(canonicalize(n), expected, hex);
    assert.equal(canonicalize([n]), `[${expected}]`, hex);
  }
  // NaN and Infinity (7fffffffffffffff, 7ff0000000000000) are errors, not "null".
  for (const hex of ['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000']) {
    assert.throws(() => canonicalize({ x: Buffer.from(hex, 'hex').readDoubleBE(0) }), CanonicalJsonError, hex);
  }
});

test('strings escape exactly as JCS says: the short escapes, other controls as lowercase \\u00xx, nothing else', () => {
  assert.equal(canonicalize('\b\t\n\f\r"\\/\u0001\u001f\u007f é\u2028'), '"\\b\\t\\n\\f\\r\\"\\\\/\\u0001\\u001f\u007f é\u2028"');
  assert.equal(canonicalize({ '': [], a: {}, b: [{}] }), '{"":[],"a":{},"b":[{}]}');
});

test('values JSON cannot carry are refused with the path to them', () => {
  const cases: [unknown, RegExp][] = [
    [{ a: undefined }, /\$\.a: undefined/],
    [{ a: [1, 2n] }, /\$\.a\[1\]: bigint/],
    [{ 'odd key': NaN }, /\$\["odd key"\]: NaN is not a finite number/],
    [{ t: new Date(0) }, /\$\.t: a Date is not a plain object/],
    [{ b: Buffer.from('x') }, /\$\.b: a Buffer is not a plain object/],
    [{ f: () => 1 }, /a function is not JSON/],
    [{ s: Symbol('x') }, /a symbol is not JSON/],
    [{ [Symbol('k')]: 1 }, /symbol keys/],
    // eslint-disable-next-line no-sparse-arrays
    [[1, , 3], /\$\[1\]: a hole/],
    [{ s: 'a\ud800b' }, /unpaired UTF-16 surrogate/],
    [{ ['\udc00']: 1 }, /key contains an unpaired/],
    [new Map(), /a Map is not a plain object/],
  ];
  for (const [v, re] of cases) assert.throws(() => canonicalize(v), (e: unknown) => e instanceof CanonicalJsonError && re.test(e.message), String(re));
});

test('a cycle is refused; a value shared without a cycle is written twice', () => {
  const a: Record<string, unknown> = { x: 1 };
  a['self'] = { back: a };
  assert.throws(() => canonicalize(a), /\$\.self\.back: cycle/);
  const shared = { k: [1] };
  assert.equal(canonicalize({ a: shared, b: shared }), '{"a":{"k":[1]},"b":{"k":[1]}}');
});

test('objects without a prototype are plain objects; canonical text round-trips', () => {
  const o = Object.create(null) as Record<string, unknown>;
  o['b'] = 1;
  o['a'] = -0;
  assert.equal(canonicalize(o), '{"a":0,"b":1}');
  assert.ok(isCanonicalJson(SAMPLE_OUTPUT));
  assert.ok(!isCanonicalJson(SAMPLE_INPUT));
  assert.ok(!isCanonicalJson('{"a":1,"a":2}'), 'duplicate keys are not canonical');
  assert.ok(!isCanonicalJson('{"a":1.0}'));
  assert.ok(!isCanonicalJson('not json'));
});

test('key order matches Array.prototype.sort for small and large objects with awkward keys', () => {
  const alphabet = ['a', 'B', '_', '1', '10', '2', 'é', '\u20ac', '\ud83d\ude00', '\ufb33', '', ' ', 'aa', 'a\u0000'];
  let seed = 7;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let round = 0; round < 200; round++) {
    const o: Record<string, number> = {};
    const size = 1 + (next() % 40);
    for (let i = 0; i < size; i++) o[alphabet[next() % alphabet.length]! + alphabet[next() % alphabet.length]!] = i;
    const keys = Object.keys(o).sort();
    assert.equal(canonicalize(o), `{${keys.map((k) => `${JSON.stringify(k)}:${o[k]}`).join(',')}}`);
  }
});
