/* types.ts: the shapes of the ddt HTTP API (SPEC 6, 9) and of project
 * files (SPEC 2, 3) as the console reads them.  Clients ignore unknown
 * fields, so every shape is open. */

export interface Message {
  text: string;
  node?: string;
  ddt?: string;
  data?: string;
  sub?: string | null;
  step?: string;
  escalation?: number;
}

export interface Action {
  type: string;
  queue?: string;
  to?: string;
  subject?: string;
  body?: string;
  text?: string;
  name?: string;
  params?: unknown;
  [k: string]: unknown;
}

export interface Expecting {
  ddt: string;
  data: string;
  sub: string | null;
  step: string;
  kind?: string;
  escalation?: number;
}

export type Status = 'waiting' | 'ended' | 'transferred' | 'error';

export interface TurnResponse {
  sessionId: string;
  version: number;
  status: Status;
  messages: Message[];
  actions: Action[];
  expecting: Expecting | null;
  error?: { code: string; message: string };
  durable?: boolean;
  [k: string]: unknown;
}

export interface SessionInfo {
  sessionId: string;
  project: string;
  projectVersion: string;
  status: Status;
  version: number;
  memory: Record<string, unknown>;
  expecting: Expecting | null;
  error?: { code: string; message: string };
}

export interface ProjectRow {
  name: string;
  version: string;
  checksum: string;
  loadedAt: string;
  size: number;
  current: boolean;
}

export interface CompileError {
  path: string;
  message: string;
}

export interface PutResult {
  name: string;
  version: string;
  checksum: string;
  warnings: (CompileError | string)[];
}

export interface Task {
  type: string;
  [k: string]: unknown;
}

export interface FlowNode {
  id: string;
  tasks: Task[];
}

export interface FlowEdge {
  from: string;
  to: string;
  condition?: string;
}

export interface DataNode {
  id: string;
  kind?: string;
  label?: string;
  required?: boolean;
  confirm?: string;
  subData?: DataNode[];
  steps?: Record<string, string[]>;
  limits?: Record<string, number>;
  [k: string]: unknown;
}

export interface DdtDef {
  mixedInitiative?: boolean;
  data: DataNode[];
}

export interface ProjectFile {
  format?: string;
  name: string;
  version?: string;
  locale?: string;
  variables?: Record<string, unknown>;
  flow: { start: string; nodes: FlowNode[]; edges: FlowEdge[] };
  ddts: Record<string, DdtDef>;
}

export interface ProjectDetail {
  name: string;
  version: string;
  checksum: string;
  source: ProjectFile;
}

/* One input of a turn (SPEC 4, 9.4). */
export type TurnInput =
  | { text: string }
  | { dtmf: string }
  | { event: 'noInput' | 'noMatch' }
  | { values: Record<string, unknown> };
