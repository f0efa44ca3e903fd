// The shell: header (org and project switchers, theme), and the page for the current route.
import { lazy, Suspense, useEffect, useState } from "react";
import { ProjectContext } from "./lib/project";
import {
  fetchSession,
  listObjects,
  sessionLogout,
  sessionSwitchOrg,
  type CatalogObject,
  type Org,
} from "./api";
import { links, navigate, parseRoute, useLocation } from "./lib/router";
import {
  currentOrg,
  loadOrgs,
  sessionOrg,
  setSession,
  signOut,
  switchOrg,
  userSession,
} from "./lib/session";
import { Empty, Loading } from "./components/States";
import { SignIn } from "./pages/SignIn";
import { Projects } from "./pages/Projects";
import { Experiments } from "./pages/Experiments";
import { Link } from "./components/Link";

const Experiment = lazy(() => import("./pages/Experiment"));
const Trace = lazy(() => import("./pages/Trace"));
const Logs = lazy(() => import("./pages/Logs"));
const Datasets = lazy(() => import("./pages/Datasets"));
const Prompts = lazy(() => import("./pages/Prompts"));

function useTheme(): [string, () => void] {
  const [theme, setTheme] = useState(
    () =>
      localStorage.getItem("arbor.theme") ??
      (window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light"),
  );
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem("arbor.theme", theme);
  }, [theme]);
  return [theme, () => setTheme(theme === "dark" ? "light" : "dark")];
}

export function App() {
  const { path, search } = useLocation();
  const [org, setOrg] = useState<Org | null>(() => currentOrg());
  const [theme, toggleTheme] = useTheme();
  const route = parseRoute(path);
  // Pages below a project (experiment, trace) tell the shell which project they belong to.
  const [pageProject, setPageProject] = useState<string | undefined>();
  useEffect(() => setPageProject(undefined), [path]);
  // A signed-in user's cookie session, if any, is asked for once before anything else loads.
  const [checked, setChecked] = useState(false);
  useEffect(() => {
    fetchSession()
      .then((info) => {
        if (!info) return;
        setSession(info);
        setOrg(sessionOrg(info));
      })
      .catch(() => {})
      .finally(() => setChecked(true));
  }, []);

  useEffect(() => {
    if (checked && !org && route.page !== "signin") {
      navigate(`/app/signin?next=${encodeURIComponent(path + location.search)}`, true);
    }
  }, [checked, org, route.page, path]);

  // "/" focuses the page's search box, as in most data tools.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.key !== "/" || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) return;
      const box = document.querySelector<HTMLInputElement>("main input[type=search]");
      if (box) {
        e.preventDefault();
        box.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  if (!checked) return <Loading />;
  if (route.page === "signin" || !org) {
    return (
      <SignIn
        theme={theme}
        onSignedIn={(o) => {
          setOrg(o);
          const next = search.get("next");
          navigate(next && next.startsWith("/app") && !next.startsWith("/app/signin") ? next : links.projects(), true);
        }}
      />
    );
  }

  const projectId = "projectId" in route ? route.projectId : pageProject;
  return (
    <div className="shell" key={org.id}>
      <header className="topbar">
        <Link to={links.projects()} className="brand">
          <Logo /> Arbor
        </Link>
        <OrgSwitcher
          org={org}
          onSwitch={async (id) => {
            if (userSession()) {
              const info = await sessionSwitchOrg(id);
              setSession(info);
              setOrg(sessionOrg(info));
            } else {
              switchOrg(id);
              setOrg(currentOrg());
            }
            navigate(links.projects());
          }}
        />
        <ProjectSwitcher projectId={projectId} />
        {projectId && (
          <nav className="tabs" aria-label="Project">
            <Link to={links.project(projectId)} active={route.page === "experiments"}>
              Experiments
            </Link>
            <Link to={links.logs(projectId)} active={route.page === "logs"}>
              Logs
            </Link>
            <Link
              to={links.datasets(projectId)}
              active={route.page === "datasets" || route.page === "dataset"}
            >
              Datasets
            </Link>
            <Link to={links.prompts(projectId)} active={route.page === "prompts"}>
              Prompts
            </Link>
          </nav>
        )}
        <span className="spacer" />
        <button type="button" onClick={toggleTheme} aria-label="Toggle theme" title="Toggle theme">
          {theme === "dark" ? "Light" : "Dark"}
        </button>
        {userSession() ? (
          <span className="user" data-testid="signed-in-user">
            {userSession()?.user?.email}
          </span>
        ) : (
          <button type="button" onClick={() => navigate("/app/signin")}>
            Add org
          </button>
        )}
        <button
          type="button"
          onClick={async () => {
            if (userSession()) {
              await sessionLogout().catch(() => {});
              setSession(null);
            } else {
              signOut(org.id);
            }
            setOrg(currentOrg());
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        <ProjectContext.Provider value={setPageProject}>
          <Suspense fallback={<Loading />}>
            <Page route={route} search={search} />
          </Suspense>
        </ProjectContext.Provider>
      </main>
    </div>
  );
}

function Page({ route, search }: { route: ReturnType<typeof parseRoute>; search: URLSearchParams }) {
  switch (route.page) {
    case "projects":
      return <Projects />;
    case "experiments":
      return <Experiments projectId={route.projectId} />;
    case "experiment":
      return <Experiment experimentId={route.experimentId} compare={search.get("compare")} />;
    case "trace":
      return (
        <Trace objectType={route.objectType} objectId={route.objectId} rootSpanId={route.rootSpanId} />
      );
    case "logs":
      return <Logs projectId={route.projectId} />;
    case "datasets":
      return <Datasets projectId={route.projectId} />;
    case "dataset":
      return <Datasets projectId={route.projectId} datasetId={route.datasetId} />;
    case "prompts":
      return <Prompts projectId={route.projectId} />;
    default:
      return <Empty>Page not found. <Link to={links.projects()}>Go to projects</Link></Empty>;
  }
}

function Logo() {
  return (
    <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
      <circle cx="8" cy="6" r="5" fill="#2f855a" />
      <rect x="7" y="9" width="2" height="7" fill="#8a5a2b" />
    </svg>
  );
}

function OrgSwitcher({ org, onSwitch }: { org: Org; onSwitch: (id: string) => void }) {
  const session = userSession();
  const orgs = session ? session.orgs : loadOrgs();
  return (
    <label className="switcher">
      <span className="sr-only">Organization</span>
      <select
        aria-label="Organization"
        value={org.id}
        onChange={(e) => onSwitch(e.target.value)}
      >
        {orgs.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function ProjectSwitcher({ projectId }: { projectId?: string }) {
  const [projects, setProjects] = useState<CatalogObject[]>([]);
  useEffect(() => {
    listObjects("project").then(setProjects, () => setProjects([]));
  }, []);
  return (
    <label className="switcher">
      <span className="sr-only">Project</span>
      <select
        aria-label="Project"
        value={projectId ?? ""}
        onChange={(e) => e.target.value && navigate(links.project(e.target.value))}
      >
        <option value="">All projects</option>
        {projects.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </select>
    </label>
  );
}
