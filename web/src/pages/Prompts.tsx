// Prompts of a project (GET /v1/prompt, protocol §4.8) and their versions. A version is the
// prompt's _xact_id; the list comes from GET /v1/prompt/{id}/versions and an older one is read
// with GET /v1/prompt/{id}?version=….
import { useState } from "react";
import { call, type Row } from "../api";
import { asMessages, Chat } from "../components/Chat";
import { JsonView } from "../components/JsonView";
import { Empty, ErrorBox, Loading } from "../components/States";
import { lineDiff, promptText } from "../lib/diff";
import { ago } from "../lib/format";
import { useAsync } from "../lib/useAsync";

export default function Prompts({ projectId }: { projectId: string }) {
  const list = useAsync(
    (signal) =>
      call<{ objects: Row[] }>(`/v1/prompt?project_id=${encodeURIComponent(projectId)}`, { signal }),
    [projectId],
  );
  const [selected, setSelected] = useState<Row | null>(null);
  if (list.loading) return <Loading what="Loading prompts" />;
  if (list.error) {
    const e = list.error as Error & { status?: number };
    if (e.status === 404) {
      return <Empty>Prompts are not available on this server yet.</Empty>;
    }
    return <ErrorBox error={list.error} retry={list.reload} />;
  }
  const prompts = list.data?.objects ?? [];
  if (prompts.length === 0) return <Empty>No prompts in this project yet.</Empty>;
  return (
    <section className="split">
      <div>
        <h1>Prompts</h1>
        <ul className="list" aria-label="Prompts">
          {prompts.map((p) => (
            <li key={p.id}>
              <button
                type="button"
                className={"link" + (selected?.id === p.id ? " active" : "")}
                onClick={() => setSelected(p)}
              >
                {p.name} <small className="mono">{p.slug}</small>
              </button>
            </li>
          ))}
        </ul>
      </div>
      {selected && <PromptView key={selected.id} prompt={selected} />}
    </section>
  );
}

interface Version {
  _xact_id: string;
  version: string;
  created: string;
  digest: string;
}

// One prompt: its versions (GET /v1/prompt/{id}/versions, newest first), the selected one, and
// optionally a line diff of its text against another version.
function PromptView({ prompt }: { prompt: Row }) {
  const base = `/v1/prompt/${encodeURIComponent(prompt.id)}`;
  const versions = useAsync((signal) => call<{ objects: Version[] }>(`${base}/versions`, { signal }), [base]);
  const [version, setVersion] = useState<string>(prompt._xact_id);
  const [against, setAgainst] = useState<string | null>(null);
  const load = (v: string, signal: AbortSignal) =>
    v === prompt._xact_id ? Promise.resolve(prompt) : call<Row>(`${base}?version=${encodeURIComponent(v)}`, { signal });
  const shown = useAsync((signal) => load(version, signal), [version]);
  const other = useAsync((signal) => (against ? load(against, signal) : Promise.resolve(null)), [against]);
  const [draft, setDraft] = useState(version);
  const p = shown.data;
  const data = p?.prompt_data ?? {};
  const msgs = asMessages(data.prompt?.messages);
  return (
    <div className="card prompt" data-testid="prompt-view">
      <h2>{prompt.name}</h2>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setVersion(draft.trim() || prompt._xact_id);
        }}
      >
        <label>
          Version{" "}
          <input className="mono" aria-label="Version" value={draft} onChange={(e) => setDraft(e.target.value)} />
        </label>
        <button type="submit">Load version</button>
        <small>latest: <span className="mono">{prompt._xact_id}</span> · {ago(prompt.created)}</small>
      </form>
      {versions.error ? (
        <ErrorBox error={versions.error} retry={versions.reload} />
      ) : (
        <table className="versions" aria-label="Versions">
          <tbody>
            {(versions.data?.objects ?? []).map((v, i) => (
              <tr key={v._xact_id} className={v._xact_id === version ? "active" : ""}>
                <td>
                  <button type="button" className="link mono" onClick={() => { setVersion(v._xact_id); setDraft(v._xact_id); }}>
                    {v.version}
                  </button>
                  {i === 0 && <small> latest</small>}
                </td>
                <td title={v.created}>{ago(v.created)}</td>
                <td className="mono" title="content digest">{v.digest}</td>
                <td>
                  {v._xact_id !== version && (
                    <button type="button" className="link" onClick={() => setAgainst(against === v._xact_id ? null : v._xact_id)}>
                      {against === v._xact_id ? "hide diff" : "diff"}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown.loading ? (
        <Loading />
      ) : shown.error ? (
        <ErrorBox error={shown.error} />
      ) : !p ? (
        <Empty>No such version.</Empty>
      ) : (
        <>
          {against && other.data && (
            <PromptDiff before={promptText(other.data.prompt_data)} after={promptText(data)} />
          )}
          {p.description && <p>{p.description}</p>}
          {msgs ? <Chat messages={msgs} /> : data.prompt?.content ? <pre>{data.prompt.content}</pre> : null}
          <h3>Options</h3>
          <JsonView value={data.options ?? {}} expandDepth={2} />
          <h3>Full object</h3>
          <JsonView value={p} />
        </>
      )}
    </div>
  );
}

function PromptDiff({ before, after }: { before: string; after: string }) {
  return (
    <pre className="prompt-diff" data-testid="prompt-diff" aria-label="Diff">
      {lineDiff(before, after).map((l, i) => (
        <div key={i} className={`diff-${l.op}`}>
          {l.op === "add" ? "+ " : l.op === "del" ? "- " : "  "}
          {l.text}
        </div>
      ))}
    </pre>
  );
}
