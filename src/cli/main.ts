#!/usr/bin/env node
// The `heapstream` command. The only module that may exit the process.
import { Command, InvalidArgumentError } from 'commander';
import { runCommand, type RunOptions } from './run.js';
import { validateCommand } from './validate.js';
import { simulateCommand } from './simulate.js';
import { schemaCommand } from './schema.js';
import { HEAPSTREAM_VERSION } from '../component/version.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

const program = new Command('heapstream')
  .description(
    'Collects kubelet metrics from every node and streams them to Kafka, InfluxDB, files and stdout.',
  )
  .version(HEAPSTREAM_VERSION)
  .showHelpAfterError();

program
  .command('run')
  .description('Run the pipeline described by a pipeline file.')
  .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
  .option('--cycles <n>', 'stop after this many cycles (then drain and close the sinks)', positiveInt)
  .option('--log-level <level>', 'override log.level (trace, debug, info, warn, error, silent)')
  .option('-q, --quiet', 'no live status line on the terminal')
  .option('--watch-config', 'reload the pipeline file when it changes (SIGHUP always reloads)')
  .action(async (opts: RunOptions) => {
    process.exitCode = await runCommand(opts);
  });

program
  .command('validate')
  .description('Check a pipeline file and list every problem with its line and column.')
  .option('-c, --config <file>', 'pipeline file', 'pipeline.yaml')
  .action(async (opts: { config: string }) => {
    process.exitCode = await validateCommand(opts);
  });

program
  .command('simulate')
  .description(
    'Start fake kubelets on loopback addresses, serving /stats/summary from real captured payloads.',
  )
  .option('--nodes <n>', 'number of nodes', positiveInt, 3)
  .option('--pods-per-node <n>', 'pods per node (default: the template payload’s own count)', positiveInt)
  .option('--port <port>', 'port shared by every node (0 picks a free one)', (v) => Number(v), 10255)
  .option('--first-address <ip>', 'loopback address of the first node', '127.0.1.1')
  .option('--seed <n>', 'random seed for counter rates and restarts', (v) => Number(v), 1)
  .option('--restart-every <n>', 'mean scrapes between container restarts (0 = never)', (v) => Number(v))
  .option(
    '--control-plane',
    'also start a fake API server and HTTPS kubelets, and write a kubeconfig for them',
  )
  .option(
    '--dir <dir>',
    'with --control-plane: write the kubeconfig, token and certificates here, and keep them',
  )
  .option(
    '--metrics-api <url>',
    'with --control-plane: serve metrics.k8s.io from this metrics_api sink, e.g. https://127.0.0.1:4443',
  )
  .action(async (opts: Parameters<typeof simulateCommand>[0]) => {
    process.exitCode = await simulateCommand(opts);
  });

program
  .command('schema')
  .description('Print the JSON Schema of pipeline files, for editor completion and checks.')
  .option('-c, --config <file>', 'include the types of this pipeline file’s plugins')
  .action(async (opts: { config?: string }) => {
    process.exitCode = await schemaCommand(opts);
  });

await program.parseAsync(process.argv);
// A pipe's buffer holds 64 KiB: what a command wrote beyond that (the schema is larger) is still queued when
// the reader is slower than we are, and exiting now would cut it off. An empty write calls back once the
// writes before it have been handed over (or the reader has gone).
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
// Every command has finished its work and closed what it opened; exit now rather than wait for a library's
// idle keep-alive timer to let the event loop drain.
process.exit(process.exitCode ?? 0);
