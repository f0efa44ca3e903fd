// loadPrompt(): by slug (projectName or projectId), by version, by environment and by id;
// build() renders the stored template; unknown slugs, ids and versions fail.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { startArbor, uniq } from "../lib/arbor.mjs";

const arbor = await startArbor("prompts");
const bt = await import("braintrust");
after(async () => {
  await bt.flush().catch(() => {});
  await arbor.stop();
});

const promptData = (greeting) => ({
  prompt: {
    type: "chat",
    messages: [
      { role: "system", content: "You are a {{persona}} assistant." },
      { role: "user", content: `${greeting}, {{name}}!` },
    ],
  },
  options: { model: "gpt-4o-mini", params: { temperature: 0.25 } },
});

const s = {};
const userMessage = (built) => built.messages.find((m) => m.role === "user").content;

before(async () => {
  s.project = uniq("js-prompts");
  s.pid = (await arbor.postJson("/v1/project", { name: s.project })).id;
  s.slug = uniq("greeter");
  s.v1 = await arbor.postJson("/v1/prompt", {
    project_id: s.pid,
    name: "Greeter",
    slug: s.slug,
    description: "says hello",
    tags: ["greeting"],
    prompt_data: promptData("Hello"),
    environment_slugs: ["production"],
  });
  const resp = await fetch(arbor.url + "/v1/prompt", {
    method: "PUT",
    headers: arbor.headers({ "Content-Type": "application/json" }),
    body: JSON.stringify({
      project_id: s.pid,
      name: "Greeter",
      slug: s.slug,
      description: "says hi",
      prompt_data: promptData("Hi there"),
    }),
  });
  assert.equal(resp.status, 200, await resp.clone().text());
  s.v2 = await resp.json();
});

test("versions are increasing _xact_ids of one prompt", () => {
  assert.equal(s.v1.id, s.v2.id);
  assert.match(s.v1._xact_id, /^\d{19}$/);
  assert.ok(s.v2._xact_id > s.v1._xact_id);
});

test("loadPrompt by slug builds the latest version", async () => {
  const p = await bt.loadPrompt({ projectName: s.project, slug: s.slug });
  const built = p.build({ name: "Ada", persona: "terse" });
  assert.equal(built.model, "gpt-4o-mini");
  assert.equal(built.temperature, 0.25);
  assert.deepEqual(built.messages[0], { role: "system", content: "You are a terse assistant." });
  assert.equal(userMessage(built), "Hi there, Ada!");
  assert.equal(p.version, s.v2._xact_id);
  assert.equal(p.id, s.v1.id);
});

test("loadPrompt by projectId", async () => {
  const p = await bt.loadPrompt({ projectId: s.pid, slug: s.slug });
  assert.equal(userMessage(p.build({ name: "Bo", persona: "kind" })), "Hi there, Bo!");
});

test("loadPrompt by version", async () => {
  const p = await bt.loadPrompt({ projectName: s.project, slug: s.slug, version: s.v1._xact_id });
  assert.equal(p.version, s.v1._xact_id);
  assert.equal(userMessage(p.build({ name: "Cy", persona: "calm" })), "Hello, Cy!");
});

test("loadPrompt by environment", async () => {
  const p = await bt.loadPrompt({ projectName: s.project, slug: s.slug, environment: "production" });
  assert.equal(p.version, s.v1._xact_id);
  assert.equal(userMessage(p.build({ name: "Di", persona: "calm" })), "Hello, Di!");
});

test("loadPrompt by id, latest and at a version", async () => {
  const p = await bt.loadPrompt({ id: s.v1.id });
  assert.equal(p.slug, s.slug);
  assert.equal(p.version, s.v2._xact_id);
  assert.equal(userMessage(p.build({ name: "Ed", persona: "calm" })), "Hi there, Ed!");
  const old = await bt.loadPrompt({ id: s.v1.id, version: s.v1._xact_id });
  assert.equal(userMessage(old.build({ name: "Ed", persona: "calm" })), "Hello, Ed!");
});

test("loadPrompt of an unknown slug, id or version fails", async () => {
  await assert.rejects(bt.loadPrompt({ projectName: s.project, slug: "no-such-slug" }), /not found/i);
  await assert.rejects(bt.loadPrompt({ id: "00000000-0000-4000-8000-000000000000" }));
  await assert.rejects(
    bt.loadPrompt({ projectName: s.project, slug: s.slug, version: "1000000000000000000" }),
    /not found/i,
  );
});

// getPromptVersions sends BTQL `from: project_prompts(<project>)` with `audit_log: true` and
// keeps the rows whose audit_data.action is upsert/merge, as pretty (16-hex) versions.
test("getPromptVersions lists every version of the prompt", async () => {
  const pretty = (xact) => ((BigInt(xact) * 205891132094649n) % (1n << 64n)).toString(16).padStart(16, "0");
  const versions = await bt.getPromptVersions(s.pid, s.v1.id);
  assert.deepEqual([...versions].sort(), [pretty(s.v1._xact_id), pretty(s.v2._xact_id)].sort());
  // Each pretty version loads the prompt as it was.
  const old = await bt.loadPrompt({ id: s.v1.id, version: pretty(s.v1._xact_id) });
  assert.equal(userMessage(old.build({ name: "Fa", persona: "calm" })), "Hello, Fa!");
  assert.deepEqual(await bt.getPromptVersions(s.pid, "00000000-0000-4000-8000-000000000000"), []);
});
