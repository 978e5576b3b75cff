/** Messages on the IPC channel between the benchmark and its children. */
export interface ParentToChild {
  id: number
  cmd: string
  args: unknown
}

export type ChildToParent =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string }
  | { event: string; data: unknown }
