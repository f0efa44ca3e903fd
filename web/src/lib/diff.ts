// A line diff (longest common subsequence) for comparing two prompt versions. Prompts are
// short, so the O(n·m) table is fine; inputs past `maxLines` are compared whole.

export type DiffLine = { op: "same" | "add" | "del"; text: string };

export function lineDiff(before: string, after: string, maxLines = 2000): DiffLine[] {
  const a = before.split("\n");
  const b = after.split("\n");
  if (a.length > maxLines || b.length > maxLines) {
    return before === after
      ? a.map((text) => ({ op: "same", text }))
      : [...a.map((text) => ({ op: "del" as const, text })), ...b.map((text) => ({ op: "add" as const, text }))];
  }
  // lcs[i][j]: length of the LCS of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push({ op: "same", text: a[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      out.push({ op: "del", text: a[i++] });
    } else {
      out.push({ op: "add", text: b[j++] });
    }
  }
  while (i < a.length) out.push({ op: "del", text: a[i++] });
  while (j < b.length) out.push({ op: "add", text: b[j++] });
  return out;
}

// The text of a prompt version: chat messages as "role: content" lines, or the completion text.
export function promptText(promptData: any): string {
  const p = promptData?.prompt;
  if (Array.isArray(p?.messages)) {
    return p.messages
      .map((m: any) => `${m?.role ?? "?"}: ${typeof m?.content === "string" ? m.content : JSON.stringify(m?.content)}`)
      .join("\n");
  }
  if (typeof p?.content === "string") return p.content;
  return JSON.stringify(promptData ?? null, null, 2);
}
