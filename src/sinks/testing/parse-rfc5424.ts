// An RFC 5424 parser written from the RFC's ABNF (section 6), independent of rfc5424.ts, so tests
// can read back what a sink sent. Strict: anything outside the grammar throws.
export interface Rfc5424Message {
  readonly pri: number;
  readonly version: number;
  readonly timestamp: string;
  readonly hostname: string;
  readonly appName: string;
  readonly procId: string;
  readonly msgId: string;
  /** SD-ID -> PARAM-NAME -> unescaped value. */
  readonly sd: Record<string, Record<string, string>>;
  readonly msg: string;
}

const HEADER = /^<(\d{1,3})>([1-9]\d{0,2}) (\S{1,}) ([\x21-\x7e]{1,255}) ([\x21-\x7e]{1,48}) ([\x21-\x7e]{1,128}) ([\x21-\x7e]{1,32}) /;
const SD_NAME = /^[^= \]"]{1,32}/;

export function parseRfc5424(text: string): Rfc5424Message {
  const h = HEADER.exec(text);
  if (!h) throw new Error(`not an RFC 5424 header: ${JSON.stringify(text.slice(0, 80))}`);
  let i = h[0].length;
  const sd: Record<string, Record<string, string>> = {};
  const name = (what: string) => {
    const m = SD_NAME.exec(text.slice(i));
    if (!m) throw new Error(`bad ${what} at ${i}`);
    i += m[0].length;
    return m[0];
  };
  if (text[i] === '-') {
    i++;
  } else {
    while (text[i] === '[') {
      i++;
      const id = name('SD-ID');
      const params: Record<string, string> = {};
      while (text[i] === ' ') {
        i++;
        const key = name('PARAM-NAME');
        if (text.slice(i, i + 2) !== '="') throw new Error(`expected =" at ${i}`);
        i += 2;
        let value = '';
        for (;;) {
          const c = text[i];
          if (c === undefined) throw new Error('unterminated PARAM-VALUE');
          if (c === '"') break;
          if (c === ']') throw new Error(`unescaped ] in PARAM-VALUE at ${i}`);
          if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\' || text[i + 1] === ']')) {
            value += text[i + 1];
            i += 2;
          } else {
            value += c;
            i++;
          }
        }
        i++;
        params[key] = value;
      }
      if (text[i] !== ']') throw new Error(`expected ] at ${i}`);
      i++;
      sd[id] = params;
    }
  }
  let msg = '';
  if (i < text.length) {
    if (text[i] !== ' ') throw new Error(`expected SP before MSG at ${i}`);
    msg = text.slice(i + 1);
  }
  return { pri: Number(h[1]), version: Number(h[2]), timestamp: h[3]!, hostname: h[4]!, appName: h[5]!, procId: h[6]!, msgId: h[7]!, sd, msg };
}
