import { Observable, Subject } from 'rxjs';
import type { CycleEnd } from '../model/types.js';
import type { SinkRunner } from './sink-runner.js';

/** Cycles waiting for some sinks at once before the oldest is forgotten (a sink that closed never reports it). */
const MAX_WAITING = 256;

/**
 * The source's `delivered` stream (see SourceContext): each cycle mark once every sink runner of the pipeline is
 * done with everything that came before it. Runners are asked to report their marks only once a source
 * subscribes, so a pipeline whose source does not care keeps its runners as they were (marks skipped by sinks
 * without cycleEnd). Marks are matched by cluster and cycle, not identity: processors may pass a copy on.
 *
 * @example
 * const delivered = deliveredMarks(runners); // SourceContext.delivered
 */
export function deliveredMarks(runners: readonly SinkRunner[]): Observable<CycleEnd> {
  const marks = new Subject<CycleEnd>();
  const waiting = new Map<string, number>();
  let wired = false;
  const settled = (mark: CycleEnd): void => {
    const key = (mark.cluster ?? '') + '\u0000' + String(mark.cycle);
    const count = (waiting.get(key) ?? 0) + 1;
    if (count < runners.length) {
      waiting.set(key, count);
      if (waiting.size > MAX_WAITING) waiting.delete(waiting.keys().next().value as string);
      return;
    }
    waiting.delete(key);
    marks.next(mark);
  };
  return new Observable<CycleEnd>((subscriber) => {
    if (!wired) {
      wired = true;
      for (const runner of runners) runner.reportSettledMarks(settled);
    }
    return marks.subscribe(subscriber);
  });
}
