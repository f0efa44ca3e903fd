// Projects with their experiment, dataset and log counts and last activity.
import { btql, lit, listObjects, type CatalogObject } from "../api";
import { Link } from "../components/Link";
import { Empty, ErrorBox, Loading } from "../components/States";
import { ago } from "../lib/format";
import { links } from "../lib/router";
import { useAsync } from "../lib/useAsync";

interface ProjectStats {
  project: CatalogObject;
  experiments: number;
  datasets: number;
  logs: number;
  last: string;
}

function newest(...xs: (string | undefined)[]): string {
  return xs.filter(Boolean).sort().pop() ?? "";
}

async function loadProjects(): Promise<ProjectStats[]> {
  const [projects, experiments, datasets] = await Promise.all([
    listObjects("project"),
    listObjects("experiment"),
    listObjects("dataset"),
  ]);
  return Promise.all(
    projects.map(async (p) => {
      const exps = experiments.filter((e) => e.project_id === p.id);
      const dss = datasets.filter((d) => d.project_id === p.id);
      const logs = await btql(
        `from: project_logs(${lit(p.id)}) | measures: count(1) as n, max(created) as last`,
      ).catch(() => ({ data: [] as any[] }));
      const row = logs.data[0] ?? {};
      return {
        project: p,
        experiments: exps.length,
        datasets: dss.length,
        logs: typeof row.n === "number" ? row.n : 0,
        last: newest(
          p.created,
          row.last,
          ...exps.map((e) => e.created),
          ...dss.map((d) => d.created),
        ),
      };
    }),
  );
}

export function Projects() {
  const { data, error, loading, reload } = useAsync(() => loadProjects(), []);
  if (loading) return <Loading what="Loading projects" />;
  if (error) return <ErrorBox error={error} retry={reload} />;
  if (!data || data.length === 0) {
    return (
      <Empty>
        No projects yet. Log from a Braintrust SDK with <code>BRAINTRUST_API_URL</code> pointing
        here and they will appear.
      </Empty>
    );
  }
  const sorted = [...data].sort((a, b) => b.last.localeCompare(a.last));
  return (
    <section>
      <h1>Projects</h1>
      <table className="grid-table" aria-label="Projects">
        <thead>
          <tr>
            <th>Project</th>
            <th>Experiments</th>
            <th>Datasets</th>
            <th>Log rows</th>
            <th>Last activity</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((s) => (
            <tr key={s.project.id} data-testid="project-row">
              <td>
                <Link to={links.project(s.project.id)}>{s.project.name}</Link>
              </td>
              <td>{s.experiments}</td>
              <td>{s.datasets}</td>
              <td>{s.logs}</td>
              <td title={s.last}>{ago(s.last)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
