// Sign in with an API key; the key is checked against the server before it is kept.
import { useState, type FormEvent } from "react";
import { login, type Org } from "../api";
import { addOrg } from "../lib/session";

export function SignIn({ onSignedIn, theme }: { onSignedIn: (o: Org) => void; theme: string }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const org = await login(key.trim());
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
    <div className="signin" data-theme={theme}>
      <form onSubmit={submit} className="card">
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
    </div>
  );
}
