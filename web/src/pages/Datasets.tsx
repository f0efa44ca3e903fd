// Datasets of a project, and one dataset's records: view, add, edit and delete.
import { useState, type FormEvent } from "react";
import { insert, listObjects, type Row } from "../api";
import { JsonView } from "../components/JsonView";
import { Link } from "../components/Link";
import { Empty, ErrorBox, Loading } from "../components/States";
import { VirtualTable, type Column } from "../components/VirtualTable";
import { caseQuery } from "../lib/cases";
import { ago, preview } from "../lib/format";
import { links } from "../lib/router";
import { useAsync } from "../lib/useAsync";
import { usePaged } from "../lib/usePaged";

export default function Datasets({ projectId, datasetId }: { projectId: string; datasetId?: string }) {
  const list = useAsync(() => listObjects("dataset", projectId), [projectId]);
  if (list.loading) return <Loading what="Loading datasets" />;
  if (list.error) return <ErrorBox error={list.error} retry={list.reload} />;
  const datasets = list.data ?? [];
  if (datasetId) {
    const ds = datasets.find((d) => d.id === datasetId);
    return <Dataset projectId={projectId} datasetId={datasetId} name={ds?.name ?? datasetId} />;
  }
  if (datasets.length === 0) return <Empty>No datasets in this project yet.</Empty>;
  return (
    <section>
      <h1>Datasets</h1>
      <table className="grid-table" aria-label="Datasets">
        <thead>
          <tr>
            <th>Dataset</th>
            <th>Description</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {datasets.map((d) => (
            <tr key={d.id} data-testid="dataset-row">
              <td>
                <Link to={links.dataset(projectId, d.id)}>{d.name}</Link>
              </td>
              <td>{d.description ?? ""}</td>
              <td>{ago(d.created)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function parseJsonField(label: string, text: string): unknown {
  if (!text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch {
    // Plain text is a string value, the common case for inputs.
    if (label === "metadata") throw new Error("Metadata must be a JSON object");
    return text;
  }
}

function Dataset({ projectId, datasetId, name }: { projectId: string; datasetId: string; name: string }) {
  const paged = usePaged(
    (cursor) => caseQuery({ source: "dataset", id: datasetId, shape: "spans", cursor, limit: 1000 }),
    datasetId,
  );
  const [editing, setEditing] = useState<Row | "new" | null>(null);
  const [selected, setSelected] = useState<Row | null>(null);
  const [err, setErr] = useState("");

  const remove = async (r: Row) => {
    if (!confirm("Delete this record?")) return;
    try {
      await insert("dataset", datasetId, [{ id: r.id, _object_delete: true }]);
      paged.setRows((rows) => rows.filter((x) => x.id !== r.id));
      setSelected(null);
    } catch (e) {
      setErr((e as Error).message);
    }
  };

  const columns: Column<Row>[] = [
    { key: "input", title: "Input", width: 320, render: (r) => preview(r.input) },
    { key: "expected", title: "Expected", width: 280, render: (r) => preview(r.expected) },
    { key: "metadata", title: "Metadata", width: 200, render: (r) => preview(r.metadata) },
    { key: "created", title: "Created", width: 110, render: (r) => ago(r.created) },
  ];
  return (
    <section>
      <h1>
        {name}{" "}
        <small>
          <Link to={links.datasets(projectId)}>← datasets</Link>
        </small>
      </h1>
      <div className="toolbar">
        <button type="button" className="primary" onClick={() => setEditing("new")}>
          Add record
        </button>
        <span className="count" data-testid="record-count">
          {paged.rows.length} records
        </span>
      </div>
      {err && <div className="state error" role="alert">{err}</div>}
      {editing && (
        <RecordForm
          datasetId={datasetId}
          record={editing === "new" ? null : editing}
          onDone={(saved) => {
            setEditing(null);
            if (saved) paged.reload();
          }}
        />
      )}
      {paged.error ? (
        <ErrorBox error={paged.error} retry={paged.reload} />
      ) : paged.loading && paged.rows.length === 0 ? (
        <Loading what="Loading records" />
      ) : paged.rows.length === 0 ? (
        <Empty>This dataset is empty. Add a record to start.</Empty>
      ) : (
        <div className="split">
          <VirtualTable
            label="Records"
            rows={paged.rows}
            columns={columns}
            rowKey={(r) => r.id}
            onOpen={setSelected}
            onEndReached={paged.loadMore}
            height={420}
          />
          {selected && (
            <div className="card record-detail" data-testid="record-detail">
              <div className="toolbar">
                <button type="button" onClick={() => setEditing(selected)}>
                  Edit
                </button>
                <button type="button" className="danger" onClick={() => remove(selected)}>
                  Delete
                </button>
              </div>
              <h3>Input</h3>
              <JsonView value={selected.input ?? null} />
              <h3>Expected</h3>
              <JsonView value={selected.expected ?? null} />
              <h3>Metadata</h3>
              <JsonView value={selected.metadata ?? {}} />
            </div>
          )}
        </div>
      )}
    </section>
  );
}

function show(v: unknown): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : JSON.stringify(v, null, 2);
}

function RecordForm({
  datasetId,
  record,
  onDone,
}: {
  datasetId: string;
  record: Row | null;
  onDone: (saved: boolean) => void;
}) {
  const [input, setInput] = useState(show(record?.input));
  const [expected, setExpected] = useState(show(record?.expected));
  const [metadata, setMetadata] = useState(show(record?.metadata));
  const [error, setError] = useState("");
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const event: Record<string, unknown> = {
        input: parseJsonField("input", input),
        expected: parseJsonField("expected", expected),
      };
      const meta = parseJsonField("metadata", metadata);
      if (meta !== null) event.metadata = meta;
      if (record) event.id = record.id;
      await insert("dataset", datasetId, [event]);
      onDone(true);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form className="card record-form" onSubmit={submit} aria-label={record ? "Edit record" : "New record"}>
      <label>
        Input (text or JSON)
        <textarea aria-label="Input" value={input} onChange={(e) => setInput(e.target.value)} />
      </label>
      <label>
        Expected (text or JSON)
        <textarea aria-label="Expected" value={expected} onChange={(e) => setExpected(e.target.value)} />
      </label>
      <label>
        Metadata (JSON object)
        <textarea aria-label="Metadata" value={metadata} onChange={(e) => setMetadata(e.target.value)} />
      </label>
      {error && <div className="state error" role="alert">{error}</div>}
      <button type="submit" className="primary">
        {record ? "Save" : "Add"}
      </button>
      <button type="button" onClick={() => onDone(false)}>
        Cancel
      </button>
    </form>
  );
}
