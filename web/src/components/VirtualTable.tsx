// A virtualized table: only the rows in view are in the DOM, so 100k rows scroll smoothly.
// Rows have a fixed height. Arrow keys / j,k move the selection, Enter opens it; reaching the
// end asks for more (server-side paging).
import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from "react";

export interface Column<T> {
  key: string;
  title: string;
  width: number;
  render: (row: T) => ReactNode;
  sortable?: boolean;
  className?: (row: T) => string | undefined;
}

export type SortState = { key: string; desc: boolean } | null;

const ROW_HEIGHT = 32;
const OVERSCAN = 8;

export function VirtualTable<T>({
  rows,
  columns,
  rowKey,
  onOpen,
  onEndReached,
  sort,
  onSort,
  height = 560,
  rowClassName,
  label,
}: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  onOpen?: (row: T) => void;
  onEndReached?: () => void;
  sort?: SortState;
  onSort?: (s: SortState) => void;
  height?: number;
  rowClassName?: (row: T) => string | undefined;
  label: string;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const head = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [selected, setSelected] = useState(-1);
  const total = rows.length * ROW_HEIGHT;
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const width = columns.reduce((s, c) => s + c.width, 0);

  useEffect(() => {
    if (onEndReached && last >= rows.length - OVERSCAN && rows.length > 0) onEndReached();
  }, [last, rows.length, onEndReached]);

  const select = (i: number) => {
    const clamped = Math.max(0, Math.min(rows.length - 1, i));
    setSelected(clamped);
    const el = scroller.current;
    if (!el) return;
    const top = clamped * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + height - ROW_HEIGHT) {
      el.scrollTop = top + 2 * ROW_HEIGHT - height;
    }
  };

  const onKey = (e: KeyboardEvent) => {
    if (e.key === "ArrowDown" || e.key === "j") select(selected + 1);
    else if (e.key === "ArrowUp" || e.key === "k") select(selected - 1);
    else if (e.key === "Home") select(0);
    else if (e.key === "End") select(rows.length - 1);
    else if (e.key === "PageDown") select(selected + Math.floor(height / ROW_HEIGHT));
    else if (e.key === "PageUp") select(selected - Math.floor(height / ROW_HEIGHT));
    else if (e.key === "Enter" && selected >= 0 && onOpen) onOpen(rows[selected]);
    else return;
    e.preventDefault();
  };

  const headerClick = (c: Column<T>) => {
    if (!c.sortable || !onSort) return;
    if (sort?.key !== c.key) onSort({ key: c.key, desc: true });
    else if (sort.desc) onSort({ key: c.key, desc: false });
    else onSort(null);
  };

  return (
    <div className="vtable" role="grid" aria-label={label} aria-rowcount={rows.length}>
      <div className="vtable-head" role="row" style={{ width }} ref={head}>
        {columns.map((c) => (
          <div
            key={c.key}
            role="columnheader"
            className={"cell" + (c.sortable ? " sortable" : "")}
            style={{ width: c.width }}
            onClick={() => headerClick(c)}
            aria-sort={
              sort?.key === c.key ? (sort.desc ? "descending" : "ascending") : undefined
            }
          >
            {c.title}
            {sort?.key === c.key ? (sort.desc ? " ↓" : " ↑") : ""}
          </div>
        ))}
      </div>
      <div
        ref={scroller}
        className="vtable-body"
        style={{ height }}
        tabIndex={0}
        onKeyDown={onKey}
        onScroll={(e) => {
          setScrollTop(e.currentTarget.scrollTop);
          // The header scrolls sideways with the body.
          if (head.current) head.current.style.transform = `translateX(${-e.currentTarget.scrollLeft}px)`;
        }}
        data-testid="vtable-body"
      >
        <div style={{ height: total, width, position: "relative" }}>
          {rows.slice(first, last).map((row, j) => {
            const i = first + j;
            return (
              <div
                key={rowKey(row)}
                role="row"
                aria-rowindex={i + 1}
                aria-selected={i === selected}
                className={
                  "vtable-row" +
                  (i === selected ? " selected" : "") +
                  (rowClassName?.(row) ? " " + rowClassName(row) : "")
                }
                style={{ top: i * ROW_HEIGHT, height: ROW_HEIGHT }}
                onClick={() => {
                  setSelected(i);
                  onOpen?.(row);
                }}
              >
                {columns.map((c) => (
                  <div
                    key={c.key}
                    role="gridcell"
                    className={"cell " + (c.className?.(row) ?? "")}
                    style={{ width: c.width }}
                  >
                    {c.render(row)}
                  </div>
                ))}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
