// Email + password sign-in in a real chromium against a real `arbor serve`: users are made
// with `arbor user create` and through POST /v1/user; a wrong password shows a clear error;
// the session cookie keeps the user signed in across reloads; reads and CSRF-protected writes
// work; the org switcher lists the user's orgs; sign-out ends the session.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { launchBrowser, shot, startArbor, uniq } from "./lib.mjs";

const arbor = await startArbor("users");
const PASSWORD = "correct horse battery staple";
const EMAIL = `${uniq("ann")}@example.com`;
const PROJECT = uniq("users-project");
const OTHER_ORG = uniq("second-org");
const OTHER_PROJECT = uniq("second-project");
let browser;

function cli(...args) {
  return execFileSync(arbor.bin, [...args, "--data-dir", arbor.dataDir], { encoding: "utf8" });
}

before(async () => {
  // The owner key makes a user of the bootstrap org through the API...
  await arbor.api("/v1/user", { email: EMAIL, name: "Ann Lee", password: PASSWORD, role: "editor" });
  const project = await arbor.api("/v1/project", { name: PROJECT });
  await arbor.api(`/v1/project_logs/${project.id}/insert`, {
    events: [{ input: "a", output: "b" }, { input: "c", output: "d" }],
  });
  // ...and the CLI adds the same user to a second org, with a project of its own.
  const otherKey = cli("orgs", "create", "--name", OTHER_ORG).trim();
  const out = cli("user", "create", "--email", EMAIL, "--org", OTHER_ORG, "--role", "viewer");
  assert.match(out, new RegExp(OTHER_ORG));
  const resp = await fetch(arbor.url + "/v1/project", {
    method: "POST",
    headers: { Authorization: `Bearer ${otherKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: OTHER_PROJECT }),
  });
  assert.equal(resp.status, 200);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await arbor.stop();
});

async function fillPassword(p, email, password) {
  await p.goto(arbor.url + "/app");
  await p.waitForURL(/\/app\/signin/);
  await p.fill("#email", email);
  await p.fill("#password", password);
  await p.click("[data-testid=password-submit]");
}

test("a wrong password shows a clear error and sets no cookie", async () => {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  await fillPassword(p, EMAIL, "not the password");
  const alert = p.getByTestId("password-error");
  await alert.waitFor();
  assert.equal(await alert.innerText(), "Wrong email or password.");
  assert.equal((await ctx.cookies()).length, 0);
  await shot(p, "signin-wrong-password");
  await ctx.close();
});

test("sign in with email and password, reload, switch org, sign out", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const p = await ctx.newPage();
  await fillPassword(p, EMAIL, PASSWORD);
  await p.waitForSelector("h1:has-text('Projects')");
  const row = p.locator("[data-testid=project-row]", { hasText: PROJECT });
  await row.waitFor();
  // The log count comes from POST /btql: a write-method request, so it carried the CSRF token.
  assert.equal((await row.locator("td").allInnerTexts())[3], "2");
  assert.equal(await p.getByTestId("signed-in-user").innerText(), EMAIL);

  // The cookie is HttpOnly and SameSite=Lax; the page's script cannot read it.
  const [cookie] = (await ctx.cookies()).filter((c) => c.name === "arbor_session");
  assert.ok(cookie, "session cookie set");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Lax");
  assert.equal(await p.evaluate(() => document.cookie.includes("arbor_session")), false);
  // No key was stored: the session is the cookie alone.
  assert.equal(await p.evaluate(() => localStorage.getItem("arbor.orgs")), null);
  // A write without the CSRF token is refused, even from the page itself.
  const refused = await p.evaluate(async () => {
    const r = await fetch("/v1/project", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "no-csrf" }),
    });
    return r.status;
  });
  assert.equal(refused, 403);
  await shot(p, "signed-in-user-projects");

  // Reload: still signed in.
  await p.reload();
  await p.locator("[data-testid=project-row]", { hasText: PROJECT }).waitFor();
  assert.match(p.url(), /\/app\/projects|\/app\/?$/);

  // The org switcher lists both orgs and moves the session to the other one.
  const select = p.getByLabel("Organization");
  const options = await select.locator("option").allInnerTexts();
  assert.deepEqual(options.sort(), ["ui-org", OTHER_ORG].sort());
  await select.selectOption({ label: OTHER_ORG });
  await p.locator("[data-testid=project-row]", { hasText: OTHER_PROJECT }).waitFor();
  assert.equal(await p.locator("[data-testid=project-row]", { hasText: PROJECT }).count(), 0);
  await p.reload();
  await p.locator("[data-testid=project-row]", { hasText: OTHER_PROJECT }).waitFor();
  await shot(p, "signed-in-user-second-org");

  // Sign out: back to the sign-in page, and the old cookie is dead on the server too.
  const old = (await ctx.cookies()).find((c) => c.name === "arbor_session").value;
  await p.click("button:has-text('Sign out')");
  await p.waitForSelector("#email");
  await p.reload();
  await p.waitForSelector("#email");
  const r = await fetch(arbor.url + "/api/auth/session", {
    headers: { Cookie: `arbor_session=${old}` },
  });
  assert.equal(r.status, 401);
  await ctx.close();
});

test("the API-key sign-in still works beside the password form", async () => {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  await p.goto(arbor.url + "/app");
  await p.waitForURL(/\/app\/signin/);
  await p.fill("#apikey", arbor.apiKey);
  await p.click("form[aria-label='Sign in with an API key'] button[type=submit]");
  await p.locator("[data-testid=project-row]", { hasText: PROJECT }).waitFor();
  assert.equal((await ctx.cookies()).length, 0);
  await ctx.close();
});
