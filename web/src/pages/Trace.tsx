// One trace: the span tree with a timing waterfall; the selected span's input, output,
// metadata and metrics (LLM messages as a chat); and human review of the root span (scores
// and comments written through the feedback path).
import { useMemo, useState, type FormEvent } from "react";
import { btql, feedback, getObject, lit, type ObjectType, type Row } from "../api";
import { asMessages, Chat } from "../components/Chat";
import { JsonView } from "../components/JsonView";
import { Link } from "../components/Link";
import { Empty, ErrorBox, Loading } from "../components/States";
import { ago, num, preview, seconds } from "../lib/format";
import { links } from "../lib/router";
import { useAsync } from "../lib/useAsync";
import { usePageProject } from "../lib/project";

export interface SpanNode {
  span: Row;
  depth: number;
  children: SpanNode[];
}

// Orders spans as a tree (parents before children, siblings by start time) and flattens it.
export function buildTree(spans: Row[]): SpanNode[] {
  const byId = new Map<string, SpanNode>();
  for (const s of spans) byId.set(s.span_id ?? s.id, { span: s, depth: 0, children: [] });
  const roots: SpanNode[] = [];
  for (const node of byId.values()) {
    const parents: string[] = node.span.span_parents ?? [];
    const parent = parents.map((p) => byId.get(p)).find(Boolean);
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  const start = (n: SpanNode) => n.span.metrics?.start ?? 0;
  const out: SpanNode[] = [];
  const walk = (nodes: SpanNode[], depth: number) => {
    nodes.sort((a, b) => start(a) - start(b));
    for (const n of nodes) {
      n.depth = depth;
      out.push(n);
      walk(n.children, depth + 1);
    }
  };
  walk(roots, 0);
  return out;
}

// OpenAI-style outputs ([{message: {...}}] or {choices: [...]}) as chat messages.
function outputMessages(v: unknown): ReturnType<typeof asMessages> {
  const choices = Array.isArray(v) ? v : (v as any)?.choices;
  if (Array.isArray(choices) && choices.length && choices.every((c: any) => c?.message?.role)) {
    return choices.map((c: any) => c.message);
  }
  if (v && typeof v === "object" && typeof (v as any).role === "string") return [v as any];
  return asMessages(v);
}

export default function Trace({
  objectType,
  objectId,
  rootSpanId,
}: {
  objectType: string;
  objectId: string;
  rootSpanId: string;
}) {
  const { data, error, loading, reload } = useAsync(
    async () =>
      (
        await btql(
          `from: ${objectType}(${lit(objectId)}) | filter: root_span_id = ${lit(rootSpanId)} | limit: 10000`,
        )
      ).data,
    [objectType, objectId, rootSpanId],
  );
  const tree = useMemo(() => buildTree(data ?? []), [data]);
  const owner = useAsync(
    async () =>
      objectType === "project_logs"
        ? objectId
        : ((await getObject(objectType, objectId).catch(() => null))?.project_id ?? undefined),
    [objectType, objectId],
  );
  usePageProject(owner.data);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  if (loading && !data) return <Loading what="Loading trace" />;
  if (error) return <ErrorBox error={error} retry={reload} />;
  if (tree.length === 0) return <Empty>This trace has no spans.</Empty>;
  const root = tree[0];
  const selected = tree.find((n) => n.span.id === selectedId) ?? root;
  const t0 = Math.min(...tree.map((n) => n.span.metrics?.start ?? Infinity));
  const t1 = Math.max(...tree.map((n) => n.span.metrics?.end ?? n.span.metrics?.start ?? -Infinity));
  const span = Number.isFinite(t0) && Number.isFinite(t1) && t1 > t0 ? t1 - t0 : 0;
  const back =
    objectType === "experiment"
      ? links.experiment(objectId)
      : objectType === "project_logs"
        ? links.logs(objectId)
        : links.projects();

  const onKey = (e: React.KeyboardEvent) => {
    const i = tree.indexOf(selected);
    const next = e.key === "ArrowDown" || e.key === "j" ? i + 1 : e.key === "ArrowUp" || e.key === "k" ? i - 1 : -2;
    if (next === -2) return;
    e.preventDefault();
    const n = tree[Math.max(0, Math.min(tree.length - 1, next))];
    setSelectedId(n.span.id);
  };

  return (
    <section className="trace">
      <h1>
        Trace <small className="mono">{rootSpanId.slice(0, 12)}</small>{" "}
        <small>
          <Link to={back}>← back</Link>
        </small>
      </h1>
      <div className="trace-layout">
        <div className="span-tree" role="tree" aria-label="Spans" tabIndex={0} onKeyDown={onKey}>
          {tree.map((n) => {
            const m = n.span.metrics ?? {};
            const left = span && m.start ? ((m.start - t0) / span) * 100 : 0;
            const width = span && m.start && m.end ? Math.max(0.5, ((m.end - m.start) / span) * 100) : 0;
            return (
              <div
                key={n.span.id}
                role="treeitem"
                aria-selected={n === selected}
                className={"span-row" + (n === selected ? " selected" : "")}
                onClick={() => setSelectedId(n.span.id)}
                data-testid="span-row"
              >
                <div className="span-name" style={{ paddingLeft: 8 + n.depth * 16 }}>
                  <span className={`span-type t-${n.span.span_attributes?.type ?? "span"}`}>
                    {n.span.span_attributes?.type ?? "span"}
                  </span>{" "}
                  {n.span.span_attributes?.name ?? n.span.id.slice(0, 8)}
                  {n.span.error ? <span className="badge-error">error</span> : null}
                </div>
                <div className="span-time">{m.start && m.end ? seconds(m.end - m.start) : ""}</div>
                <div className="waterfall">
                  {width > 0 && (
                    <div className="bar" style={{ left: `${left}%`, width: `${width}%` }} />
                  )}
                </div>
              </div>
            );
          })}
        </div>
        <SpanDetail key={selected.span.id} span={selected.span} />
      </div>
      {(objectType === "experiment" || objectType === "project_logs" || objectType === "dataset") && (
        <Review
          objectType={objectType}
          objectId={objectId}
          root={root.span}
          onSaved={reload}
        />
      )}
    </section>
  );
}

function SpanDetail({ span }: { span: Row }) {
  const inMsgs = asMessages(span.input);
  const outMsgs = outputMessages(span.output);
  return (
    <div className="span-detail" data-testid="span-detail">
      <h2>{span.span_attributes?.name ?? "span"}</h2>
      {span.error && (
        <Block title="Error">
          <JsonView value={span.error} />
        </Block>
      )}
      <Block title="Input">{inMsgs ? <Chat messages={inMsgs} /> : <JsonView value={span.input ?? null} />}</Block>
      <Block title="Output">
        {outMsgs ? <Chat messages={outMsgs} /> : <JsonView value={span.output ?? null} />}
      </Block>
      {span.expected !== undefined && span.expected !== null && (
        <Block title="Expected">
          <JsonView value={span.expected} />
        </Block>
      )}
      {span.scores && Object.keys(span.scores).length > 0 && (
        <Block title="Scores">
          <table className="kv">
            <tbody>
              {Object.entries(span.scores).map(([k, v]) => (
                <tr key={k}>
                  <th>{k}</th>
                  <td data-testid={`score-${k}`}>{num(v as number)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Block>
      )}
      <Block title="Metrics">
        <JsonView value={span.metrics ?? {}} />
      </Block>
      <Block title="Metadata">
        <JsonView value={span.metadata ?? {}} />
      </Block>
      {Array.isArray(span.comments) && span.comments.length > 0 && (
        <Block title="Comments">
          {span.comments.map((c: any, i: number) => (
            <div key={c.id ?? i} className="comment" data-testid="comment">
              {c.comment?.text ?? JSON.stringify(c.comment)}
              <small title={c.created}> · {ago(c.created)}</small>
            </div>
          ))}
        </Block>
      )}
      <AuditTrail span={span} />
    </div>
  );
}

// Who changed this span, when and from where: the row's audit_data entries (feedback, review)
// and those of its comments, oldest first (docs/api.md, "Audit trail").
export function auditEntries(span: Row): Row[] {
  const own: Row[] = Array.isArray(span.audit_data) ? span.audit_data : [];
  const fromComments: Row[] = (Array.isArray(span.comments) ? span.comments : []).flatMap((c: Row) =>
    (Array.isArray(c.audit_data) ? c.audit_data : []).map((e: Row) => ({
      ...e,
      audit_data: { action: "comment", text: c.comment?.text },
    })),
  );
  return [...own, ...fromComments].sort((a, b) => String(a._xact_id).localeCompare(String(b._xact_id)));
}

function describeChange(c: Row): string {
  const path = Array.isArray(c.path) ? c.path.join(".") : "?";
  if (!("to" in c)) return path;
  return "from" in c && c.from !== null ? `${path} ${preview(c.from, 40)} → ${preview(c.to, 40)}` : `${path} = ${preview(c.to, 40)}`;
}

function AuditTrail({ span }: { span: Row }) {
  const entries = auditEntries(span);
  if (entries.length === 0) return null;
  return (
    <Block title="Audit trail">
      <ul className="audit" aria-label="Audit trail">
        {entries.map((e, i) => {
          const a = e.audit_data ?? {};
          const what =
            a.action === "comment"
              ? `comment “${preview(a.text, 60)}”`
              : a.action === "merge" && Array.isArray(a.changes) && a.changes.length
                ? a.changes.map(describeChange).join(", ")
                : String(a.action ?? "change");
          return (
            <li key={i} data-testid="audit-entry">
              <span className="badge" data-testid="audit-source">{e.source}</span> {what}
              <small title={e.created}>
                {" "}
                · {ago(e.created)}
                {e.user_id ? ` · user ${String(e.user_id).slice(0, 8)}` : ""}
                {e.key_id ? ` · key ${String(e.key_id).slice(0, 8)}` : ""}
                {e.metadata && Object.keys(e.metadata).length ? ` · ${preview(e.metadata, 80)}` : ""}
              </small>
            </li>
          );
        })}
      </ul>
    </Block>
  );
}

function Block({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <div className="block">
      <h3>{title}</h3>
      {children}
    </div>
  );
}

// Human review: override scores or add new ones (0–1) and comment, on the root span.
function Review({
  objectType,
  objectId,
  root,
  onSaved,
}: {
  objectType: ObjectType;
  objectId: string;
  root: Row;
  onSaved: () => void;
}) {
  const existing: Record<string, number | null> = root.scores ?? {};
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [newName, setNewName] = useState("");
  const [comment, setComment] = useState("");
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const names = [...new Set([...Object.keys(existing), ...Object.keys(edits)])];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const scores: Record<string, number> = {};
    for (const [k, v] of Object.entries(edits)) {
      if (v.trim() === "") continue;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || n > 1) {
        setStatus({ ok: false, text: `Score "${k}" must be a number from 0 to 1` });
        return;
      }
      scores[k] = n;
    }
    const item: Record<string, unknown> = { id: root.id, source: "app" };
    if (Object.keys(scores).length) item.scores = scores;
    if (comment.trim()) item.comment = comment.trim();
    if (!item.scores && !item.comment) {
      setStatus({ ok: false, text: "Nothing to save" });
      return;
    }
    try {
      await feedback(objectType, objectId, [item]);
      setEdits({});
      setComment("");
      setStatus({ ok: true, text: "Saved" });
      onSaved();
    } catch (err) {
      setStatus({ ok: false, text: (err as Error).message });
    }
  };

  return (
    <form className="review card" onSubmit={submit} aria-label="Review">
      <h2>Review</h2>
      <div className="review-scores">
        {names.map((n) => (
          <label key={n}>
            {n}{" "}
            <input
              aria-label={`score ${n}`}
              inputMode="decimal"
              placeholder={existing[n] === undefined || existing[n] === null ? "0–1" : String(existing[n])}
              value={edits[n] ?? ""}
              onChange={(e) => setEdits({ ...edits, [n]: e.target.value })}
            />
          </label>
        ))}
        <span className="add-score">
          <input
            aria-label="New score name"
            placeholder="new score name"
            value={newName}
            onChange={(e) => setNewName(e.target.value)}
          />
          <button
            type="button"
            onClick={() => {
              if (newName.trim()) setEdits({ ...edits, [newName.trim()]: "" });
              setNewName("");
            }}
          >
            Add score
          </button>
        </span>
      </div>
      <textarea
        aria-label="Comment"
        placeholder="Add a comment…"
        value={comment}
        onChange={(e) => setComment(e.target.value)}
      />
      <button type="submit" className="primary">
        Save review
      </button>
      {status && (
        <span role="status" className={status.ok ? "ok" : "state error"}>
          {status.text}
        </span>
      )}
    </form>
  );
}
