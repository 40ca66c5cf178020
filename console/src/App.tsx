/* App.tsx: the console's shell: language from the browser, the four
 * sections as tabs (keyboard: Tab, arrows, Home/End), one simulator shared
 * by the Simulator and Flow screens, and an error boundary so a failure
 * shows a message, never a blank screen. */
import { Component, useMemo, useRef, useState, type ReactNode } from 'react';
import { I18n, browserLang, makeT, useI18n, type Key, type Lang } from './i18n';
import { useSimulator } from './useSimulator';
import { ProjectsView } from './components/ProjectsView';
import { SimulatorView } from './components/SimulatorView';
import { FlowView } from './components/FlowView';
import { HealthView } from './components/HealthView';

type Tab = 'projects' | 'simulator' | 'flow' | 'health';
const TABS: [Tab, Key][] = [
  ['projects', 'tabProjects'], ['simulator', 'tabSimulator'], ['flow', 'tabFlow'], ['health', 'tabHealth'],
];

class Boundary extends Component<{ children: ReactNode; message: (m: string) => string }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) { return { error }; }
  render() {
    if (this.state.error) {
      return (
        <div className="banner error" role="alert">
          {this.props.message(this.state.error.message)}{' '}
          <button type="button" onClick={() => this.setState({ error: null })}>↻</button>
        </div>
      );
    }
    return this.props.children;
  }
}

function Shell() {
  const { t } = useI18n();
  const [tab, setTab] = useState<Tab>(() => {
    const h = typeof location !== 'undefined' ? location.hash.slice(1) : '';
    return (TABS.some(([k]) => k === h) ? h : 'projects') as Tab;
  });
  const sim = useSimulator();
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const go = (k: Tab) => {
    setTab(k);
    if (typeof history !== 'undefined') history.replaceState(null, '', `#${k}`);
  };
  const onKey = (e: React.KeyboardEvent, i: number) => {
    let j = -1;
    if (e.key === 'ArrowRight') j = (i + 1) % TABS.length;
    else if (e.key === 'ArrowLeft') j = (i + TABS.length - 1) % TABS.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = TABS.length - 1;
    if (j >= 0) { e.preventDefault(); go(TABS[j][0]); refs.current[j]?.focus(); }
  };
  return (
    <>
      <header className="top">
        <h1>{t('appTitle')}</h1>
        <nav aria-label={t('nav')}>
          <div role="tablist" aria-label={t('nav')}>
            {TABS.map(([k, label], i) => (
              <button key={k} type="button" role="tab" id={`tab-${k}`} aria-controls={`panel-${k}`}
                      aria-selected={tab === k} tabIndex={tab === k ? 0 : -1}
                      ref={(el) => { refs.current[i] = el; }}
                      onClick={() => go(k)} onKeyDown={(e) => onKey(e, i)}>
                {t(label)}
              </button>
            ))}
          </div>
        </nav>
      </header>
      <main id={`panel-${tab}`} role="tabpanel" aria-labelledby={`tab-${tab}`}>
        <Boundary message={(m) => t('crashed', { message: m })} key={tab}>
          {tab === 'projects' && <ProjectsView />}
          {tab === 'simulator' && <SimulatorView sim={sim} />}
          {tab === 'flow' && (
            <FlowView simProject={sim.project} simSource={sim.source} current={sim.currentNode} visited={sim.path} />
          )}
          {tab === 'health' && <HealthView />}
        </Boundary>
      </main>
    </>
  );
}

export function App({ lang }: { lang?: Lang }) {
  const l = lang ?? browserLang();
  const value = useMemo(() => ({ lang: l, t: makeT(l) }), [l]);
  if (typeof document !== 'undefined') document.documentElement.lang = l;
  return (
    <I18n.Provider value={value}>
      <Shell />
    </I18n.Provider>
  );
}
