import { describe, expect, it } from "vitest";
import { caseQuery, compareCase, metricColumns, needsFullScan, searchFilter } from "./cases";
import { parseRoute } from "./router";
import { parseSse, lit } from "../api";
import { buildTree } from "../pages/Trace";
import { mergeLive } from "../pages/Logs";

describe("BTQL for the case tables", () => {
  it("combines source, filter, search, sort, cursor", () => {
    expect(
      caseQuery({
        source: "experiment",
        id: "e1",
        filter: "scores.a < 0.5",
        search: "it's",
        sort: { key: "scores.a", desc: true },
        limit: 10,
        cursor: "c",
        previewLength: 50,
      }),
    ).toBe(
      "from: experiment('e1') summary | filter: (scores.a < 0.5) and ((input MATCH 'it\\'s' OR " +
        "output MATCH 'it\\'s' OR expected MATCH 'it\\'s' OR metadata MATCH 'it\\'s')) | " +
        "sort: scores.a desc | limit: 10 | preview_length: 50 | cursor: 'c'",
    );
    expect(caseQuery({ source: "project_logs", id: "p", shape: "spans" })).toBe(
      "from: project_logs('p') spans | filter: (is_root) | limit: 500",
    );
    expect(searchFilter("  ")).toBe("");
    expect(lit("a\\b")).toBe("'a\\\\b'");
  });

  it("uses the cheap paging path only for unsorted, unfiltered views", () => {
    expect(needsFullScan({ source: "experiment", id: "e" })).toBe(false);
    expect(needsFullScan({ source: "experiment", id: "e", search: " " })).toBe(false);
    expect(needsFullScan({ source: "experiment", id: "e", search: "x" })).toBe(true);
    expect(needsFullScan({ source: "experiment", id: "e", filter: "a > 1" })).toBe(true);
    expect(needsFullScan({ source: "experiment", id: "e", sort: { key: "a", desc: true } })).toBe(true);
  });

  it("shows metric columns that say something, duration and tokens first", () => {
    const rows = [
      { metrics: { start: 1, end: 2, errors: 0, duration: 1, prompt_tokens: 5, llm_calls: 1 } },
      { metrics: { duration: 2, total_tokens: 9 } },
    ];
    expect(metricColumns(rows)).toEqual(["duration", "total_tokens", "prompt_tokens", "llm_calls"]);
  });

  it("flags regressions and improvements per score against the base case", () => {
    const d = compareCase({ scores: { a: 0.2, b: 1, c: 0.5 } }, { scores: { a: 0.8, b: 0.5, c: 0.5 } });
    expect(d!.regressions).toEqual(["a"]);
    expect(d!.improvements).toEqual(["b"]);
    expect(d!.diff.a).toBeCloseTo(-0.6);
    expect(compareCase({ scores: { a: 1 } }, undefined)).toBeNull();
  });
});

describe("routes", () => {
  it("parses every page under /app", () => {
    expect(parseRoute("/app")).toEqual({ page: "projects" });
    expect(parseRoute("/app/p/x")).toEqual({ page: "experiments", projectId: "x" });
    expect(parseRoute("/app/p/x/logs")).toEqual({ page: "logs", projectId: "x" });
    expect(parseRoute("/app/p/x/datasets/d")).toEqual({ page: "dataset", projectId: "x", datasetId: "d" });
    expect(parseRoute("/app/experiments/e")).toEqual({ page: "experiment", experimentId: "e" });
    expect(parseRoute("/app/trace/experiment/e/r")).toEqual({
      page: "trace",
      objectType: "experiment",
      objectId: "e",
      rootSpanId: "r",
    });
    expect(parseRoute("/app/nope/x/y/z/w").page).toBe("notfound");
  });
});

describe("server-sent events", () => {
  it("parses events and skips heartbeats", () => {
    expect(parseSse('event: rows\ndata: {"rows":[1]}')).toEqual({ event: "rows", data: { rows: [1] } });
    expect(parseSse(": heartbeat")).toBeNull();
  });

  it("puts pushed rows first and replaces older versions", () => {
    const out = mergeLive([{ id: "a", v: 1 }, { id: "b" }], [{ id: "c" }, { id: "a", v: 2 }]);
    expect(out.map((r) => r.id)).toEqual(["c", "a", "b"]);
    expect(out[1].v).toBe(2);
  });
});

describe("span tree", () => {
  it("nests children under parents and orders siblings by start", () => {
    const tree = buildTree([
      { id: "3", span_id: "s3", span_parents: ["s1"], metrics: { start: 3 } },
      { id: "1", span_id: "s1", metrics: { start: 1 } },
      { id: "2", span_id: "s2", span_parents: ["s1"], metrics: { start: 2 } },
      { id: "4", span_id: "s4", span_parents: ["s2"], metrics: { start: 2.5 } },
    ]);
    expect(tree.map((n) => [n.span.id, n.depth])).toEqual([
      ["1", 0],
      ["2", 1],
      ["4", 2],
      ["3", 1],
    ]);
  });
});
