import { describe, expect, it } from "vitest";
import { auditEntries } from "../pages/Trace";

describe("audit trail", () => {
  it("merges the row's entries with its comments', oldest first", () => {
    const span = {
      id: "a",
      audit_data: [
        { _xact_id: "1000000000000000003", source: "app", audit_data: { action: "merge" } },
        { _xact_id: "1000000000000000001", source: "external", audit_data: { action: "merge" } },
      ],
      comments: [
        {
          id: "c",
          comment: { text: "looks right" },
          audit_data: [{ _xact_id: "1000000000000000002", source: "app", audit_data: { action: "upsert" } }],
        },
        { id: "d", comment: { text: "no trail" } },
      ],
    };
    const got = auditEntries(span);
    expect(got.map((e) => e.source)).toEqual(["external", "app", "app"]);
    expect(got[1].audit_data).toEqual({ action: "comment", text: "looks right" });
    expect(auditEntries({ id: "x" })).toEqual([]);
  });
});
