import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { JsonView } from "./JsonView";
import { VirtualTable, type Column } from "./VirtualTable";
import { LineChart } from "./Chart";
import { Chat, asMessages } from "./Chat";

afterEach(cleanup);

describe("JsonView", () => {
  it("renders a 10 MB payload quickly by rendering only what is expanded", () => {
    const big = { items: Array.from({ length: 50_000 }, (_, i) => ({ i, text: "x".repeat(200) })) };
    expect(JSON.stringify(big).length).toBeGreaterThan(10_000_000);
    const t0 = performance.now();
    const { container } = render(<JsonView value={big} />);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(container.querySelectorAll(".json-row").length).toBe(2); // root + collapsed "items"
    fireEvent.click(screen.getAllByRole("button", { expanded: false })[0]);
    // 100 children shown, the rest behind "show more"
    expect(container.querySelectorAll(".json-row").length).toBe(102);
    expect(screen.getByText(/show 100 more of 49900/)).toBeTruthy();
  });

  it("cuts long strings until asked", () => {
    render(<JsonView value={"a".repeat(5000)} />);
    const more = screen.getByText(/3000 more characters/);
    fireEvent.click(more);
    expect(screen.queryByText(/more characters/)).toBeNull();
  });
});

describe("VirtualTable", () => {
  const rows = Array.from({ length: 100_000 }, (_, i) => ({ id: String(i), v: i }));
  const columns: Column<{ id: string; v: number }>[] = [
    { key: "v", title: "Value", width: 100, sortable: true, render: (r) => `row ${r.v}` },
  ];

  it("keeps only the visible rows of 100k in the DOM", () => {
    render(<VirtualTable label="t" rows={rows} columns={columns} rowKey={(r) => r.id} height={320} />);
    const rendered = screen.getAllByRole("row").length - 1; // minus the header
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(50);
    expect(screen.getByRole("grid").getAttribute("aria-rowcount")).toBe("100000");
  });

  it("moves the selection with the keyboard and opens with Enter", () => {
    const onOpen = vi.fn();
    render(
      <VirtualTable label="t" rows={rows} columns={columns} rowKey={(r) => r.id} onOpen={onOpen} />,
    );
    const body = screen.getByTestId("vtable-body");
    fireEvent.keyDown(body, { key: "ArrowDown" });
    fireEvent.keyDown(body, { key: "ArrowDown" });
    fireEvent.keyDown(body, { key: "ArrowUp" });
    fireEvent.keyDown(body, { key: "j" });
    fireEvent.keyDown(body, { key: "Enter" });
    expect(onOpen).toHaveBeenCalledWith(rows[1]);
  });

  it("cycles sorting from the header and asks for more rows at the end", () => {
    const onSort = vi.fn();
    const onEnd = vi.fn();
    render(
      <VirtualTable
        label="t"
        rows={rows.slice(0, 5)}
        columns={columns}
        rowKey={(r) => r.id}
        onSort={onSort}
        sort={null}
        onEndReached={onEnd}
      />,
    );
    fireEvent.click(screen.getByRole("columnheader"));
    expect(onSort).toHaveBeenCalledWith({ key: "v", desc: true });
    expect(onEnd).toHaveBeenCalled();
  });
});

describe("LineChart", () => {
  it("draws one line per series with a point per experiment", () => {
    const { container } = render(
      <LineChart
        labels={["a", "b", "c"]}
        series={[
          { name: "accuracy", points: [0.5, 0.7, null] },
          { name: "fluency", points: [1, 0.2, 0.4] },
        ]}
      />,
    );
    expect(container.querySelectorAll("polyline").length).toBe(2);
    expect(container.querySelectorAll('[data-series="accuracy"] circle').length).toBe(2);
    expect(container.querySelectorAll('[data-series="fluency"] circle').length).toBe(3);
  });
});

describe("Chat", () => {
  it("renders roles, text parts and tool calls", () => {
    const msgs = asMessages([
      { role: "system", content: "be brief" },
      { role: "user", content: [{ type: "text", text: "weather in Paris?" }] },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c1", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
      },
    ]);
    expect(msgs).not.toBeNull();
    const { container } = render(<Chat messages={msgs!} />);
    expect(container.querySelectorAll(".msg").length).toBe(3);
    expect(screen.getByText("weather in Paris?")).toBeTruthy();
    expect(screen.getByText(/get_weather/)).toBeTruthy();
    expect(screen.getByText('"Paris"')).toBeTruthy();
  });

  it("does not treat other values as messages", () => {
    expect(asMessages({ question: "x" })).toBeNull();
    expect(asMessages([1, 2])).toBeNull();
    expect(asMessages({ messages: [{ role: "user", content: "hi" }] })).toHaveLength(1);
  });
});
