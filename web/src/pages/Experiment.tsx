// One experiment: its cases as a virtualized, sortable, filterable, searchable table (paged
// from /btql), and optionally the comparison with a base experiment: per-case score diffs,
// improvements and regressions highlighted, and a per-score summary.
import { useMemo, useState } from "react";
import { call, getObject, listObjects, type Row } from "../api";
import { Link } from "../components/Link";
import { Empty, ErrorBox, Loading } from "../components/States";
import { VirtualTable, type Column, type SortState } from "../components/VirtualTable";
import {
  caseKey,
  casePage,
  summaryPage,
  compareCase,
  metricColumns,
  scoreColumns,
  type CaseDiff,
} from "../lib/cases";
import { num, pct, preview, seconds } from "../lib/format";
import { links, navigate } from "../lib/router";
import { useAsync } from "../lib/useAsync";
import { usePaged } from "../lib/usePaged";
import { usePageProject } from "../lib/project";

const PREVIEW = 400;
const BASE_ROWS_MAX = 200_000;

interface ScoreSummary {
  name: string;
  score?: number;
  metric?: number;
  diff?: number;
  improvements: number;
  regressions: number;
  unit?: string;
}

interface Comparison {
  scores: Record<string, ScoreSummary>;
  metrics: Record<string, ScoreSummary>;
}

async function loadBase(baseId: string): Promise<Map<string, Row>> {
  const out = new Map<string, Row>();
  let cursor: string | null = null;
  do {
    const page = await summaryPage("experiment", baseId, cursor, 2000, PREVIEW);
    for (const r of page.data) out.set(caseKey(r), r);
    cursor = page.cursor;
  } while (cursor && out.size < BASE_ROWS_MAX);
  return out;
}

export default function Experiment({
  experimentId,
  compare,
}: {
  experimentId: string;
  compare: string | null;
}) {
  const meta = useAsync(async () => {
    const exp = await getObject("experiment", experimentId);
    const siblings = exp.project_id ? await listObjects("experiment", exp.project_id) : [];
    return { exp, siblings };
  }, [experimentId]);
  usePageProject(meta.data?.exp.project_id);
  const [search, setSearch] = useState("");
  const [appliedSearch, setAppliedSearch] = useState("");
  const [filter, setFilter] = useState("");
  const [appliedFilter, setAppliedFilter] = useState("");
  const [sort, setSort] = useState<SortState>(null);
  const [onlyRegressions, setOnlyRegressions] = useState(false);

  const key = JSON.stringify([experimentId, appliedSearch, appliedFilter, sort]);
  const paged = usePaged(
    (cursor) =>
      casePage({
        source: "experiment",
        id: experimentId,
        search: appliedSearch,
        filter: appliedFilter,
        sort: sort && { key: sort.key, desc: sort.desc },
        cursor,
        previewLength: PREVIEW,
      }),
    key,
  );
  const summary = useAsync(
    (signal) =>
      call<Comparison>(
        `/experiment-comparison2?experiment_id=${encodeURIComponent(experimentId)}` +
          (compare ? `&base_experiment_id=${encodeURIComponent(compare)}` : ""),
        { signal },
      ),
    [experimentId, compare],
  );
  const base = useAsync(
    () => (compare ? loadBase(compare) : Promise.resolve(null)),
    [compare],
  );

  const scores = useMemo(() => scoreColumns(paged.rows), [paged.rows]);
  const metrics = useMemo(() => metricColumns(paged.rows).slice(0, 4), [paged.rows]);
  const diffs = useMemo(() => {
    const m = new Map<string, CaseDiff | null>();
    if (!base.data) return m;
    for (const r of paged.rows) m.set(r.id, compareCase(r, base.data.get(caseKey(r))));
    return m;
  }, [paged.rows, base.data]);
  const rows = onlyRegressions
    ? paged.rows.filter((r) => (diffs.get(r.id)?.regressions.length ?? 0) > 0)
    : paged.rows;

  if (meta.loading) return <Loading what="Loading experiment" />;
  if (meta.error) return <ErrorBox error={meta.error} retry={meta.reload} />;
  const exp = meta.data!.exp;
  const others = meta.data!.siblings.filter((e) => e.id !== experimentId);

  const columns: Column<Row>[] = [
    { key: "input", title: "Input", width: 260, sortable: true, render: (r) => preview(r.input) },
    { key: "output", title: "Output", width: 260, sortable: true, render: (r) => preview(r.output) },
    {
      key: "expected",
      title: "Expected",
      width: 200,
      sortable: true,
      render: (r) => preview(r.expected),
    },
    ...scores.map<Column<Row>>((s) => ({
      key: `scores.${s}`,
      title: s,
      width: compare ? 150 : 100,
      sortable: true,
      className: (r) => {
        const d = diffs.get(r.id)?.diff[s];
        return d === undefined || d === 0 ? "num" : d < 0 ? "num regression" : "num improvement";
      },
      render: (r) => {
        const d = diffs.get(r.id);
        const diff = d?.diff[s];
        return (
          <>
            {pct(r.scores?.[s])}
            {diff !== undefined && diff !== 0 && (
              <span className="diff">
                {" "}
                ({diff > 0 ? "+" : ""}
                {(diff * 100).toFixed(1)})
              </span>
            )}
          </>
        );
      },
    })),
    ...metrics.map<Column<Row>>((m) => ({
      key: `metrics.${m}`,
      title: m,
      width: 100,
      sortable: true,
      className: () => "num",
      render: (r) => (m.includes("duration") ? seconds(r.metrics?.[m]) : num(r.metrics?.[m])),
    })),
  ];

  const openCase = (r: Row) =>
    navigate(links.trace("experiment", experimentId, r.root_span_id ?? r.id));

  return (
    <section>
      <h1>
        {exp.name}{" "}
        {exp.project_id && (
          <small>
            <Link to={links.project(exp.project_id)}>← experiments</Link>
          </small>
        )}
      </h1>
      <ScoreSummaryBar summary={summary.data} error={summary.error} comparing={!!compare} />
      <div className="toolbar">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setAppliedSearch(search);
            setAppliedFilter(filter);
          }}
        >
          <input
            type="search"
            aria-label="Search cases"
            placeholder="Search input, output, expected…"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
          <input
            className="mono"
            aria-label="Filter (BTQL)"
            placeholder="filter, e.g. scores.accuracy < 0.5"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
          />
          <button type="submit">Apply</button>
        </form>
        <label>
          Compare with{" "}
          <select
            aria-label="Compare with"
            value={compare ?? ""}
            onChange={(e) => navigate(links.experiment(experimentId, e.target.value || undefined))}
          >
            <option value="">(none)</option>
            {others.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </select>
        </label>
        {compare && (
          <label>
            <input
              type="checkbox"
              checked={onlyRegressions}
              onChange={(e) => setOnlyRegressions(e.target.checked)}
            />{" "}
            only regressions
          </label>
        )}
        <span className="count" data-testid="case-count">
          {rows.length}
          {paged.done ? "" : "+"} cases
        </span>
      </div>
      {paged.error ? (
        <ErrorBox error={paged.error} retry={paged.reload} />
      ) : base.error ? (
        <ErrorBox error={base.error} retry={base.reload} />
      ) : paged.loading && paged.rows.length === 0 ? (
        <Loading what="Loading cases" />
      ) : rows.length === 0 ? (
        <Empty>No cases match.</Empty>
      ) : (
        <VirtualTable
          label="Cases"
          rows={rows}
          columns={columns}
          rowKey={(r) => r.id}
          onOpen={openCase}
          onEndReached={paged.loadMore}
          sort={sort}
          onSort={setSort}
          rowClassName={(r) =>
            diffs.get(r.id)?.regressions.length
              ? "row-regression"
              : diffs.get(r.id)?.improvements.length
                ? "row-improvement"
                : undefined
          }
        />
      )}
    </section>
  );
}

function ScoreSummaryBar({
  summary,
  error,
  comparing,
}: {
  summary?: Comparison;
  error?: Error;
  comparing: boolean;
}) {
  if (error) return <div className="state error">Summary unavailable: {error.message}</div>;
  if (!summary) return null;
  const entries = Object.values(summary.scores);
  if (entries.length === 0) return null;
  return (
    <div className="summary" aria-label="Score summary">
      {entries.map((s) => (
        <div key={s.name} className="summary-card" data-testid={`summary-${s.name}`}>
          <div className="summary-name">{s.name}</div>
          <div className="summary-value">{pct(s.score)}</div>
          {comparing && s.diff !== undefined && (
            <div className={s.diff < 0 ? "regression" : s.diff > 0 ? "improvement" : ""}>
              {s.diff > 0 ? "+" : ""}
              {(s.diff * 100).toFixed(1)} pts ·{" "}
              <span className="improvement">{s.improvements} improvements</span> ·{" "}
              <span className="regression" data-testid={`regressions-${s.name}`}>
                {s.regressions} regressions
              </span>
            </div>
          )}
        </div>
      ))}
    </div>
  );
}
