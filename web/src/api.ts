// The one place the UI talks to Arbor: every call carries the signed-in org's API key as
// `Authorization: Bearer`, and every failure becomes an ApiError with the server's message.

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
  key: string;
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

export async function call<T>(
  path: string,
  init: { method?: string; body?: unknown; key?: string; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { Authorization: `Bearer ${init.key ?? currentKey}` };
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  let resp: Response;
  try {
    resp = await fetch(path, {
      method: init.method ?? (init.body !== undefined ? "POST" : "GET"),
      headers,
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
    headers: { Authorization: `Bearer ${currentKey}` },
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
