import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

// The test process's own exit is the one moment every started service must go, whoever forgot to stop it, so
// the live children and temp dirs are tracked here, per process, and only the exit/signal hooks read the set.
const liveChildren = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let hooksInstalled = false;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function killAllNow(): void {
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  liveChildren.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllNow();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  // Re-raise so the process still ends the way it would have without us, unless someone else handles the signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAllNow);
  for (const s of SIGNALS) process.once(s, onSignal);
}

/**
 * Kills `child` (SIGKILL) if it is still running when the test process exits or is interrupted.
 *
 * @example
 * const child = spawn('influxd', ['-config', path]);
 * killOnExit(child);
 */
export function killOnExit(child: ChildProcess): void {
  installHooks();
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/**
 * Removes `dir` (recursively) when the test process exits, after its services are killed.
 *
 * @example
 * removeOnExit(makeServiceTempDir('kafka'));
 */
export function removeOnExit(dir: string): void {
  installHooks();
  tempDirs.add(dir);
}
