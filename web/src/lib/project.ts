// Lets a page that sits below a project (an experiment, a trace) name that project, so the
// shell shows the project switcher and tabs for it.
import { createContext, useContext, useEffect } from "react";

export const ProjectContext = createContext<(id: string | undefined) => void>(() => undefined);

export function usePageProject(id: string | undefined) {
  const set = useContext(ProjectContext);
  useEffect(() => set(id), [id, set]);
}
