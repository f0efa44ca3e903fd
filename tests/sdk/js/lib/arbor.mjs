// Starts a real `arbor serve` for one test file (or reuses ARBOR_URL / ARBOR_API_KEY),
// points the Braintrust SDK at it through the environment, and offers small raw-HTTP
// helpers (BTQL, /version) for checks the SDK has no API for.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, "..", "..", "..", "..");
const DEFAULT_BIN = path.join(REPO, "build", "arbor");
const ARTIFACTS = path.join(REPO, "tests", "artifacts", "sdk");

export async function freePort() {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// GET over HTTPS trusting exactly `ca` (PEM); resolves to the status code.
export function httpsStatus(url, ca, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, headers }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("error", reject);
  });
}

export class Arbor {
  constructor({ url, apiKey, proc = null, dataDir = null, logPath = null, tag = "arbor" }) {
    this.url = url;
    this.apiKey = apiKey;
    this.proc = proc;
    this.dataDir = dataDir;
    this.logPath = logPath;
    this.tag = tag;
  }

  headers(extra = {}) {
    return { Authorization: `Bearer ${this.apiKey}`, ...extra };
  }

  async getJson(p) {
    const resp = await fetch(this.url + p, { headers: this.headers() });
    const text = await resp.text();
    if (!resp.ok) throw new Error(`GET ${p} -> ${resp.status}: ${text}`);
    return JSON.parse(text);
  }

  async postJson(p, body) {
    const resp = await fetch(this.url + p, {
      method: "POST",
      headers: this.headers({ "Content-Type": "application/json" }),
      body: JSON.stringify(body),
    });
    const text = await resp.text();
    if (!resp.ok) throw new Error(`POST ${p} ${JSON.stringify(body).slice(0, 400)} -> ${resp.status}: ${text}`);
    return JSON.parse(text);
  }

  // All rows of one object via the JSON-AST BTQL form the SDKs use, following cursors.
  async btqlAll(objectType, objectId, { limit = 1000, filter = undefined } = {}) {
    const rows = [];
    let cursor = undefined;
    for (let i = 0; i < 1000; i++) {
      const query = {
        select: [{ op: "star" }],
        from: {
          op: "function",
          name: { op: "ident", name: [objectType] },
          args: [{ op: "literal", value: objectId }],
        },
        limit,
      };
      if (filter !== undefined) query.filter = filter;
      if (cursor) query.cursor = cursor;
      const resp = await this.postJson("/btql", { query });
      if (!Array.isArray(resp.data)) throw new Error(`/btql response has no data array: ${JSON.stringify(resp).slice(0, 400)}`);
      rows.push(...resp.data);
      if (!resp.cursor) return rows;
      cursor = resp.cursor;
    }
    throw new Error("too many BTQL pages");
  }

  async stop() {
    if (!this.proc) return;
    const proc = this.proc;
    this.proc = null;
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 20000);
      await exited;
      clearTimeout(t);
    }
    try {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      fs.copyFileSync(this.logPath, path.join(ARTIFACTS, `js-${this.tag}.server.log`));
    } catch {
      // best effort
    }
    if (!process.env.ARBOR_KEEP_DATA) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

// Starts arbor (unless ARBOR_URL is set) and configures the SDK environment.
// `extraArgs` are appended to `arbor serve` (e.g. --otlp-grpc-listen). With `tls` ({cert, key}
// PEM paths) the server speaks HTTPS and readiness is polled trusting that certificate.
export async function startArbor(tag = "arbor", { extraArgs = [], tls = null } = {}) {
  let arbor;
  if (process.env.ARBOR_URL) {
    if (!process.env.ARBOR_API_KEY) throw new Error("ARBOR_URL is set but ARBOR_API_KEY is not");
    arbor = new Arbor({ url: process.env.ARBOR_URL.replace(/\/$/, ""), apiKey: process.env.ARBOR_API_KEY, tag });
  } else {
    const bin = process.env.ARBOR_BIN || DEFAULT_BIN;
    if (!fs.existsSync(bin)) throw new Error(`arbor binary not found at ${bin} (set ARBOR_BIN)`);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `arbor-sdk-js-${tag}-`));
    const apiKey = "arb_test_" + crypto.randomBytes(12).toString("hex");
    const port = await freePort();
    const logPath = path.join(dataDir, "server.log");
    const logFd = fs.openSync(logPath, "a");
    const proc = spawn(
      bin,
      [
        "serve", "--data-dir", dataDir, "--listen", `127.0.0.1:${port}`, "--org-name", "arbor-sdk-js",
        ...(tls ? ["--tls-cert", tls.cert, "--tls-key", tls.key] : []), ...extraArgs,
      ],
      { env: { ...process.env, ARBOR_BOOTSTRAP_API_KEY: apiKey }, stdio: ["ignore", logFd, logFd] },
    );
    fs.closeSync(logFd);
    const scheme = tls ? "https" : "http";
    arbor = new Arbor({ url: `${scheme}://127.0.0.1:${port}`, apiKey, proc, dataDir, logPath, tag });
    const ca = tls ? fs.readFileSync(tls.cert) : null;
    const deadline = Date.now() + 30000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`arbor exited early (${proc.exitCode ?? proc.signalCode}): ${fs.readFileSync(logPath, "utf8").slice(-2000)}`);
      }
      try {
        const status = ca ? await httpsStatus(`${arbor.url}/readyz`, ca) : (await fetch(`${arbor.url}/readyz`)).status;
        if (status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await arbor.stop();
        throw new Error("arbor did not become ready within 30 s");
      }
      await sleep(50);
    }
  }
  process.env.BRAINTRUST_APP_URL = arbor.url;
  process.env.BRAINTRUST_API_KEY = arbor.apiKey;
  delete process.env.BRAINTRUST_API_URL;
  delete process.env.BRAINTRUST_PROXY_URL;
  delete process.env.BRAINTRUST_ORG_NAME;
  return arbor;
}

// A unique name so that reused servers never mix runs.
export function uniq(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${crypto.randomBytes(3).toString("hex")}`;
}

// Collects an async iterator into an array.
export async function collect(iter) {
  const out = [];
  for await (const x of iter) out.push(x);
  return out;
}

export function approx(actual, expected, eps = 1e-9) {
  return typeof actual === "number" && Math.abs(actual - expected) <= eps;
}

export function isRootRow(r) {
  return r.span_parents === undefined || r.span_parents === null || r.span_parents.length === 0;
}
