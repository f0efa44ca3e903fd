// A tiny history router: every client route lives under /app so it never collides with the
// API, and the server answers any GET under /app with index.html (deep links survive reload).
import { useEffect, useState } from "react";

export const APP = "/app";

export function navigate(to: string, replace = false) {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export function useLocation(): { path: string; search: URLSearchParams } {
  const read = () => ({ path: location.pathname, search: new URLSearchParams(location.search) });
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const on = () => setLoc(read());
    window.addEventListener("popstate", on);
    return () => window.removeEventListener("popstate", on);
  }, []);
  return loc;
}

export type Route =
  | { page: "signin" }
  | { page: "projects" }
  | { page: "experiments"; projectId: string }
  | { page: "experiment"; experimentId: string }
  | { page: "trace"; objectType: string; objectId: string; rootSpanId: string }
  | { page: "logs"; projectId: string }
  | { page: "datasets"; projectId: string }
  | { page: "dataset"; projectId: string; datasetId: string }
  | { page: "prompts"; projectId: string }
  | { page: "notfound" };

export function parseRoute(path: string): Route {
  if (path === "/" || path === APP || path === APP + "/") return { page: "projects" };
  if (!path.startsWith(APP + "/")) return { page: "notfound" };
  const parts = path
    .slice(APP.length + 1)
    .split("/")
    .filter(Boolean)
    .map(decodeURIComponent);
  const [a, b, c, d, e] = parts;
  if (a === "signin" && parts.length === 1) return { page: "signin" };
  if (a === "p" && b) {
    if (!c) return { page: "experiments", projectId: b };
    if (c === "logs" && !d) return { page: "logs", projectId: b };
    if (c === "datasets" && !d) return { page: "datasets", projectId: b };
    if (c === "datasets" && d && !e) return { page: "dataset", projectId: b, datasetId: d };
    if (c === "prompts" && !d) return { page: "prompts", projectId: b };
  }
  if (a === "experiments" && b && !c) return { page: "experiment", experimentId: b };
  if (a === "trace" && b && c && d && !e) {
    return { page: "trace", objectType: b, objectId: c, rootSpanId: d };
  }
  return { page: "notfound" };
}

export const links = {
  projects: () => APP,
  project: (id: string) => `${APP}/p/${encodeURIComponent(id)}`,
  logs: (id: string) => `${APP}/p/${encodeURIComponent(id)}/logs`,
  datasets: (id: string) => `${APP}/p/${encodeURIComponent(id)}/datasets`,
  dataset: (pid: string, id: string) =>
    `${APP}/p/${encodeURIComponent(pid)}/datasets/${encodeURIComponent(id)}`,
  prompts: (id: string) => `${APP}/p/${encodeURIComponent(id)}/prompts`,
  experiment: (id: string, compare?: string) =>
    `${APP}/experiments/${encodeURIComponent(id)}` +
    (compare ? `?compare=${encodeURIComponent(compare)}` : ""),
  trace: (type: string, id: string, root: string) =>
    `${APP}/trace/${type}/${encodeURIComponent(id)}/${encodeURIComponent(root)}`,
};
