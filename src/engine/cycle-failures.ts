import type { Clock } from '../component/clock.js';
import { LogLimiter } from '../component/log-limiter.js';
import type { Logger } from '../component/logger.js';
import type { CycleEnd, NodeFailure, PipelineEvent } from '../model/types.js';

/** At most one "no node answered" line per this interval; the next carries how many were held back. */
const INTERVAL_MS = 60_000;

/**
 * Says loudly, at error level, when a cycle's nodes all failed: each node's failure is only a warning (one node
 * down is normal), but a cycle with none answering writes nothing at all, and the person at the terminal should
 * not have to infer that from a quiet sink. Names the most common reason and one node's message. Rate-limited.
 *
 * @example
 * const report = noNodeAnsweredReporter(logger, clock);
 * events$.subscribe((event) => report(event));
 * // error: cycle 3: none of the 3 nodes answered (tls: 3); e.g. node n1: … certificate …
 */
export function noNodeAnsweredReporter(logger: Logger, clock: Clock): (event: PipelineEvent) => void {
  const limiter = new LogLimiter(logger, clock, INTERVAL_MS);
  return (event) => {
    if (event.kind !== 'cycle_end') return;
    if (event.nodesAnswered > 0 || event.nodesExpected === 0) {
      // Answers again: the next cycle with none is news, logged at once.
      if (event.nodesAnswered > 0) limiter.clear('no_node_answered');
      return;
    }
    limiter.log(
      'error',
      'no_node_answered',
      { cycle: event.cycle, nodes: event.nodesExpected, reasons: reasonCounts(event.failures) },
      describeNoAnswer(event),
    );
  };
}

/**
 * The line for a cycle in which no node answered.
 *
 * @example
 * describeNoAnswer(mark) // 'cycle 3: none of the 3 nodes answered (tls: 3); e.g. node n1: TLS handshake failed'
 */
export function describeNoAnswer(mark: CycleEnd): string {
  const counts = Object.entries(reasonCounts(mark.failures)).sort((a, b) => b[1] - a[1]);
  const reasons = counts.map(([reason, n]) => `${reason}: ${n}`).join(', ');
  const top = counts[0]?.[0];
  const example = mark.failures.find((f) => f.reason === top);
  const nodes = `${mark.nodesExpected} node${mark.nodesExpected === 1 ? '' : 's'}`;
  const named = example?.message.startsWith(`node ${example.node}`) === true;
  const why =
    example === undefined ? '' : `; e.g. ${named ? '' : `node ${example.node}: `}${example.message}`;
  return `cycle ${mark.cycle}: none of the ${nodes} answered${reasons === '' ? '' : ` (${reasons})`}${why}`;
}

function reasonCounts(failures: readonly NodeFailure[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of failures) counts[f.reason] = (counts[f.reason] ?? 0) + 1;
  return counts;
}
