// The real SDK over HTTPS: arbor serves a certificate made here by the openssl CLI; an SDK
// process that trusts it (NODE_EXTRA_CA_CERTS) logs and reads back datasets and logs, and one
// that does not is refused by the TLS handshake and writes nothing.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startArbor, httpsStatus, uniq } from "../lib/arbor.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "arbor-js-tls-"));
const cert = path.join(dir, "cert.pem");
const key = path.join(dir, "key.pem");
execFileSync("openssl", [
  "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
  "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
], { stdio: "ignore" });

const arbor = await startArbor("tls", { tls: { cert, key } });
after(async () => {
  await arbor.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

// Runs lib/tls_client.mjs (the SDK in its own process, so its trust store is set at start).
function client(project, { trust }) {
  const env = { ...process.env, BRAINTRUST_APP_URL: arbor.url, BRAINTRUST_API_KEY: arbor.apiKey };
  delete env.NODE_EXTRA_CA_CERTS;
  if (trust) env.NODE_EXTRA_CA_CERTS = cert;
  const out = spawnSync(process.execPath, [path.join(HERE, "..", "lib", "tls_client.mjs"), project], {
    env, encoding: "utf8", timeout: 120000,
  });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

test("the server answers only over TLS with its certificate", async () => {
  const ca = fs.readFileSync(cert);
  assert.equal(await httpsStatus(`${arbor.url}/v1/project`, ca, { Authorization: `Bearer ${arbor.apiKey}` }), 200);
  assert.equal(await httpsStatus(`${arbor.url}/v1/project`, ca), 401);
  await assert.rejects(fetch(`${arbor.url}/readyz`), "the default trust store refuses the certificate");
});

test("an SDK that trusts the certificate logs and reads back", () => {
  const project = uniq("js-tls");
  const out = client(project, { trust: true });
  assert.equal(out.status, 0, out.stdout + out.stderr);
  const got = JSON.parse(out.stdout.trim().split("\n").pop());
  assert.deepEqual(got.dataset, [{ id: "tls-1", input: "over tls", expected: "ok" }]);
  assert.deepEqual(got.logs, ["logged over tls"]);
});

test("an SDK that does not trust it fails and writes nothing", async () => {
  const project = uniq("js-tls-untrusted");
  const out = client(project, { trust: false });
  assert.notEqual(out.status, 0, "the untrusted client must fail: " + out.stdout);
  assert.match(out.stdout + out.stderr, /certificate|self.signed|SELF_SIGNED|UNABLE_TO_VERIFY/i);
  // Read as the server's own client (trusting the cert): no project of that name was created.
  const ca = fs.readFileSync(cert);
  const status = await httpsStatus(
    `${arbor.url}/v1/project?project_name=${encodeURIComponent(project)}`, ca,
    { Authorization: `Bearer ${arbor.apiKey}` });
  assert.equal(status, 200);
  const listed = spawnSync("curl", ["-sS", "--cacert", cert, "-H", `Authorization: Bearer ${arbor.apiKey}`,
    `${arbor.url}/v1/project?project_name=${encodeURIComponent(project)}`], { encoding: "utf8" });
  assert.deepEqual(JSON.parse(listed.stdout).objects, []);
});
