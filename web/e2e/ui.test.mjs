// The web UI in a real chromium against a real `arbor serve`, seeded through the real
// Braintrust JS SDK. Each page is screenshotted to tests/artifacts/ui/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { launchBrowser, shot, sleep, startArbor, uniq } from "./lib.mjs";

const arbor = await startArbor("ui");
const bt = await import("braintrust");
const PROJECT = uniq("ui-project");
const TOKEN = "zebra" + crypto.randomBytes(4).toString("hex");
// accuracy per case: the candidate regresses on cases 1 and 5 and improves on case 3.
const BASE = [1, 1, 1, 0, 0, 1];
const CANDIDATE = [1, 0, 1, 1, 0, 0];
const s = {};
let browser;
let page;

async function runExperiment(name, scores, extra = {}) {
  const exp = bt.init(PROJECT, { experiment: name, ...extra });
  for (let i = 0; i < scores.length; i++) {
    await exp.traced(
      async (span) => {
        const messages = [
          { role: "system", content: "Answer briefly." },
          { role: "user", content: `question ${i}` },
        ];
        const answer = `answer ${i}` + (name === "candidate" && i === 4 ? ` ${TOKEN}` : "");
        await span.traced(
          async (llm) => {
            await sleep(5);
            llm.log({
              input: messages,
              output: [
                {
                  index: 0,
                  message: {
                    role: "assistant",
                    content: answer,
                    tool_calls:
                      i === 0
                        ? [{ id: "call_1", type: "function", function: { name: "lookup", arguments: '{"q":"zero"}' } }]
                        : undefined,
                  },
                },
              ],
              metrics: { prompt_tokens: 12, completion_tokens: 4, tokens: 16 },
              metadata: { model: "test-model" },
            });
          },
          { name: "chat", type: "llm" },
        );
        span.log({
          input: { question: `question ${i}` },
          output: answer,
          expected: `answer ${i}`,
          scores: { accuracy: scores[i] },
        });
      },
      { name: "task" },
    );
  }
  await exp.flush();
  return await exp.id;
}

before(async () => {
  s.baseId = await runExperiment("base", BASE);
  s.candidateId = await runExperiment("candidate", CANDIDATE, { baseExperiment: "base" });
  // Eval() puts scores on scorer spans only; the UI must average them over the trace.
  const evalRun = await bt.Eval(PROJECT, {
    experimentName: "eval-run",
    data: [
      { input: "alpha", expected: "alpha" },
      { input: "beta", expected: "gamma" },
    ],
    task: async (input) => input,
    scores: [({ output, expected }) => ({ name: "exact", score: output === expected ? 1 : 0 })],
  });
  s.evalId = evalRun.summary.experimentId;
  s.logger = bt.initLogger({ projectName: PROJECT });
  for (let i = 0; i < 3; i++) {
    s.logger.traced((span) => span.log({ input: `log question ${i}`, output: `log answer ${i}` }), {
      name: "request",
    });
  }
  await s.logger.flush();
  const ds = bt.initDataset(PROJECT, { dataset: "golden" });
  ds.insert({ input: "golden question 1", expected: "golden answer 1" });
  ds.insert({ input: "golden question 2", expected: "golden answer 2" });
  await ds.flush();
  s.projectId = (await arbor.api(`/v1/project?project_name=${encodeURIComponent(PROJECT)}`)).objects[0].id;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await bt.flush().catch(() => {});
  await arbor.stop();
});

async function signIn(p) {
  await p.goto(arbor.url + "/app");
  await p.waitForURL(/\/app\/signin/);
  await p.fill("#apikey", arbor.apiKey);
  await p.click("button[type=submit]");
  await p.waitForSelector("h1:has-text('Projects')");
}

test("a bad key shows a clear error", async () => {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  await p.goto(arbor.url + "/app/p/whatever");
  await p.waitForURL(/\/app\/signin\?next=/);
  await p.fill("#apikey", "arb_" + "0".repeat(48));
  await p.click("button[type=submit]");
  const alert = p.getByRole("alert");
  await alert.waitFor();
  assert.match(await alert.innerText(), /API key was not accepted/);
  await shot(p, "signin-bad-key");
  await ctx.close();
});

test("sign in lands on the projects page with counts", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await ctx.newPage();
  await signIn(page);
  const row = page.locator("[data-testid=project-row]", { hasText: PROJECT });
  await row.waitFor();
  const cells = await row.locator("td").allInnerTexts();
  assert.equal(cells[1], "3", `experiments: ${cells}`);
  assert.equal(cells[2], "1", `datasets: ${cells}`);
  assert.equal(cells[3], "3", `log rows: ${cells}`);
  assert.notEqual(cells[4], "–");
  await shot(page, "projects");
});

test("project → experiment → trace", async () => {
  await page.click(`a:has-text("${PROJECT}")`);
  await page.waitForSelector("[data-testid=experiment-row]");
  assert.equal(await page.locator("[data-testid=experiment-row]").count(), 3);
  assert.equal(await page.locator(".chart polyline").count(), 2); // accuracy and exact
  await shot(page, "experiments");
  await page.click('a:has-text("candidate")');
  await page.waitForSelector("[role=grid][aria-label=Cases] [role=row][aria-rowindex]");
  assert.equal(await page.locator("[data-testid=case-count]").innerText(), "6 cases");
  assert.match(await page.locator("[data-testid=summary-accuracy]").innerText(), /50\.0%/);
  await shot(page, "experiment");
  // Keyboard: focus the table, move to the first case, open it.
  await page.locator("[data-testid=vtable-body]").focus();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/app\/trace\/experiment\//);
  await page.waitForSelector("[data-testid=span-row]");
  assert.equal(await page.locator("[data-testid=span-row]").count(), 2);
  await page.locator("[data-testid=span-row]", { hasText: "chat" }).click();
  const chat = page.locator("[data-testid=span-detail] [data-testid=chat]").first();
  await chat.waitFor();
  assert.match(await chat.innerText(), /system/i);
  assert.match(await chat.innerText(), /question \d/);
  assert.ok(await page.locator(".waterfall .bar").count() >= 2, "waterfall bars");
  await shot(page, "trace");
});

test("an Eval() experiment shows the scorer spans' scores per case, sortable", async () => {
  assert.ok(s.evalId, "Eval reported its experiment id");
  await page.goto(`${arbor.url}/app/experiments/${s.evalId}`);
  await page.waitForSelector("[role=grid][aria-label=Cases] [role=row][aria-rowindex]");
  const rows = page.locator("[aria-label=Cases] [role=row][aria-rowindex]");
  assert.equal(await rows.count(), 2);
  const header = page.locator("[role=columnheader]", { hasText: "exact" });
  await header.click(); // descending
  await page.waitForFunction(() =>
    document.querySelector("[aria-label=Cases] [role=row][aria-rowindex='1']")?.textContent?.includes("100.0%"),
  );
  assert.match(await rows.first().innerText(), /alpha/);
  await header.click(); // ascending
  await page.waitForFunction(() =>
    document.querySelector("[aria-label=Cases] [role=row][aria-rowindex='1']")?.textContent?.includes("0.0%"),
  );
  assert.match(await rows.first().innerText(), /beta/);
  assert.equal(await header.getAttribute("aria-sort"), "ascending");
  await shot(page, "experiment-eval-sorted");
});

test("comparison with the base shows the right regressions", async () => {
  await page.goto(`${arbor.url}/app/experiments/${s.candidateId}`);
  await page.waitForSelector("[role=grid][aria-label=Cases] [role=row][aria-rowindex]");
  await page.selectOption("select[aria-label='Compare with']", s.baseId);
  await page.waitForURL(new RegExp(`compare=${s.baseId}`));
  const reg = page.locator("[data-testid=regressions-accuracy]");
  await reg.waitFor();
  assert.equal(await reg.innerText(), "2 regressions");
  await page.waitForFunction(() => document.querySelectorAll(".row-regression").length === 2);
  const regressed = await page.locator(".row-regression").allInnerTexts();
  const questions = regressed.map((t) => t.match(/question (\d)/)[1]).sort();
  assert.deepEqual(questions, ["1", "5"]);
  assert.equal(await page.locator(".row-improvement").count(), 1);
  assert.match(await page.locator(".row-improvement").innerText(), /question 3/);
  await page.check("text=only regressions");
  assert.equal(await page.locator("[data-testid=case-count]").innerText(), "2 cases");
  await shot(page, "compare");
});

test("search finds a planted token", async () => {
  await page.goto(`${arbor.url}/app/experiments/${s.candidateId}`);
  await page.waitForSelector("[role=grid][aria-label=Cases] [role=row][aria-rowindex]");
  await page.fill("input[aria-label='Search cases']", TOKEN);
  await page.click("button:has-text('Apply')");
  await page.waitForFunction(
    () => document.querySelector("[data-testid=case-count]")?.textContent === "1 cases",
  );
  const rows = page.locator("[aria-label=Cases] [role=row][aria-rowindex]");
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().innerText(), new RegExp(TOKEN));
  await shot(page, "search");
});

test("the live tail shows a newly logged trace within 2 s", async () => {
  await page.goto(`${arbor.url}/app/p/${s.projectId}/logs`);
  await page.waitForSelector("[data-testid=live-status]:has-text('live')");
  assert.equal(await page.locator("[aria-label=Logs] [role=row][aria-rowindex]").count(), 3);
  const token = "tail" + crypto.randomBytes(4).toString("hex");
  s.logger.traced((span) => span.log({ input: `fresh ${token}`, output: "new" }), { name: "request" });
  await s.logger.flush();
  const t0 = Date.now();
  await page.waitForSelector(`[aria-label=Logs] [role=row]:has-text('${token}')`, { timeout: 2000 });
  const elapsed = Date.now() - t0;
  assert.ok(elapsed < 2000, `shown after ${elapsed} ms`);
  const first = await page.locator("[aria-label=Logs] [role=row][aria-rowindex='1']").innerText();
  assert.match(first, new RegExp(token), "newest first");
  await shot(page, "logs");
  // With a search applied the tail stays live and pushes only matching traces.
  const wanted = "wanted" + crypto.randomBytes(4).toString("hex");
  await page.fill("input[aria-label='Search logs']", wanted);
  await page.click("button:has-text('Apply')");
  await page.waitForSelector("text=No traces match.");
  await page.waitForSelector("[data-testid=live-status]:has-text('live')");
  s.logger.traced((span) => span.log({ input: "not this one", output: "x" }), { name: "request" });
  s.logger.traced((span) => span.log({ input: `the ${wanted} one`, output: "y" }), { name: "request" });
  await s.logger.flush();
  await page.waitForSelector(`[aria-label=Logs] [role=row]:has-text('${wanted}')`, { timeout: 2000 });
  await sleep(500);
  assert.equal(await page.locator("[aria-label=Logs] [role=row][aria-rowindex]").count(), 1);
});

test("a reviewed score and comment persist after reload", async () => {
  const cases = await arbor.api("/btql", {
    query: `from: experiment('${s.candidateId}') | filter: is_root and input.question = 'question 1'`,
  });
  const root = cases.data[0];
  await page.goto(`${arbor.url}/app/trace/experiment/${s.candidateId}/${root.root_span_id}`);
  await page.waitForSelector("[data-testid=score-accuracy]");
  assert.equal(await page.locator("[data-testid=score-accuracy]").innerText(), "0");
  await page.fill("input[aria-label='score accuracy']", "0.75");
  await page.fill("textarea[aria-label=Comment]", "checked by a human");
  await page.click("button:has-text('Save review')");
  await page.waitForSelector("[role=status]:has-text('Saved')");
  await page.waitForSelector("[data-testid=score-accuracy]:has-text('0.75')");
  await page.waitForSelector("[data-testid=comment]:has-text('checked by a human')");
  await page.reload();
  await page.waitForSelector("[data-testid=score-accuracy]:has-text('0.75')");
  await page.waitForSelector("[data-testid=comment]:has-text('checked by a human')");
  const back = await arbor.api("/btql", {
    query: `from: experiment('${s.candidateId}') | filter: id = '${root.id}'`,
  });
  assert.equal(back.data[0].scores.accuracy, 0.75);
  // The review is in the row's audit trail: source "app" (the UI's feedback), the score change
  // and the comment, each under the API key that wrote it.
  const trail = back.data[0].audit_data;
  assert.ok(Array.isArray(trail) && trail.length >= 1, JSON.stringify(back.data[0]));
  const mine = trail[trail.length - 1];
  assert.equal(mine.source, "app");
  assert.deepEqual(mine.audit_data.changes.find((ch) => ch.path.join(".") === "scores.accuracy").to, 0.75);
  assert.ok(mine.key_id, "the entry names the key that wrote it");
  await page.waitForSelector("[data-testid=audit-entry]:has-text('scores.accuracy')");
  const entries = page.locator("[data-testid=audit-entry]");
  assert.ok((await entries.count()) >= 2, "score change and comment");
  assert.equal(await entries.filter({ hasText: "scores.accuracy" }).locator("[data-testid=audit-source]").innerText(), "app");
  assert.equal(await entries.filter({ hasText: "checked by a human" }).locator("[data-testid=audit-source]").innerText(), "app");
  await shot(page, "trace-reviewed");
});

test("datasets: view, add, edit and delete records", async () => {
  await page.goto(`${arbor.url}/app/p/${s.projectId}/datasets`);
  await page.click("a:has-text('golden')");
  await page.waitForSelector("[data-testid=record-count]:has-text('2 records')");
  await page.click("button:has-text('Add record')");
  await page.fill("textarea[aria-label=Input]", "new question");
  await page.fill("textarea[aria-label=Expected]", '{"answer": 42}');
  await page.click("form[aria-label='New record'] button[type=submit]");
  await page.waitForSelector("[data-testid=record-count]:has-text('3 records')");
  await page.click("[aria-label=Records] [role=row]:has-text('new question')");
  await page.click("[data-testid=record-detail] button:has-text('Edit')");
  await page.fill("textarea[aria-label=Input]", "edited question");
  await page.click("form[aria-label='Edit record'] button[type=submit]");
  await page.waitForSelector("[aria-label=Records] [role=row]:has-text('edited question')");
  assert.equal(await page.locator("[data-testid=record-count]").innerText(), "3 records");
  await shot(page, "dataset");
  page.once("dialog", (d) => d.accept());
  await page.click("[aria-label=Records] [role=row]:has-text('edited question')");
  await page.click("[data-testid=record-detail] button:has-text('Delete')");
  await page.waitForSelector("[data-testid=record-count]:has-text('2 records')");
  await page.reload();
  await page.waitForSelector("[data-testid=record-count]:has-text('2 records')");
  assert.equal(await page.locator("[aria-label=Records] [role=row]:has-text('edited question')").count(), 0);
});

test("prompts: list and view versions", async () => {
  const probe = await fetch(`${arbor.url}/v1/prompt?project_id=${s.projectId}`, {
    headers: { Authorization: `Bearer ${arbor.apiKey}` },
  });
  if (probe.status === 404) {
    // GET /v1/prompt is not on this server: the page says so instead of failing.
    await page.goto(`${arbor.url}/app/p/${s.projectId}/prompts`);
    await page.waitForSelector("text=Prompts are not available on this server yet.");
    await shot(page, "prompts");
    return;
  }
  assert.equal(probe.status, 200);
  const prompt = (text) => ({
    project_id: s.projectId,
    name: "Greeter",
    slug: "greeter",
    description: "says hello",
    prompt_data: {
      prompt: { type: "chat", messages: [{ role: "system", content: text }, { role: "user", content: "{{name}}" }] },
      options: { model: "gpt-4o-mini" },
    },
  });
  const resp = async (method, body) => {
    const r = await fetch(`${arbor.url}/v1/prompt`, {
      method,
      headers: { Authorization: `Bearer ${arbor.apiKey}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(r.status, 200, await r.clone().text());
    return r.json();
  };
  const v1 = await resp("POST", prompt("Say hello, version one."));
  const v2 = await resp("PUT", prompt("Say hello, version two."));
  assert.notEqual(v1._xact_id, v2._xact_id);
  await page.goto(`${arbor.url}/app/p/${s.projectId}/prompts`);
  await page.click('button:has-text("Greeter")');
  const view = page.locator("[data-testid=prompt-view]");
  await view.locator("text=Say hello, version two.").waitFor();
  await page.fill("input[aria-label=Version]", v1._xact_id);
  await page.click("button:has-text('Load version')");
  await view.locator("text=Say hello, version one.").waitFor();
  assert.equal(await view.locator("text=Say hello, version two.").count(), 0);
  // The versions list, newest first: click through both, then diff the text.
  const rows = view.locator("[aria-label=Versions] tr");
  assert.equal(await rows.count(), 2);
  assert.match(await rows.nth(0).innerText(), /latest/);
  await rows.nth(0).locator("button.mono").click();
  await view.locator("text=Say hello, version two.").first().waitFor();
  assert.equal(await view.locator("text=Say hello, version one.").count(), 0);
  await rows.nth(1).locator("button:has-text('diff')").click();
  const diff = view.locator("[data-testid=prompt-diff]");
  await diff.locator(".diff-del:has-text('Say hello, version one.')").waitFor();
  await diff.locator(".diff-add:has-text('Say hello, version two.')").waitFor();
  assert.equal(await diff.locator(".diff-same:has-text('{{name}}')").count(), 1);
  await shot(page, "prompt-diff");
  await rows.nth(1).locator("button.mono").click();
  await view.locator("text=Say hello, version one.").first().waitFor();
  assert.equal(await rows.nth(1).getAttribute("class"), "active");
  await shot(page, "prompts");
});

test("dark theme", async () => {
  await page.goto(`${arbor.url}/app/experiments/${s.candidateId}`);
  await page.waitForSelector("[role=grid][aria-label=Cases] [role=row][aria-rowindex]");
  const before = await page.evaluate(() => document.documentElement.dataset.theme);
  await page.click("button[aria-label='Toggle theme']");
  const afterTheme = await page.evaluate(() => document.documentElement.dataset.theme);
  assert.notEqual(before, afterTheme);
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await shot(page, `experiment-${afterTheme}`);
  await page.reload();
  await page.waitForSelector("[role=grid][aria-label=Cases]");
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), afterTheme);
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), bg);
});
