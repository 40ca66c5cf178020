/* jsonpath.ts: where a compile error's JSON path (`flow.edges[0].to`,
 * `ddts.cliente.data[1].steps.start[0]`) sits in the project file's text,
 * so the read-only view can highlight its lines.  A small scanner over the
 * text records the span of every value by path; it tolerates nothing the
 * server would accept either, and on a syntax error keeps what it found. */

export interface Span { start: number; end: number }

export function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\["([^"]*)"\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(m[3]);
    else out.push(m[1]);
  }
  return out;
}

export function keyOf(segs: (string | number)[]): string {
  return segs.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('');
}

/* Every value's span, keyed by keyOf(path); an object member's span starts
 * at its key so the highlighted line shows the field's name. */
export function indexSpans(text: string): Map<string, Span> {
  const spans = new Map<string, Span>();
  let i = 0;
  const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  const str = (): string => {
    let s = '';
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') { s += text[i + 1] ?? ''; i += 2; continue; }
      s += text[i++];
    }
    i++;
    return s;
  };
  const value = (segs: (string | number)[], from: number): void => {
    ws();
    const c = text[i];
    const start = from >= 0 ? from : i;
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; }
      else {
        for (;;) {
          ws();
          if (text[i] !== '"') throw new Error('key expected');
          const kstart = i;
          const k = str();
          ws();
          if (text[i] !== ':') throw new Error('colon expected');
          i++;
          value([...segs, k], kstart);
          ws();
          if (text[i] === ',') { i++; continue; }
          if (text[i] === '}') { i++; break; }
          throw new Error('comma expected');
        }
      }
    } else if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; }
      else {
        for (let n = 0; ; n++) {
          value([...segs, n], -1);
          ws();
          if (text[i] === ',') { i++; continue; }
          if (text[i] === ']') { i++; break; }
          throw new Error('comma expected');
        }
      }
    } else if (c === '"') {
      str();
    } else {
      const m = /^(true|false|null|-?\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(text.slice(i, i + 64));
      if (!m) throw new Error('value expected');
      i += m[0].length;
    }
    spans.set(keyOf(segs), { start, end: i });
  };
  try { value([], -1); } catch { /* keep the spans found so far */ }
  return spans;
}

/* The span of the longest prefix of `path` found in the text. */
export function locate(spans: Map<string, Span>, path: string): Span | null {
  const segs = pathSegments(path);
  for (let n = segs.length; n >= 0; n--) {
    const s = spans.get(keyOf(segs.slice(0, n)));
    if (s) return s;
  }
  return null;
}

export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

/* First and last line (1-based) of an error's path in the text, or null. */
export function linesOfPath(text: string, spans: Map<string, Span>, path: string): [number, number] | null {
  const s = locate(spans, path);
  if (!s) return null;
  const a = lineOf(text, s.start);
  const b = lineOf(text, Math.max(s.start, s.end - 1));
  // a whole object or array: mark its first line only, or the view turns red
  return [a, b - a > 3 ? a : b];
}
