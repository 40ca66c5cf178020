/* flowLayout.ts: the project's flow as React Flow nodes and edges, laid
 * out top to bottom by dagre; node heights follow their task count. */
import { Graph, layout } from '@dagrejs/dagre';
import { MarkerType, type Edge, type Node } from '@xyflow/react';
import type { FlowNode, ProjectFile, Task } from './types';

export const NODE_W = 260;

export function taskSummary(t: Task): string {
  const s = (v: unknown) => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));
  const cut = (v: string, n = 48) => (v.length > n ? `${v.slice(0, n - 1)}…` : v);
  switch (t.type) {
    case 'SayMessage': return `SayMessage “${cut(s(t.text))}”`;
    case 'GetData': return `GetData ${s(t.ddt)}`;
    case 'BackendCall': return `BackendCall ${s(t.method)} ${s(t.url)}`;
    case 'SetVariable': return `SetVariable ${s(t.name)} = ${cut(s(t.value), 32)}`;
    case 'EndCall': return 'EndCall';
    case 'TransferToOperator': return `TransferToOperator → ${s(t.queue)}`;
    case 'SendEmail': return `SendEmail → ${s(t.to)}`;
    case 'SendSMS': return `SendSMS → ${cut(s(t.to), 32)}`;
    case 'Custom': return `Custom ${s(t.name)}`;
    default: return t.type;
  }
}

/* dagre's route of an edge: its bends and where its label goes. */
export interface RoutedEdgeData extends Record<string, unknown> {
  points: { x: number; y: number }[];
  labelX?: number;
  labelY?: number;
  condition: string | null;
}

export interface FlowNodeData extends Record<string, unknown> {
  node: FlowNode;
  start: boolean;
  current: boolean;
  visited: boolean;
  onOpenDdt: (ddt: string) => void;
}

export function layoutFlow(p: ProjectFile, current: string | null, visited: Set<string>,
                           onOpenDdt: (ddt: string) => void): { nodes: Node<FlowNodeData>[]; edges: Edge<RoutedEdgeData>[] } {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 40, ranksep: 70, edgesep: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const fnodes = p.flow?.nodes ?? [];
  const heights = new Map<string, number>();
  for (const n of fnodes) {
    const h = 44 + 24 * (n.tasks?.length ?? 0);
    heights.set(n.id, h);
    g.setNode(n.id, { width: NODE_W, height: h });
  }
  const fedges = (p.flow?.edges ?? []).filter((e) => g.hasNode(e.from) && g.hasNode(e.to));
  fedges.forEach((e, i) => g.setEdge(e.from, e.to, {
    width: e.condition ? Math.min(226, 6.2 * e.condition.length + 14) : 44, height: 18, labelpos: 'c',
  }, `e${i}`));
  layout(g);
  const nodes: Node<FlowNodeData>[] = fnodes.map((n) => {
    const pos = g.node(n.id) as { x: number; y: number };
    const h = heights.get(n.id) ?? 60;
    return {
      id: n.id,
      type: 'ddtNode',
      position: { x: pos.x - NODE_W / 2, y: pos.y - h / 2 },
      data: { node: n, start: p.flow.start === n.id, current: current === n.id, visited: visited.has(n.id), onOpenDdt },
      style: { width: NODE_W },
    };
  });
  const edges: Edge<RoutedEdgeData>[] = fedges.map((e, i) => {
    const route = g.edge({ v: e.from, w: e.to, name: `e${i}` }) as { points?: { x: number; y: number }[]; x?: number; y?: number };
    return {
    id: `e${i}`,
    source: e.from,
    target: e.to,
    type: 'routed',
    data: { points: (route?.points ?? []).slice(1, -1), labelX: route?.x, labelY: route?.y, condition: e.condition ?? null },
    ariaLabel: `${e.from} → ${e.to}${e.condition ? `: ${e.condition}` : ''}`,
    className: visited.has(e.from) && visited.has(e.to) ? 'walked' : undefined,
    markerEnd: { type: MarkerType.ArrowClosed },
  };
  });
  return { nodes, edges };
}
