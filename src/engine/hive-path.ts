/**
 * A partition value as a folder name segment (`column=value`), escaped as Hive and Spark do: the
 * characters that would end the segment, change its meaning or be refused by a file system become
 * `%XX`. Categorical values come from a declared list but may hold anything; this keeps each value
 * one folder, and readers that understand hive layouts decode it back.
 */
export function hiveEscape(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f || '"#%\'*/:=?\\{[]^'.includes(ch)) out += [...new TextEncoder().encode(ch)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    else out += ch;
  }
  return out === '.' || out === '..' ? out.replaceAll('.', '%2E') : out;
}
