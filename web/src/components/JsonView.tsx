// A collapsible JSON viewer that stays responsive on large (10 MB) payloads: only expanded
// nodes are rendered, long arrays and objects show their first entries, and long strings are
// cut until asked for.
import { useState } from "react";

const CHILDREN_SHOWN = 100;
const STRING_SHOWN = 2000;

export function JsonView({ value, expandDepth = 1 }: { value: unknown; expandDepth?: number }) {
  return (
    <div className="json" data-testid="json-view">
      <Node value={value} depth={0} expandDepth={expandDepth} />
    </div>
  );
}

function Node({
  name,
  value,
  depth,
  expandDepth,
}: {
  name?: string;
  value: unknown;
  depth: number;
  expandDepth: number;
}) {
  const label = name !== undefined ? <span className="json-key">{name}: </span> : null;
  if (value === null || typeof value !== "object") {
    return (
      <div className="json-row" style={{ paddingLeft: depth * 14 }}>
        {label}
        <Scalar value={value} />
      </div>
    );
  }
  return <Composite name={name} value={value} depth={depth} expandDepth={expandDepth} />;
}

function Composite({
  name,
  value,
  depth,
  expandDepth,
}: {
  name?: string;
  value: object;
  depth: number;
  expandDepth: number;
}) {
  const [open, setOpen] = useState(depth < expandDepth);
  const [shown, setShown] = useState(CHILDREN_SHOWN);
  const isArray = Array.isArray(value);
  const entries: [string, unknown][] = isArray
    ? (value as unknown[]).slice(0, open ? shown : 0).map((v, i) => [String(i), v])
    : Object.entries(value).slice(0, open ? shown : 0);
  const size = isArray ? (value as unknown[]).length : Object.keys(value).length;
  return (
    <div>
      <div className="json-row" style={{ paddingLeft: depth * 14 }}>
        <button
          type="button"
          className="json-toggle"
          aria-expanded={open}
          onClick={() => setOpen(!open)}
        >
          {open ? "▾" : "▸"}
        </button>
        {name !== undefined && <span className="json-key">{name}: </span>}
        <span className="json-meta">
          {isArray ? `[${size}]` : `{${size}}`}
        </span>
      </div>
      {open &&
        entries.map(([k, v]) => (
          <Node key={k} name={k} value={v} depth={depth + 1} expandDepth={expandDepth} />
        ))}
      {open && size > shown && (
        <div style={{ paddingLeft: (depth + 1) * 14 }}>
          <button type="button" className="link" onClick={() => setShown(shown + CHILDREN_SHOWN)}>
            show {Math.min(CHILDREN_SHOWN, size - shown)} more of {size - shown}
          </button>
        </div>
      )}
    </div>
  );
}

function Scalar({ value }: { value: unknown }) {
  const [full, setFull] = useState(false);
  if (typeof value === "string") {
    const cut = !full && value.length > STRING_SHOWN;
    return (
      <span className="json-string">
        "{cut ? value.slice(0, STRING_SHOWN) : value}"
        {cut && (
          <button type="button" className="link" onClick={() => setFull(true)}>
            … {value.length - STRING_SHOWN} more characters
          </button>
        )}
      </span>
    );
  }
  if (typeof value === "number") return <span className="json-number">{String(value)}</span>;
  if (typeof value === "boolean") return <span className="json-bool">{String(value)}</span>;
  return <span className="json-null">null</span>;
}
