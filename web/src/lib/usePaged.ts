// Rows of a BTQL query, a page at a time: the first page on mount, the next ones when the
// table scrolls near its end (server-side paging through /btql cursors).
import { useCallback, useEffect, useRef, useState } from "react";
import { btql, type BtqlResult, type Row } from "../api";

export interface Paged {
  rows: Row[];
  loading: boolean;
  error: Error | undefined;
  done: boolean;
  loadMore: () => void;
  reload: () => void;
  setRows: (f: (rows: Row[]) => Row[]) => void;
}

// `source` gives the BTQL text of a page, or loads the page itself.
export function usePaged(
  source: (cursor: string | null) => string | Promise<BtqlResult>,
  key: string,
): Paged {
  const [rows, setRowsState] = useState<Row[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<Error>();
  const [tick, setTick] = useState(0);
  const cursor = useRef<string | null>(null);
  const busy = useRef(false);
  const done = useRef(false);
  const gen = useRef(0);
  const sourceRef = useRef(source);
  sourceRef.current = source;

  const fetchPage = useCallback(async (first: boolean) => {
    if (busy.current || (!first && done.current)) return;
    busy.current = true;
    const mine = gen.current;
    setLoading(true);
    try {
      const q = sourceRef.current(first ? null : cursor.current);
      const out = typeof q === "string" ? await btql(q) : await q;
      if (mine !== gen.current) return;
      cursor.current = out.cursor ?? null;
      done.current = !out.cursor;
      setRowsState((old) => (first ? out.data : old.concat(out.data)));
      setError(undefined);
    } catch (e) {
      if (mine === gen.current) setError(e as Error);
    } finally {
      if (mine === gen.current) {
        busy.current = false;
        setLoading(false);
      }
    }
  }, []);

  useEffect(() => {
    gen.current++;
    busy.current = false;
    done.current = false;
    cursor.current = null;
    setRowsState([]);
    fetchPage(true);
  }, [key, tick, fetchPage]);

  return {
    rows,
    loading,
    error,
    done: done.current,
    loadMore: useCallback(() => {
      if (!error) fetchPage(false);
    }, [fetchPage, error]),
    reload: useCallback(() => setTick((t) => t + 1), []),
    setRows: setRowsState,
  };
}
