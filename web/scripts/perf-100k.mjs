// Time to render a 100k-case experiment page in chromium, and the gzipped bundle size.
// Usage: ARBOR_BIN=build/arbor node scripts/perf-100k.mjs [cases] [--first-only]
// Writes tests/artifacts/ui/perf.json and a screenshot.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ARTIFACTS, launchBrowser, startArbor } from "../e2e/lib.mjs";
import { firstLoadBytes } from "./bundle-size.mjs";

const N = Number(process.argv[2] ?? 100_000);
const FIRST_ONLY = process.argv.includes("--first-only");
const TIMEOUT = 900_000;
const arbor = await startArbor("perf");
try {
  const reg = await arbor.api("/api/experiment/register", {
    project_name: "perf",
    experiment_name: `cases-${N}`,
  });
  const expId = reg.experiment.id;
  const t0 = Date.now();
  const BATCH = 10_000;
  for (let start = 0; start < N; start += BATCH) {
    const rows = [];
    for (let i = start; i < Math.min(N, start + BATCH); i++) {
      const id = crypto.randomUUID();
      rows.push({
        id,
        span_id: id,
        root_span_id: id,
        experiment_id: expId,
        input: { question: `question ${i}`, context: "lorem ipsum ".repeat(8) },
        output: `answer ${i}`,
        expected: `answer ${i % 3 === 0 ? i : i + 1}`,
        scores: { accuracy: i % 3 === 0 ? 1 : 0, fluency: (i % 10) / 10 },
        metrics: { start: 1_700_000_000 + i, end: 1_700_000_000 + i + (i % 7) / 10 },
        span_attributes: { name: "task", type: "task" },
      });
    }
    await arbor.api("/logs3", { rows });
  }
  const ingestMs = Date.now() - t0;

  const browser = await launchBrowser();
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await ctx.newPage();
  const login = await arbor.api("/api/apikey/login", {});
  const org = { id: login.org_info[0].id, name: login.org_info[0].name, key: arbor.apiKey };
  await page.goto(arbor.url + "/app/signin");
  await page.evaluate((o) => {
    localStorage.setItem("arbor.orgs", JSON.stringify([o]));
    localStorage.setItem("arbor.org", o.id);
  }, org);
  const nav0 = Date.now();
  await page.goto(`${arbor.url}/app/experiments/${expId}`);
  await page.waitForSelector("[aria-label=Cases] [role=row][aria-rowindex]", { timeout: TIMEOUT });
  const firstRowsMs = Date.now() - nav0;
  console.log(`first rows rendered after ${firstRowsMs} ms`);
  if (FIRST_ONLY) {
    await page.screenshot({ path: path.join(ARTIFACTS, `perf-${N}.png`) });
    await browser.close();
    const out = { cases: N, ingest_ms: ingestMs, first_rows_rendered_ms: firstRowsMs, bundle: firstLoadBytes() };
    fs.writeFileSync(path.join(ARTIFACTS, `perf-${N}.json`), JSON.stringify(out, null, 2));
    console.log(JSON.stringify(out, null, 2));
  } else {
    await scrollAndSort(page, browser, N, ingestMs, firstRowsMs);
  }
} finally {
  await arbor.stop();
}

async function scrollAndSort(page, browser, N, ingestMs, firstRowsMs) {
  // Scroll through several pages (each end of the list fetches the next /btql page).
  const scroll0 = Date.now();
  for (let i = 0; i < 5; i++) {
    const before = await page.locator("[data-testid=case-count]").innerText();
    await page.locator("[data-testid=vtable-body]").evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForFunction(
      (b) => document.querySelector("[data-testid=case-count]")?.textContent !== b,
      before,
      { timeout: TIMEOUT },
    );
  }
  const fivePagesMs = Date.now() - scroll0;
  const loaded = await page.locator("[data-testid=case-count]").innerText();
  const domRows = await page.locator("[aria-label=Cases] [role=row][aria-rowindex]").count();
  // A sort re-queries the server (sorted over all cases).
  const sort0 = Date.now();
  await page.click("[role=columnheader]:has-text('fluency')");
  await page.waitForFunction(
    () => document.querySelector("[aria-label=Cases] [role=row][aria-rowindex='1']")?.textContent?.includes("90.0%"),
    null,
    { timeout: TIMEOUT },
  );
  const sortMs = Date.now() - sort0;
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `perf-${N}.png`) });
  await browser.close();
  const out = {
    cases: N,
    ingest_ms: ingestMs,
    first_rows_rendered_ms: firstRowsMs,
    five_more_pages_ms: fivePagesMs,
    cases_loaded_after_scrolling: loaded,
    rows_in_dom: domRows,
    server_sorted_rerender_ms: sortMs,
    bundle: firstLoadBytes(),
  };
  fs.writeFileSync(path.join(ARTIFACTS, `perf-${N}.json`), JSON.stringify(out, null, 2));
  console.log(JSON.stringify(out, null, 2));
}
