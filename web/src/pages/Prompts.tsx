// Prompts of a project (GET /v1/prompt, protocol §4.8) and their versions. A version is the
// prompt's _xact_id; an older one is read with `?slug=…&version=…`.
import { useState } from "react";
import { call, type Row } from "../api";
import { asMessages, Chat } from "../components/Chat";
import { JsonView } from "../components/JsonView";
import { Empty, ErrorBox, Loading } from "../components/States";
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
      {selected && <PromptView key={selected.id} projectId={projectId} prompt={selected} />}
    </section>
  );
}

function PromptView({ projectId, prompt }: { projectId: string; prompt: Row }) {
  const [version, setVersion] = useState<string>(prompt._xact_id);
  const shown = useAsync(
    async (signal) =>
      version === prompt._xact_id
        ? prompt
        : (
            await call<{ objects: Row[] }>(
              `/v1/prompt?project_id=${encodeURIComponent(projectId)}&slug=${encodeURIComponent(
                prompt.slug,
              )}&version=${encodeURIComponent(version)}`,
              { signal },
            )
          ).objects[0],
    [version],
  );
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
      {shown.loading ? (
        <Loading />
      ) : shown.error ? (
        <ErrorBox error={shown.error} />
      ) : !p ? (
        <Empty>No such version.</Empty>
      ) : (
        <>
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
