// Compiling an indicator's STIX pattern when it is stored, with the pattern module's own parser
// and compiler (src/intel/pattern/; the same lenient compile the matcher uses), so intel_indicators.compile_error tells an analyst at sync
// time which indicators the matcher will skip and why, column included.

import { compilePattern } from '../pattern/compile.ts';
import type { PatternCompiler } from './intel-store.ts';

export const compileStixPattern: PatternCompiler = (pattern) => {
  try {
    compilePattern(pattern);
    return null;
  } catch (e) {
    const err = e as Error & { code?: string };
    return `${err.code ?? 'DE_STIX_PATTERN'}: ${err.message}`.slice(0, 1000);
  }
};
