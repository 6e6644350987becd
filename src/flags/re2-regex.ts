/**
 * Compiles a REGEX constraint, written in RE2 syntax as Unleash's server validates it, into a
 * JavaScript RegExp. RE2 features JavaScript lacks are translated: inline flags `(?i)`, `(?m)`,
 * `(?s)` (and `(?i:...)` groups) become flags of the whole pattern; POSIX classes like `[[:alpha:]]`
 * become ASCII ranges; `\A` and `\z` anchor the whole text; `(?P<name>` becomes `(?<name>`.
 * What RE2 refuses (lookaround, backreferences) is refused here too, so such a constraint never matches.
 */
const POSIX: Readonly<Record<string, string>> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: '0-9A-Za-z',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\t\\n\\v\\f\\r ',
  blank: '\\t ',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  word: '0-9A-Za-z_',
  cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~',
  graph: '!-~',
  ascii: '\\x00-\\x7f',
};

export type Re2Result = { ok: true; regex: RegExp } | { ok: false; message: string };

export function compileRe2(pattern: string, caseInsensitive = false): Re2Result {
  const flags = new Set<string>(caseInsensitive ? ['i'] : []);
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) return { ok: false, message: 'pattern ends with a lone backslash' };
      if (!inClass && /[1-9]/.test(next)) return { ok: false, message: 'backreferences are not supported (RE2)' };
      if (!inClass && next === 'k') return { ok: false, message: 'named backreferences are not supported (RE2)' };
      if (!inClass && next === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && next === 'z') out += '(?![\\s\\S])';
      else out += ch + next;
      i++;
      continue;
    }
    if (inClass) {
      if (ch === '[' && pattern[i + 1] === ':') {
        const end = pattern.indexOf(':]', i + 2);
        const name = end > 0 ? pattern.slice(i + 2, end) : '';
        const negated = name.startsWith('^');
        const cls = POSIX[negated ? name.slice(1) : name];
        if (cls === undefined) return { ok: false, message: `unknown character class [:${name}:]` };
        if (negated) return { ok: false, message: 'negated POSIX classes are not supported' };
        out += cls;
        i = end + 1;
        continue;
      }
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      if (pattern[i + 1] === '^') out += pattern[++i];
      if (pattern[i + 1] === ']') out += '\\' + pattern[++i];
      continue;
    }
    if (ch === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2);
      if (/^(=|!|<=|<!)/.test(rest)) return { ok: false, message: 'lookaround is not supported (RE2)' };
      if (rest.startsWith('P<')) {
        out += '(?<';
        i += 3;
        continue;
      }
      const m = /^([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
      if (m && (m[1] || m[2])) {
        if (m[2] || m[1]!.includes('U')) return { ok: false, message: 'clearing flags and the U flag are not supported' };
        for (const f of m[1]!) flags.add(f);
        out += m[3] === ':' ? '(?:' : '';
        i += 1 + m[0].length;
        continue;
      }
    }
    out += ch;
  }
  try {
    return { ok: true, regex: new RegExp(out, [...flags].join('')) };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}
