// Regenerates docs/errors.md from the catalogue: node scripts/gen-errors-doc.ts > docs/errors.md
import { ERRORS } from '../src/errors/catalogue.ts';
let out = `# Error catalogue

Every error DaemonEye reports carries a stable code (match on it, never on the text), a message
saying what went wrong, and a hint saying how to solve it. The CLI exits with the status in the last
column. This page is checked against \`src/errors/catalogue.ts\` by \`src/errors/catalogue.test.ts\`.

| code | what went wrong | how to solve it | exit |
| --- | --- | --- | --- |
`;
for (const [code, s] of Object.entries(ERRORS)) out += `| ${code} | ${s.summary} | ${s.hint.replace(/\|/g, '\\|')} | ${s.exit} |\n`;
process.stdout.write(out);
