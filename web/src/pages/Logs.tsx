// A project's logs: root spans, newest first, with a BTQL filter bar and full-text search.
// The list is live: the server pushes new traces that match the filter (server-sent events)
// and they appear at the top without a reload.
import { useEffect, useMemo, useRef, useState } from "react";
import { tail, type Row } from "../api";
import { Empty, ErrorBox, Loading } from "../components/States";
import { VirtualTable, type Column } from "../components/VirtualTable";
import { caseQuery, scoreColumns, searchFilter } from "../lib/cases";
import { ago, pct, preview, seconds } from "../lib/format";
import { links, navigate } from "../lib/router";
import { usePaged } from "../lib/usePaged";

// Puts pushed rows first, replacing older versions of the same row.
export function mergeLive(rows: Row[], pushed: Row[]): Row[] {
  const ids = new Set(pushed.map((r) => r.id));
  return [...pushed, ...rows.filter((r) => !ids.has(r.id))];
}

function maxXact(rows: Row[]): string | null {
  let best: string | null = null;
  for (const r of rows) {
    const x = r._xact_id;
    if (typeof x === "string" && (best === null || x.length > best.length || (x.length === best.length && x > best))) best = x;
  }
  return best;
}

export default function Logs({ projectId }: { projectId: string }) {
  const [search, setSearch] = useState("");
  const [filter, setFilter] = useState("");
  const [applied, setApplied] = useState({ search: "", filter: "" });
  const [live, setLive] = useState<"connecting" | "live" | "error">("connecting");
  const [liveError, setLiveError] = useState("");
  const filtered = !!(applied.search.trim() || applied.filter.trim());
  // The same condition as the list query, for the tail.
  const tailFilter = [applied.filter.trim(), searchFilter(applied.search)]
    .filter(Boolean)
    .map((f) => `(${f})`)
    .join(" and ");
  const paged = usePaged(
    (cursor) =>
      caseQuery({
        source: "project_logs",
        id: projectId,
        shape: "spans",
        search: applied.search,
        filter: applied.filter,
        sort: { key: "_xact_id", desc: true },
        cursor,
        limit: 300,
      }),
    JSON.stringify([projectId, applied]),
  );

  const firstLoaded = !paged.loading || paged.rows.length > 0;
  const since = useMemo(() => (firstLoaded ? (maxXact(paged.rows) ?? "0") : null), [firstLoaded, projectId, applied]); // eslint-disable-line
  const { setRows } = paged;
  // The newest _xact_id pushed so far: a reconnect resumes after it.
  const lastXact = useRef<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    lastXact.current = null;
  }, [since]);
  useEffect(() => {
    if (since === null) return;
    const ctl = new AbortController();
    let retry: ReturnType<typeof setTimeout> | undefined;
    const reconnect = () => {
      if (!ctl.signal.aborted) retry = setTimeout(() => setAttempt((a) => a + 1), 3000);
    };
    setLive("connecting");
    tail(
      projectId,
      lastXact.current ?? since,
      tailFilter,
      (e) => {
        if (e.event === "ready") {
          setLive("live");
          setLiveError("");
        } else if (e.event === "rows") {
          lastXact.current = e.data.xact_id ?? lastXact.current;
          setRows((rows) => mergeLive(rows, e.data.rows));
        } else if (e.event === "error") setLiveError(e.data.message);
      },
      ctl.signal,
    ).then(
      () => {
        if (ctl.signal.aborted) return;
        setLive("error");
        setLiveError("the server closed the stream; reconnecting");
        reconnect();
      },
      (err: Error) => {
        if (ctl.signal.aborted) return;
        setLive("error");
        setLiveError(`${err.message}; reconnecting`);
        reconnect();
      },
    );
    return () => {
      ctl.abort();
      clearTimeout(retry);
    };
  }, [projectId, since, tailFilter, setRows, attempt]);

  const scores = useMemo(() => scoreColumns(paged.rows), [paged.rows]);
  const columns: Column<Row>[] = [
    { key: "created", title: "Time", width: 110, render: (r) => <span title={r.created}>{ago(r.created)}</span> },
    { key: "name", title: "Name", width: 140, render: (r) => r.span_attributes?.name ?? "" },
    { key: "input", title: "Input", width: 300, render: (r) => preview(r.input) },
    { key: "output", title: "Output", width: 300, render: (r) => preview(r.output) },
    ...scores.map<Column<Row>>((s) => ({
      key: `scores.${s}`,
      title: s,
      width: 90,
      className: () => "num",
      render: (r) => pct(r.scores?.[s]),
    })),
    {
      key: "duration",
      title: "Duration",
      width: 90,
      className: () => "num",
      render: (r) => (r.metrics?.end && r.metrics?.start ? seconds(r.metrics.end - r.metrics.start) : "–"),
    },
    { key: "error", title: "", width: 60, render: (r) => (r.error ? <span className="badge-error">error</span> : null) },
  ];

  return (
    <section>
      <h1>
        Logs{" "}
        <span className={`live live-${live}`} data-testid="live-status">
          {live === "live" ? "● live" : live === "error" ? "live tail failed" : "connecting…"}
        </span>
      </h1>
      {liveError && <div className="state error" role="alert">Live tail: {liveError}</div>}
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ search, filter });
        }}
      >
        <input
          type="search"
          aria-label="Search logs"
          placeholder="Search…"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <input
          className="mono wide"
          aria-label="Filter (BTQL)"
          placeholder="BTQL filter, e.g. metadata.model = 'gpt-4o' and scores.quality < 0.5"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
        <button type="submit">Apply</button>
        <span className="count">{paged.rows.length} traces</span>
      </form>
      {paged.error ? (
        <ErrorBox error={paged.error} retry={paged.reload} />
      ) : paged.loading && paged.rows.length === 0 ? (
        <Loading what="Loading logs" />
      ) : paged.rows.length === 0 ? (
        <Empty>{filtered ? "No traces match." : "No logs yet. New traces will appear here as they arrive."}</Empty>
      ) : (
        <VirtualTable
          label="Logs"
          rows={paged.rows}
          columns={columns}
          rowKey={(r) => r.id}
          onOpen={(r) => navigate(links.trace("project_logs", projectId, r.root_span_id ?? r.id))}
          onEndReached={paged.loadMore}
        />
      )}
    </section>
  );
}
