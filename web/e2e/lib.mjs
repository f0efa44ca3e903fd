// Starts a real `arbor serve` serving the built UI (web/dist) and a real Debian chromium
// driven by playwright-core. ARBOR_BIN picks the binary (default build/arbor).
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const WEB = path.resolve(HERE, "..");
export const REPO = path.resolve(WEB, "..");
export const ARTIFACTS = path.join(REPO, "tests", "artifacts", "ui");
export const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function uniq(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${crypto.randomBytes(3).toString("hex")}`;
}

async function freePort() {
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

export async function startArbor(tag) {
  const bin = process.env.ARBOR_BIN || path.join(REPO, "build", "arbor");
  if (!fs.existsSync(bin)) throw new Error(`arbor binary not found at ${bin} (set ARBOR_BIN)`);
  const dist = path.join(WEB, "dist");
  if (!fs.existsSync(path.join(dist, "index.html"))) throw new Error("web/dist is not built (vite build)");
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `arbor-ui-${tag}-`));
  const apiKey = "arb_ui_" + crypto.randomBytes(12).toString("hex");
  const port = await freePort();
  const logPath = path.join(dataDir, "server.log");
  const fd = fs.openSync(logPath, "a");
  const proc = spawn(
    bin,
    ["serve", "--data-dir", dataDir, "--listen", `127.0.0.1:${port}`, "--web-dir", dist, "--org-name", "ui-org"],
    { env: { ...process.env, ARBOR_BOOTSTRAP_API_KEY: apiKey }, stdio: ["ignore", fd, fd] },
  );
  fs.closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`arbor exited: ${fs.readFileSync(logPath, "utf8").slice(-2000)}`);
    try {
      if ((await fetch(url + "/readyz")).status === 200) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error("arbor did not become ready");
    await sleep(50);
  }
  process.env.BRAINTRUST_APP_URL = url;
  process.env.BRAINTRUST_API_KEY = apiKey;
  delete process.env.BRAINTRUST_API_URL;
  delete process.env.BRAINTRUST_PROXY_URL;
  delete process.env.BRAINTRUST_ORG_NAME;
  return {
    url,
    apiKey,
    bin,
    dataDir,
    async api(p, body) {
      const resp = await fetch(url + p, {
        method: body === undefined ? "GET" : "POST",
        headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await resp.text();
      if (!resp.ok) throw new Error(`${p} -> ${resp.status}: ${text}`);
      return JSON.parse(text);
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        const t = setTimeout(() => proc.kill("SIGKILL"), 20000);
        await exited;
        clearTimeout(t);
      }
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      fs.copyFileSync(logPath, path.join(ARTIFACTS, `${tag}.server.log`));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export async function shot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}
