// The experiments of a project: score averages per experiment and a chart of each score
// across experiments over time.
import { call, listObjects, type CatalogObject } from "../api";
import { LineChart } from "../components/Chart";
import { Link } from "../components/Link";
import { Empty, ErrorBox, Loading } from "../components/States";
import { ago, num, pct } from "../lib/format";
import { links } from "../lib/router";
import { useAsync } from "../lib/useAsync";

interface Summary {
  scores: Record<string, { score: number }>;
  metrics: Record<string, { metric: number; unit?: string }>;
}

export interface ExperimentRow {
  experiment: CatalogObject;
  summary: Summary | null;
}

async function load(projectId: string, signal: AbortSignal): Promise<ExperimentRow[]> {
  const exps = await listObjects("experiment", projectId);
  exps.sort((a, b) => String(a.created ?? "").localeCompare(String(b.created ?? "")));
  return Promise.all(
    exps.map(async (e) => ({
      experiment: e,
      summary: await call<Summary>(
        `/experiment-comparison2?experiment_id=${encodeURIComponent(e.id)}`,
        { signal },
      ).catch(() => null),
    })),
  );
}

export function scoreNames(rows: ExperimentRow[]): string[] {
  const names = new Set<string>();
  for (const r of rows) for (const n of Object.keys(r.summary?.scores ?? {})) names.add(n);
  return [...names].sort();
}

export function Experiments({ projectId }: { projectId: string }) {
  const { data, error, loading, reload } = useAsync((s) => load(projectId, s), [projectId]);
  if (loading) return <Loading what="Loading experiments" />;
  if (error) return <ErrorBox error={error} retry={reload} />;
  if (!data || data.length === 0) {
    return <Empty>No experiments in this project yet. Run an Eval to create one.</Empty>;
  }
  const names = scoreNames(data);
  const newestFirst = [...data].reverse();
  return (
    <section>
      <h1>Experiments</h1>
      {names.length > 0 && (
        <LineChart
          labels={data.map((r) => r.experiment.name)}
          series={names.map((n) => ({
            name: n,
            points: data.map((r) => r.summary?.scores[n]?.score ?? null),
          }))}
        />
      )}
      <table className="grid-table" aria-label="Experiments">
        <thead>
          <tr>
            <th>Experiment</th>
            <th>Created</th>
            {names.map((n) => (
              <th key={n}>{n}</th>
            ))}
            <th>Duration</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {newestFirst.map((r, i) => {
            // The base: the stored one, else the previous experiment (the server's rule too).
            const base = r.experiment.base_exp_id ?? newestFirst[i + 1]?.experiment.id;
            return (
            <tr key={r.experiment.id} data-testid="experiment-row">
              <td>
                <Link to={links.experiment(r.experiment.id)}>{r.experiment.name}</Link>
              </td>
              <td title={String(r.experiment.created ?? "")}>{ago(r.experiment.created)}</td>
              {names.map((n) => (
                <td key={n} className="num">
                  {pct(r.summary?.scores[n]?.score)}
                </td>
              ))}
              <td className="num">{num(r.summary?.metrics.duration?.metric)}s</td>
              <td>
                {base && (
                  <Link to={links.experiment(r.experiment.id, base)}>compare with base</Link>
                )}
              </td>
            </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
