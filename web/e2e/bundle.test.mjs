// The first load (the entry script, its static imports and the CSS named by index.html) must
// stay under 500 KB gzipped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { firstLoadBytes } from "../scripts/bundle-size.mjs";

test("first load is under 500 KB gzipped", () => {
  const { firstLoadGzip, files } = firstLoadBytes();
  assert.ok(files.some((f) => f.endsWith(".js")), `entry script found: ${files}`);
  assert.ok(firstLoadGzip > 10_000, `plausible size: ${firstLoadGzip}`);
  assert.ok(firstLoadGzip < 500 * 1024, `first load is ${firstLoadGzip} bytes gzipped`);
});
