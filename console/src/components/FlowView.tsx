/* FlowView.tsx: the Flow screen: the project's flow as a graph (React
 * Flow, dagre layout): nodes with their tasks, edges with conditions, the
 * simulator's current node highlighted and the nodes it went through
 * marked; a DDT opened from its GetData task shows its data nodes and the
 * prompts of each step.  A text outline of the same graph follows it for
 * keyboard and screen-reader users. */
import { useCallback, useEffect, useMemo, useState } from 'react';
import {
  Background, BaseEdge, Controls, EdgeLabelRenderer, Handle, Position, ReactFlow,
  type Edge, type EdgeProps, type NodeProps, type Node,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { api } from '../api';
import { useI18n } from '../i18n';
import { layoutFlow, taskSummary, type FlowNodeData, type RoutedEdgeData } from '../flowLayout';
import type { DataNode, ProjectFile, ProjectRow } from '../types';
import { ErrorBanner } from './ErrorBanner';

function DdtNode({ data }: NodeProps<Node<FlowNodeData>>) {
  const { t } = useI18n();
  const n = data.node;
  return (
    <div className={`flow-node${data.current ? ' current' : ''}${data.visited ? ' visited' : ''}`}
         data-node-id={n.id} data-current={data.current ? 'true' : 'false'}
         aria-current={data.current ? 'step' : undefined}>
      <Handle type="target" position={Position.Top} />
      <div className="flow-node-title">
        <strong>{n.id}</strong>
        {data.start && <span className="pill">start</span>}
        {data.current && <span className="pill now">{t('current')}</span>}
      </div>
      <ol className="tasks">
        {(n.tasks ?? []).map((task, i) => (
          <li key={i}>
            {task.type === 'GetData' && typeof task.ddt === 'string' ? (
              <button type="button" className="link nodrag" onClick={() => data.onOpenDdt(task.ddt as string)}
                      aria-label={t('openDdt', { ddt: task.ddt as string })}>
                {taskSummary(task)}
              </button>
            ) : taskSummary(task)}
          </li>
        ))}
      </ol>
      <Handle type="source" position={Position.Bottom} />
    </div>
  );
}

/* An edge along dagre's route (so it goes around nodes), its condition in
 * a label where dagre made room for it. */
function RoutedEdge({ id, sourceX, sourceY, targetX, targetY, data, markerEnd, style }: EdgeProps<Edge<RoutedEdgeData>>) {
  const { t } = useI18n();
  const pts = [{ x: sourceX, y: sourceY }, ...(data?.points ?? []), { x: targetX, y: targetY }];
  let d = `M ${pts[0].x} ${pts[0].y}`;
  for (let i = 1; i < pts.length - 1; i++) {
    // a smooth curve through the midpoints, bending at dagre's points
    const mx = (pts[i].x + pts[i + 1].x) / 2, my = (pts[i].y + pts[i + 1].y) / 2;
    d += ` Q ${pts[i].x} ${pts[i].y} ${mx} ${my}`;
  }
  d += ` L ${pts[pts.length - 1].x} ${pts[pts.length - 1].y}`;
  const lx = data?.labelX ?? (sourceX + targetX) / 2;
  const ly = data?.labelY ?? (sourceY + targetY) / 2;
  return (
    <>
      <BaseEdge id={id} path={d} markerEnd={markerEnd} style={style} />
      <EdgeLabelRenderer>
        <div className="edge-label" style={{ transform: `translate(-50%, -50%) translate(${lx}px, ${ly}px)` }}>
          {data?.condition ?? <span className="muted">{t('noCondition')}</span>}
        </div>
      </EdgeLabelRenderer>
    </>
  );
}

const nodeTypes = { ddtNode: DdtNode };
const edgeTypes = { routed: RoutedEdge };

function DataNodeView({ d, parent }: { d: DataNode; parent?: DataNode }) {
  const { t } = useI18n();
  const steps = Object.entries(d.steps ?? {});
  return (
    <li className="data-node" data-data-id={d.id}>
      <strong>{parent ? `${parent.id}.` : ''}{d.id}</strong>
      <span className="muted"> ({d.kind ?? 'text'}{d.label ? `, “${d.label}”` : ''}{d.confirm && d.confirm !== 'never' ? `, confirm ${d.confirm}` : ''}{d.required === false ? ', optional' : ''})</span>
      {d.limits && <span className="muted"> · {t('limits')}: {Object.entries(d.limits).map(([k, v]) => `${k} ${v}`).join(', ')}</span>}
      {steps.length > 0 && (
        <dl className="steps">
          {steps.map(([step, prompts]) => (
            <div key={step}>
              <dt>{step}</dt>
              <dd>
                {prompts.length ? (
                  <ol>{prompts.map((p, i) => <li key={i}>{p}</li>)}</ol>
                ) : <span className="muted">—</span>}
              </dd>
            </div>
          ))}
        </dl>
      )}
      {d.subData && d.subData.length > 0 && (
        <ul aria-label={t('subData')}>
          {d.subData.map((s) => <DataNodeView key={s.id} d={s} parent={d} />)}
        </ul>
      )}
    </li>
  );
}

export function DdtPanel({ project, ddt, onClose }: { project: ProjectFile; ddt: string; onClose: () => void }) {
  const { t } = useI18n();
  const def = project.ddts?.[ddt];
  return (
    <section className="ddt-panel" aria-labelledby="ddt-h" role="region">
      <div className="row">
        <h3 id="ddt-h">{t('ddtTitle', { ddt })}</h3>
        {def?.mixedInitiative && <span className="pill">{t('mixedInitiative')}</span>}
        <button type="button" onClick={onClose} autoFocus>{t('closeDdt')}</button>
      </div>
      <ul>{(def?.data ?? []).map((d) => <DataNodeView key={d.id} d={d} />)}</ul>
    </section>
  );
}

export function FlowGraph({ project, current, visited }: { project: ProjectFile; current: string | null; visited: string[] }) {
  const { t } = useI18n();
  const [openDdt, setOpenDdt] = useState<string | null>(null);
  const onOpen = useCallback((d: string) => setOpenDdt(d), []);
  const { nodes, edges } = useMemo(
    () => layoutFlow(project, current, new Set(visited), onOpen), [project, current, visited, onOpen]);
  return (
    <div className="flow-wrap">
      <div className="flow-canvas" data-testid="flow-canvas">
        <ReactFlow key={openDdt ? 'with-panel' : 'alone'} nodes={nodes} edges={edges} nodeTypes={nodeTypes} edgeTypes={edgeTypes} fitView minZoom={0.2}
                   nodesDraggable={false} nodesConnectable={false} proOptions={{ hideAttribution: true }}
                   aria-label={t('flowTitle')}>
          <Background />
          <Controls showInteractive={false} />
        </ReactFlow>
      </div>
      {openDdt && <DdtPanel project={project} ddt={openDdt} onClose={() => setOpenDdt(null)} />}
      <details className="outline">
        <summary>{t('flowTitle')}: outline</summary>
        <ul>
          {(project.flow?.nodes ?? []).map((n) => (
            <li key={n.id} aria-current={n.id === current ? 'step' : undefined}>
              <strong>{n.id}</strong>{n.id === current ? ` (${t('current')})` : visited.includes(n.id) ? ` (${t('visited')})` : ''}
              <ul>
                {(project.flow.edges ?? []).filter((e) => e.from === n.id).map((e, i) => (
                  <li key={i}>→ {e.to}: <code>{e.condition ?? t('noCondition')}</code></li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}

export function FlowView({ simProject, simSource, current, visited }: {
  simProject: string; simSource: ProjectFile | null; current: string | null; visited: string[];
}) {
  const { t } = useI18n();
  const [rows, setRows] = useState<ProjectRow[]>([]);
  const [name, setName] = useState(simProject);
  const [source, setSource] = useState<ProjectFile | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    api.projects().then((r) => {
      const cur = r.filter((x) => x.current);
      setRows(cur);
      setName((n) => n || cur[0]?.name || '');
    }).catch(setError);
  }, []);
  useEffect(() => { if (simProject) setName(simProject); }, [simProject]);
  useEffect(() => {
    if (!name) return;
    if (name === simProject && simSource) { setSource(simSource); return; }
    let live = true;
    setError(null);
    api.project(name).then((d) => { if (live) setSource(d.source); }).catch((e) => { if (live) { setSource(null); setError(e); } });
    return () => { live = false; };
  }, [name, simProject, simSource]);

  const isSim = name === simProject;
  return (
    <div className="screen flow">
      <div className="row">
        <h2>{t('flowTitle')}</h2>
        <label>
          {t('flowProject')}{' '}
          <select value={name} onChange={(e) => setName(e.target.value)}>
            {rows.map((r) => <option key={r.name} value={r.name}>{r.name}</option>)}
            {name && !rows.some((r) => r.name === name) && <option value={name}>{name}</option>}
          </select>
        </label>
        {isSim && current && <span role="status">{t('currentNode')}: <strong data-testid="flow-current">{current}</strong></span>}
      </div>
      <ErrorBanner error={error} />
      {error != null && <p className="muted">{t('flowNeedsSource')}</p>}
      {source && <FlowGraph project={source} current={isSim ? current : null} visited={isSim ? visited : []} />}
    </div>
  );
}
