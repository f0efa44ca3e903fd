// Sign in with an API key (checked against the server before it is kept), or as a local user
// with email and password (the server answers with a session cookie).
import { useEffect, useState, type FormEvent } from "react";
import { login, passwordLogin, type Org } from "../api";
import { addOrg, sessionOrg, setSession } from "../lib/session";

export function SignIn({ onSignedIn, theme }: { onSignedIn: (o: Org) => void; theme: string }) {
  return (
    <div className="signin" data-theme={theme}>
      <div className="signin-forms">
        <KeyForm onSignedIn={onSignedIn} />
        <PasswordForm onSignedIn={onSignedIn} />
      </div>
      <SsoLink />
    </div>
  );
}

function KeyForm({ onSignedIn }: { onSignedIn: (o: Org) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const org = await login(key.trim());
      setSession(null);
      addOrg(org);
      onSignedIn(org);
    } catch (err) {
      const e = err as Error & { status?: number };
      setError(
        e.status === 401
          ? "That API key was not accepted. Check it and try again."
          : `Sign-in failed: ${e.message}`,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="card" aria-label="Sign in with an API key">
      <h1>Arbor</h1>
      <p>Sign in with an API key.</p>
      <label htmlFor="apikey">API key</label>
      <input
        id="apikey"
        name="apikey"
        type="password"
        autoFocus
        autoComplete="off"
        placeholder="arb_…"
        value={key}
        onChange={(e) => setKey(e.target.value)}
      />
      {error && (
        <div className="state error" role="alert">
          {error}
        </div>
      )}
      <button type="submit" className="primary" disabled={busy || !key.trim()}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}

// Messages for what the server refuses; anything else shows the server's own message.
export function passwordError(status: number | undefined, message: string): string {
  if (status === 401 && /disabled/.test(message)) return "This account is disabled.";
  if (status === 401) return "Wrong email or password.";
  if (status === 429) return "Too many failed sign-ins for this email. Try again later.";
  return `Sign-in failed: ${message}`;
}

function PasswordForm({ onSignedIn }: { onSignedIn: (o: Org) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const info = await passwordLogin(email.trim(), password);
      setSession(info);
      onSignedIn(sessionOrg(info));
    } catch (err) {
      const e = err as Error & { status?: number };
      setError(passwordError(e.status, e.message));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="card" aria-label="Sign in with email and password">
      <h2>Your account</h2>
      <p>Sign in with email and password.</p>
      <label htmlFor="email">Email</label>
      <input
        id="email"
        name="email"
        type="email"
        autoComplete="username"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
      />
      <label htmlFor="password">Password</label>
      <input
        id="password"
        name="password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      {error && (
        <div className="state error" role="alert" data-testid="password-error">
          {error}
        </div>
      )}
      <button
        type="submit"
        className="primary"
        disabled={busy || !email.trim() || !password}
        data-testid="password-submit"
      >
        {busy ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}

// Shown when the server has OIDC configured: a plain navigation to the provider and back; the
// callback leaves a session cookie that the app picks up on load.
function SsoLink() {
  const [enabled, setEnabled] = useState(false);
  useEffect(() => {
    fetch("/api/auth/oidc/config")
      .then((r) => (r.ok ? r.json() : { enabled: false }))
      .then((c: { enabled?: boolean }) => setEnabled(Boolean(c.enabled)))
      .catch(() => setEnabled(false));
  }, []);
  if (!enabled) return null;
  const back = encodeURIComponent(window.location.pathname);
  return (
    <a className="button primary sso" href={`/api/auth/oidc/login?return_to=${back}`} data-testid="sso">
      Sign in with SSO
    </a>
  );
}
