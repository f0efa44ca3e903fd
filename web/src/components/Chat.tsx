// LLM messages rendered as a chat: one bubble per message with its role, text parts and tool
// calls. Anything that is not a message list falls back to the JSON viewer.
import { JsonView } from "./JsonView";

interface Message {
  role: string;
  content?: unknown;
  tool_calls?: { id?: string; function?: { name?: string; arguments?: string } }[];
  name?: string;
  tool_call_id?: string;
}

export function asMessages(v: unknown): Message[] | null {
  const list = Array.isArray(v)
    ? v
    : v && typeof v === "object" && Array.isArray((v as any).messages)
      ? (v as any).messages
      : null;
  if (!list || list.length === 0) return null;
  return list.every((m: any) => m && typeof m === "object" && typeof m.role === "string")
    ? (list as Message[])
    : null;
}

function text(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((p: any) => (typeof p === "string" ? p : p?.type === "text" ? p.text : JSON.stringify(p)))
      .join("\n");
  }
  return content === undefined || content === null ? "" : JSON.stringify(content, null, 2);
}

export function Chat({ messages }: { messages: Message[] }) {
  return (
    <div className="chat" data-testid="chat">
      {messages.map((m, i) => (
        <div key={i} className={`msg role-${m.role}`}>
          <div className="msg-role">
            {m.role}
            {m.name ? ` · ${m.name}` : ""}
            {m.tool_call_id ? ` · ${m.tool_call_id}` : ""}
          </div>
          {text(m.content) && <div className="msg-text">{text(m.content)}</div>}
          {m.tool_calls?.map((t, j) => (
            <div key={j} className="tool-call">
              <span className="tool-name">tool call: {t.function?.name ?? "tool"}</span>
              <ToolArgs args={t.function?.arguments} />
            </div>
          ))}
        </div>
      ))}
    </div>
  );
}

function ToolArgs({ args }: { args?: string }) {
  if (!args) return null;
  try {
    return <JsonView value={JSON.parse(args)} expandDepth={2} />;
  } catch {
    return <pre>{args}</pre>;
  }
}
