import { afterEach, describe, expect, it } from "vitest";
import { authHeaders, setApiKey, setCsrfToken } from "../api";
import { passwordError } from "../pages/SignIn";
import { sessionOrg, setSession, userSession } from "./session";

afterEach(() => {
  setSession(null);
  setApiKey("");
  setCsrfToken("");
});

describe("request credentials", () => {
  it("sends the API key when there is one, and no CSRF token", () => {
    setApiKey("arb_k");
    setCsrfToken("c".repeat(64));
    expect(authHeaders("POST")).toEqual({ Authorization: "Bearer arb_k" });
  });
  it("relies on the cookie for a signed-in user and adds CSRF on writes only", () => {
    setSession({
      auth: "session",
      user: { id: "u", email: "a@x.io", name: "A" },
      org: { id: "o1", name: "one", role: "editor" },
      orgs: [{ id: "o1", name: "one", role: "editor" }],
      csrf_token: "t0ken",
    });
    expect(authHeaders("GET")).toEqual({});
    expect(authHeaders("POST")).toEqual({ "X-CSRF-Token": "t0ken" });
    expect(authHeaders("DELETE")).toEqual({ "X-CSRF-Token": "t0ken" });
    expect(sessionOrg(userSession()!)).toEqual({ id: "o1", name: "one", key: "", role: "editor" });
    setSession(null);
    expect(authHeaders("POST")).toEqual({});
  });
});

describe("sign-in errors", () => {
  it("says what went wrong in words", () => {
    expect(passwordError(401, "invalid email or password")).toBe("Wrong email or password.");
    expect(passwordError(401, "this account is disabled")).toBe("This account is disabled.");
    expect(passwordError(429, "too many")).toMatch(/Too many failed sign-ins/);
    expect(passwordError(0, "Cannot reach the server")).toBe(
      "Sign-in failed: Cannot reach the server",
    );
  });
});
