/** @module bin/server-entry (types for bin/server-entry.js) */
export interface ServerEntry {
  /** Absolute path of dist/main.js or src/main.ts. */
  readonly file: string;
  /** True for the compiled build (dist/). */
  readonly compiled: boolean;
  /** Why that file, for logs and the bench report. */
  readonly reason: string;
}
export function serverEntry(root: string): ServerEntry;
