// Pure helpers behind the experiment and logs tables: the BTQL text for a page of cases and
// the per-case comparison with a base experiment.
import { btql, lit, type BtqlResult, type Row } from "../api";

export interface CaseQuery {
  source: string; // "experiment" | "project_logs" | "dataset"
  id: string;
  search?: string;
  filter?: string;
  sort?: { key: string; desc: boolean } | null;
  limit?: number;
  cursor?: string | null;
  shape?: "summary" | "spans";
  previewLength?: number;
}

export const SEARCH_FIELDS = ["input", "output", "expected", "metadata"];

export function searchFilter(search: string): string {
  const q = search.trim();
  if (!q) return "";
  return "(" + SEARCH_FIELDS.map((f) => `${f} MATCH ${lit(q)}`).join(" OR ") + ")";
}

export function caseQuery(q: CaseQuery): string {
  const parts = [`from: ${q.source}(${lit(q.id)}) ${q.shape ?? "summary"}`];
  const filters = [q.filter?.trim(), searchFilter(q.search ?? "")].filter(Boolean);
  if (q.shape === "spans") filters.unshift("is_root");
  if (filters.length) parts.push("filter: " + filters.map((f) => `(${f})`).join(" and "));
  if (q.sort) parts.push(`sort: ${q.sort.key} ${q.sort.desc ? "desc" : "asc"}`);
  parts.push(`limit: ${q.limit ?? 500}`);
  if (q.previewLength) parts.push(`preview_length: ${q.previewLength}`);
  if (q.cursor) parts.push(`cursor: ${lit(q.cursor)}`);
  return parts.join(" | ");
}

// The key that pairs a case with the base experiment's case: its input.
export function caseKey(row: Row): string {
  return JSON.stringify(row.input ?? null);
}

export interface CaseDiff {
  base: Record<string, number>;
  diff: Record<string, number>;
  regressions: string[];
  improvements: string[];
}

export function compareCase(row: Row, base: Row | undefined): CaseDiff | null {
  if (!base) return null;
  const cur: Record<string, number> = row.scores ?? {};
  const old: Record<string, number> = base.scores ?? {};
  const out: CaseDiff = { base: {}, diff: {}, regressions: [], improvements: [] };
  for (const [name, v] of Object.entries(cur)) {
    const b = old[name];
    if (typeof v !== "number" || typeof b !== "number") continue;
    out.base[name] = b;
    out.diff[name] = v - b;
    if (v < b) out.regressions.push(name);
    else if (v > b) out.improvements.push(name);
  }
  return out;
}

export function scoreColumns(rows: Row[]): string[] {
  const names = new Set<string>();
  for (const r of rows.slice(0, 2000)) {
    for (const [k, v] of Object.entries(r.scores ?? {})) if (v !== null) names.add(k);
  }
  return [...names].sort();
}

// Metrics worth a column: not timestamps, and non-zero somewhere in the loaded rows.
export function metricColumns(rows: Row[]): string[] {
  const names = new Set<string>();
  for (const r of rows.slice(0, 2000)) {
    for (const [k, v] of Object.entries(r.metrics ?? {})) {
      if (typeof v === "number" && v !== 0 && k !== "start" && k !== "end") names.add(k);
    }
  }
  const preferred = ["duration", "total_tokens", "prompt_tokens", "completion_tokens", "estimated_cost"];
  return [...names].sort((a, b) => {
    const ia = preferred.indexOf(a), ib = preferred.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
}

function fromAst(source: string, id: string, shape: string) {
  return {
    op: "function",
    name: { op: "ident", name: [source] },
    args: [{ op: "literal", value: id }],
    shape,
  };
}

// One page of trace summaries in write order, in two cheap steps: a page of root spans (the
// cursor pages over them), then the summary shape for just those traces (an index lookup
// by root_span_id). Summarizing every trace to cut one page costs O(all traces) per page.
export async function summaryPage(
  source: string,
  id: string,
  cursor: string | null,
  limit: number,
  previewLength: number,
): Promise<BtqlResult> {
  const roots = await btql({
    select: [{ expr: { op: "ident", name: ["root_span_id"] }, alias: "root_span_id" }],
    from: fromAst(source, id, "spans"),
    filter: { op: "ident", name: ["is_root"] },
    limit,
    ...(cursor ? { cursor } : {}),
  });
  const ids = [...new Set(roots.data.map((r) => r.root_span_id).filter((x) => typeof x === "string"))];
  if (ids.length === 0) return { data: [], cursor: roots.cursor };
  const summaries = await btql({
    select: [{ op: "star" }],
    from: fromAst(source, id, "summary"),
    filter: {
      op: "in",
      left: { op: "ident", name: ["root_span_id"] },
      right: { op: "literal", value: ids },
    },
    limit: ids.length,
    preview_length: previewLength,
  });
  const order = new Map(ids.map((x, i) => [x, i]));
  const key = (r: Row) => order.get(r.root_span_id ?? r.id) ?? 0;
  return { data: summaries.data.sort((a, b) => key(a) - key(b)), cursor: roots.cursor };
}

// Whether a case query needs the server to look at every trace (sort, filter or search).
export function needsFullScan(q: CaseQuery): boolean {
  return !!(q.sort || q.filter?.trim() || q.search?.trim());
}

// A page of cases: the cheap two-step path when the view is unsorted and unfiltered, else
// the summary shape with the filter, search and sort evaluated by the server.
export function casePage(q: CaseQuery): Promise<BtqlResult> {
  if (!needsFullScan(q) && (q.shape ?? "summary") === "summary") {
    return summaryPage(q.source, q.id, q.cursor ?? null, q.limit ?? 500, q.previewLength ?? 124);
  }
  return btql(caseQuery(q));
}
