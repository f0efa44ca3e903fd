// Small formatting helpers shared by the pages.

export function preview(v: unknown, max = 200): string {
  if (v === undefined || v === null) return "";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > max ? s.slice(0, max) + "…" : s;
}

export function pct(v: unknown): string {
  return typeof v === "number" && Number.isFinite(v) ? (v * 100).toFixed(1) + "%" : "–";
}

export function num(v: unknown, digits = 3): string {
  if (typeof v !== "number" || !Number.isFinite(v)) return "–";
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(digits).replace(/\.?0+$/, "");
}

export function ago(iso: unknown): string {
  if (typeof iso !== "string" || !iso) return "–";
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return "–";
  const s = Math.max(0, (Date.now() - t) / 1000);
  if (s < 60) return `${Math.floor(s)}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return new Date(t).toLocaleDateString();
}

export function seconds(v: unknown): string {
  if (typeof v !== "number" || !Number.isFinite(v)) return "–";
  return v < 1 ? `${Math.round(v * 1000)}ms` : `${v.toFixed(2)}s`;
}
