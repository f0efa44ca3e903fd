import { describe, expect, it } from "vitest";
import { lineDiff, promptText } from "./diff";

describe("prompt version diff", () => {
  it("marks removed and added lines around the common ones", () => {
    expect(lineDiff("system: be brief\nuser: {{q}}", "system: be kind\nuser: {{q}}\nuser: thanks")).toEqual([
      { op: "del", text: "system: be brief" },
      { op: "add", text: "system: be kind" },
      { op: "same", text: "user: {{q}}" },
      { op: "add", text: "user: thanks" },
    ]);
    expect(lineDiff("a\nb", "a\nb").every((l) => l.op === "same")).toBe(true);
  });

  it("renders chat and completion prompts as text", () => {
    expect(
      promptText({ prompt: { type: "chat", messages: [{ role: "system", content: "hi" }, { role: "user", content: [1] }] } }),
    ).toBe("system: hi\nuser: [1]");
    expect(promptText({ prompt: { type: "completion", content: "Q: {{q}}" } })).toBe("Q: {{q}}");
  });
});
