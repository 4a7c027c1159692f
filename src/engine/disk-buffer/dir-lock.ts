import { randomUUID } from 'node:crypto';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Who this process is in a lock file: its pid alone would repeat (pid 1 in every container). */
const PROCESS_TOKEN = `${process.pid} ${randomUUID()}`;
const LOCK_FILE = 'lock';
const RETRY_MS = 50;
/**
 * How long a runner waits for another runner of this process to release the directory before taking it over: a
 * closing runner releases it within its shutdown_timeout (30 s by default) plus the write in flight; one that is
 * never closed (left behind by a pipeline that failed to start) must not block its successor forever.
 */
export const SAME_PROCESS_WAIT_MS = 120_000;

/**
 * Claims a buffer directory for one DiskQueue. Within this process (a reload, whose changed sink's old runner is
 * still closing the buffer its successor opens) it waits for the holder to release it, up to SAME_PROCESS_WAIT_MS;
 * a lock left by another
 * process (one that was killed, or another heapstream given the same directory) is taken over and reported through
 * `onTakeOver`, so that start-up never fails because of a file left behind.
 *
 * @example
 * const release = await lockDirectory(dir, (holder) => logger.warn({ holder }, 'took over'));
 * …; await release();
 */
export async function lockDirectory(
  dir: string,
  onTakeOver: (holder: string) => void,
): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  const giveUpAt = Date.now() + SAME_PROCESS_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(PROCESS_TOKEN);
      await handle.close();
      return () => unlink(path).catch(() => undefined);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EEXIST') throw err;
    }
    const holder = await readFile(path, 'utf8').catch(() => '');
    if (holder === PROCESS_TOKEN && Date.now() < giveUpAt) {
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      continue;
    }
    onTakeOver(holder.split(' ')[0] ?? '');
    await unlink(path).catch(() => undefined);
  }
}
