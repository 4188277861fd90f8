// Hex rendering of frames for failure messages: a dump, and a side-by-side diff that marks bytes.

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/[\s:]/g, "");
  if (clean.length % 2 || /[^0-9a-fA-F]/.test(clean)) throw new SyntaxError("bad hex string");
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/** Classic 16-bytes-per-line dump with offsets. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = Array.from(bytes.subarray(i, i + 16), (b) => b.toString(16).padStart(2, "0"));
    lines.push(`${i.toString(16).padStart(4, "0")}  ${row.join(" ")}`);
  }
  return lines.join("\n");
}

/**
 * Line-by-line diff of `expected` and `actual` (16 bytes a line). Bytes that differ are shown in
 * [brackets]; `ignored[i]` true shows byte i of expected as `..` (masked). `label(i)` names the field.
 */
export function hexDiff(expected: Uint8Array, actual: Uint8Array, ignored?: boolean[], label?: (offset: number) => string): string {
  const n = Math.max(expected.length, actual.length);
  const lines: string[] = [];
  const differing: number[] = [];
  for (let i = 0; i < n; i += 16) {
    const e: string[] = [];
    const a: string[] = [];
    let bad = false;
    for (let j = i; j < Math.min(i + 16, n); j++) {
      const eb = j < expected.length ? expected[j].toString(16).padStart(2, "0") : "--";
      const ab = j < actual.length ? actual[j].toString(16).padStart(2, "0") : "--";
      const masked = ignored?.[j] ?? false;
      const differs = !masked && eb !== ab;
      if (differs) {
        bad = true;
        differing.push(j);
      }
      e.push(masked ? ".." : differs ? `[${eb}]` : eb);
      a.push(masked ? ".." : differs ? `[${ab}]` : ab);
    }
    const mark = bad ? "!" : " ";
    lines.push(`${mark} ${i.toString(16).padStart(4, "0")} expected ${e.join(" ")}`);
    lines.push(`${mark} ${" ".repeat(4)} actual   ${a.join(" ")}`);
  }
  if (label && differing.length) {
    const fields = [...new Set(differing.map(label))];
    lines.push(`differing fields: ${fields.join(", ")}`);
  }
  return lines.join("\n");
}
