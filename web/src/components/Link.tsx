import type { MouseEvent, ReactNode } from "react";
import { navigate } from "../lib/router";

// An <a> that navigates client-side (and still opens in a new tab with a modifier).
export function Link({
  to,
  children,
  className,
  active,
}: {
  to: string;
  children: ReactNode;
  className?: string;
  active?: boolean;
}) {
  const onClick = (e: MouseEvent) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a
      href={to}
      onClick={onClick}
      className={(className ?? "") + (active ? " active" : "")}
      aria-current={active ? "page" : undefined}
    >
      {children}
    </a>
  );
}
