// One SDK session for tls.test.mjs, run in its own node process: writes a dataset row and a
// log line to the project named by argv[2], reads both back and prints them as one JSON line.
// Exits non-zero on any error (an untrusted certificate included).
import * as bt from "braintrust";

const project = process.argv[2];
const ds = bt.initDataset(project, { dataset: "tls-d" });
ds.insert({ id: "tls-1", input: "over tls", expected: "ok" });
await ds.flush();
const dataset = [];
for await (const r of bt.initDataset(project, { dataset: "tls-d" })) {
  dataset.push({ id: r.id, input: r.input, expected: r.expected });
}
const logger = bt.initLogger({ projectName: project, asyncFlush: false });
logger.log({ input: "logged over tls", output: "ok" });
await logger.flush();
const id = (await logger.project).id;
const resp = await fetch(`${process.env.BRAINTRUST_APP_URL}/btql`, {
  method: "POST",
  headers: { Authorization: `Bearer ${process.env.BRAINTRUST_API_KEY}`, "Content-Type": "application/json" },
  body: JSON.stringify({ query: `select: input | from: project_logs('${id}')` }),
});
if (!resp.ok) throw new Error(`btql ${resp.status}: ${await resp.text()}`);
const logs = (await resp.json()).data.map((r) => r.input);
console.log(JSON.stringify({ dataset, logs }));
