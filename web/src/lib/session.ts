// Signed-in orgs (one API key each) kept in localStorage; the org switcher picks among them.
import { setApiKey, setCsrfToken, type Org, type SessionInfo } from "../api";

const ORGS = "arbor.orgs";
const CURRENT = "arbor.org";

export function loadOrgs(): Org[] {
  try {
    const v = JSON.parse(localStorage.getItem(ORGS) ?? "[]");
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

export function currentOrg(): Org | null {
  const orgs = loadOrgs();
  const id = localStorage.getItem(CURRENT);
  const org = orgs.find((o) => o.id === id) ?? orgs[0] ?? null;
  setApiKey(org?.key ?? "");
  return org;
}

export function addOrg(org: Org) {
  const orgs = loadOrgs().filter((o) => o.id !== org.id);
  orgs.push(org);
  localStorage.setItem(ORGS, JSON.stringify(orgs));
  localStorage.setItem(CURRENT, org.id);
  setApiKey(org.key);
}

export function switchOrg(id: string) {
  localStorage.setItem(CURRENT, id);
  currentOrg();
}

export function signOut(id: string) {
  localStorage.setItem(ORGS, JSON.stringify(loadOrgs().filter((o) => o.id !== id)));
  localStorage.removeItem(CURRENT);
  currentOrg();
}

// A signed-in user (email and password): the cookie authenticates, so nothing secret is kept
// here; the orgs come from the server's session. Takes precedence over stored API keys.
let session: SessionInfo | null = null;

export function setSession(info: SessionInfo | null) {
  session = info;
  setCsrfToken(info?.csrf_token ?? "");
  if (info) setApiKey("");
  else currentOrg();
}

export function userSession(): SessionInfo | null {
  return session;
}

export function sessionOrg(info: SessionInfo): Org {
  return { id: info.org.id, name: info.org.name, key: "", role: info.org.role };
}
