import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { killOnExit } from './cleanup.js';
import { ServiceError } from './errors.js';

/** How a long-running service is launched: no shell, arguments passed as they are. */
export interface ProcessSpec {
  /** Short name for messages: `kafka`, `influxdb`, `victoria-metrics`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Where stdout and stderr go (appended across restarts). */
  readonly logFile: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

const TAIL_CHARS = 16_384;

/** Keeps only the end of a growing text, enough for an error message. */
class LogTail {
  private text = '';
  append(chunk: string): void {
    this.text = (this.text + chunk).slice(-TAIL_CHARS);
  }
  lastLines(count: number): string {
    return this.text.trimEnd().split('\n').slice(-count).join('\n');
  }
}

/**
 * One service process that can be started, probed, stopped and started again, with its output in a log file.
 *
 * @example
 * const proc = new ManagedProcess({ name: 'influxdb', command: 'influxd', args: ['-config', cfg], logFile });
 * proc.start();
 * await proc.waitUntilReady(() => ping(url), 60_000);
 * await proc.stop();
 */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private log: WriteStream | undefined;
  private readonly tail = new LogTail();

  constructor(private readonly spec: ProcessSpec) {}

  /** True from spawn until the process has exited. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the process; its output goes to the log file and the in-memory tail. */
  start(): void {
    if (this.running) throw new ServiceError(`${this.spec.name}: start() while already running`);
    const log = createWriteStream(this.spec.logFile, { flags: 'a' });
    this.log = log;
    const child = spawn(this.spec.command, [...this.spec.args], {
      cwd: this.spec.cwd,
      env: this.spec.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    killOnExit(child);
    const onData = (chunk: Buffer): void => {
      log.write(chunk);
      this.tail.append(chunk.toString('utf8'));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        this.tail.append(`\n[spawn ${this.spec.command} failed: ${err.message}]\n`);
        resolve();
      });
      child.once('close', (code, signal) => {
        this.tail.append(`\n[${this.spec.name} exited: code ${code ?? '-'} signal ${signal ?? '-'}]\n`);
        log.end();
        resolve();
      });
    });
  }

  /**
   * Polls `probe` until it returns true. Fails with the log tail if `timeoutMs` passes or the process exits first.
   */
  async waitUntilReady(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastProbeError: unknown;
    while (Date.now() < deadline) {
      if (!this.running) throw this.failure('exited before it was ready');
      try {
        if (await probe()) return;
      } catch (err) {
        lastProbeError = err;
      }
      await sleep(300);
    }
    throw this.failure(`did not answer within ${Math.round(timeoutMs / 1000)}s`, lastProbeError);
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Resolves once the process is gone. */
  async stop(graceMs = 30_000): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return this.exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL, as a crash would. Resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.child !== undefined && this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** The last `count` lines the process wrote. */
  lastLogLines(count = 30): string {
    return this.tail.lastLines(count);
  }

  /** A ServiceError naming the service, with the end of its log and the log file's path. */
  failure(what: string, cause?: unknown): ServiceError {
    const causeText = cause instanceof Error ? ` (last probe error: ${cause.message})` : '';
    return new ServiceError(
      `${this.spec.name} ${what}${causeText}; full log: ${this.spec.logFile}; last lines:\n${this.lastLogLines()}`,
      { cause },
    );
  }
}

/** Output of a command run to completion. */
export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to completion (no shell) and rejects with its output's end if it exits non-zero.
 *
 * @example
 * await runCommand('apt-get', ['install', '-y', 'influxdb'], { what: 'installing influxdb' });
 */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: { readonly what: string; readonly cwd?: string; readonly env?: NodeJS.ProcessEnv },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killOnExit(child);
    const stdout = new LogTail();
    const stderr = new LogTail();
    child.stdout.on('data', (chunk: Buffer) => stdout.append(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => stderr.append(chunk.toString('utf8')));
    child.once('error', (err) =>
      reject(new ServiceError(`${options.what}: cannot run ${command}: ${err.message}`, { cause: err })),
    );
    child.once('close', (code, signal) => {
      const result = { stdout: stdout.lastLines(200), stderr: stderr.lastLines(200) };
      if (code === 0) return resolve(result);
      const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-25).join('\n');
      reject(
        new ServiceError(
          `${options.what}: \`${command} ${args.join(' ')}\` failed (code ${code ?? '-'}, signal ${signal ?? '-'}):\n${output}`,
        ),
      );
    });
  });
}

/** Writes one progress line to stderr, where vitest shows it even for passing tests. */
export function progress(message: string): void {
  process.stderr.write(`[test services] ${message}\n`);
}
