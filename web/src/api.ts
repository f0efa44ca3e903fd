// The one place the UI talks to Arbor. Signed in with an API key, every call carries it as
// `Authorization: Bearer`; signed in with email and password, the session cookie rides along
// (same-origin) and every write sends the session's CSRF token. Every failure becomes an
// ApiError with the server's message.

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Org {
  id: string;
  name: string;
  key: string; // "" for a signed-in user's org (the session cookie authenticates)
  role?: string;
}

// GET /api/auth/session and the answer of sign-in.
export interface SessionInfo {
  auth: "session" | "api_key";
  user: { id: string; email: string; name: string } | null;
  org: { id: string; name: string; role: string };
  orgs: { id: string; name: string; role: string }[];
  csrf_token: string | null;
}

export interface CatalogObject {
  id: string;
  name: string;
  project_id?: string;
  created?: string;
  description?: string | null;
  base_exp_id?: string | null;
  metadata?: Record<string, unknown> | null;
  [k: string]: unknown;
}

export type Row = Record<string, any>;

export interface BtqlResult {
  data: Row[];
  cursor: string | null;
}

let currentKey = "";
export function setApiKey(key: string) {
  currentKey = key;
}
let csrfToken = "";
export function setCsrfToken(token: string) {
  csrfToken = token;
}

// Bearer key when there is one; else the cookie, plus the CSRF token on unsafe methods.
export function authHeaders(method: string, key = currentKey): Record<string, string> {
  if (key) return { Authorization: `Bearer ${key}` };
  return method === "GET" || !csrfToken ? {} : { "X-CSRF-Token": csrfToken };
}

export async function call<T>(
  path: string,
  init: { method?: string; body?: unknown; key?: string; signal?: AbortSignal } = {},
): Promise<T> {
  const method = init.method ?? (init.body !== undefined ? "POST" : "GET");
  const headers = authHeaders(method, init.key ?? currentKey);
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  let resp: Response;
  try {
    resp = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: init.signal,
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError(0, "network", `Cannot reach the server: ${(e as Error).message}`);
  }
  const text = await resp.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: reported below */
  }
  if (!resp.ok) {
    const err = json?.error;
    throw new ApiError(
      resp.status,
      err?.code ?? "http_" + resp.status,
      err?.message ?? `HTTP ${resp.status}`,
    );
  }
  return json as T;
}

// Checks a key and returns its org.
export async function login(key: string): Promise<Org> {
  const out = await call<{ org_info: { id: string; name: string }[] }>("/api/apikey/login", {
    method: "POST",
    body: {},
    key,
  });
  const org = out.org_info?.[0];
  if (!org) throw new ApiError(401, "unauthenticated", "This key belongs to no organization");
  return { id: org.id, name: org.name, key };
}

// Email + password sign-in: the server sets the session cookie.
export function passwordLogin(email: string, password: string, org?: string) {
  return call<SessionInfo>("/api/auth/login", { body: { email, password, org }, key: "" });
}

// Who the cookie signs in as; null when there is no live session.
export async function fetchSession(): Promise<SessionInfo | null> {
  try {
    const info = await call<SessionInfo>("/api/auth/session", { key: "" });
    return info.auth === "session" ? info : null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export function sessionLogout(): Promise<unknown> {
  return call("/api/auth/logout", { method: "POST", key: "" });
}

export function sessionSwitchOrg(org: string): Promise<SessionInfo> {
  return call<SessionInfo>("/api/auth/switch_org", { body: { org }, key: "" });
}

export function btql(query: string | object, signal?: AbortSignal): Promise<BtqlResult> {
  return call<BtqlResult>("/btql", { body: { query, fmt: "json" }, signal });
}

// Quotes a string for BTQL text.
export function lit(s: string): string {
  return "'" + s.replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
}

export async function listObjects(
  kind: "project" | "experiment" | "dataset",
  projectId?: string,
): Promise<CatalogObject[]> {
  const q = projectId ? `?project_id=${encodeURIComponent(projectId)}` : "";
  const out = await call<{ objects: CatalogObject[] }>(`/v1/${kind}${q}`);
  return out.objects ?? [];
}

export function getObject(kind: string, id: string): Promise<CatalogObject> {
  return call<CatalogObject>(`/v1/${kind}/${encodeURIComponent(id)}`);
}

export type ObjectType = "experiment" | "dataset" | "project_logs";

export function feedback(type: ObjectType, id: string, items: object[]): Promise<unknown> {
  return call(`/v1/${type}/${encodeURIComponent(id)}/feedback`, { body: { feedback: items } });
}

export function insert(type: ObjectType, id: string, events: object[]): Promise<unknown> {
  return call(`/v1/${type}/${encodeURIComponent(id)}/insert`, { body: { events } });
}

export interface TailEvent {
  event: string;
  data: any;
}

// Server-sent events over fetch (EventSource cannot send an Authorization header).
export async function tail(
  projectId: string,
  since: string | null,
  filter: string,
  onEvent: (e: TailEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const params = new URLSearchParams();
  if (since) params.set("since", since);
  if (filter) params.set("filter", filter);
  const q = params.size ? `?${params}` : "";
  const resp = await fetch(`/v1/project_logs/${encodeURIComponent(projectId)}/tail${q}`, {
    headers: authHeaders("GET"),
    credentials: "same-origin",
    signal,
  });
  if (!resp.ok || !resp.body) {
    let message = `HTTP ${resp.status}`;
    try {
      message = (await resp.json()).error.message;
    } catch {
      /* keep the status */
    }
    throw new ApiError(resp.status, "tail", message);
  }
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
      const parsed = parseSse(buf.slice(0, i));
      buf = buf.slice(i + 2);
      if (parsed) onEvent(parsed);
    }
  }
}

export function parseSse(block: string): TailEvent | null {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
  }
  if (data.length === 0) return null;
  try {
    return { event, data: JSON.parse(data.join("\n")) };
  } catch {
    return null;
  }
}
