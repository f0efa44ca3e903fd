// Gzipped size of the UI's first load (what index.html pulls in) and of all assets.
// Usage: node scripts/bundle-size.mjs
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "dist");
const gz = (file) => zlib.gzipSync(fs.readFileSync(path.join(DIST, file)), { level: 9 }).length;

export function firstLoadBytes() {
  const html = fs.readFileSync(path.join(DIST, "index.html"), "utf8");
  const files = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
  const firstLoadGzip = files.reduce((n, f) => n + gz(f), 0) + gz("index.html");
  const all = fs.readdirSync(path.join(DIST, "assets")).map((f) => "assets/" + f);
  const totalGzip = all.reduce((n, f) => n + gz(f), 0);
  return { files, firstLoadGzip, totalGzip };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = firstLoadBytes();
  console.log(JSON.stringify(r, null, 2));
}
