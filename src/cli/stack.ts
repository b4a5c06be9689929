import type { Command } from 'commander';
import { loadConfig } from '../config';
import { serviceNames, stackDown, stackStatus, stackUp, type ServiceName } from '../stack/stack';

function parseServices(names: string[]): ServiceName[] {
  if (names.length === 0) return [...serviceNames];
  for (const n of names) {
    if (!(serviceNames as readonly string[]).includes(n)) {
      throw new Error(`unknown service "${n}" (expected one of: ${serviceNames.join(', ')})`);
    }
  }
  return names as ServiceName[];
}

export function registerStack(program: Command): void {
  const stack = program
    .command('stack')
    .description('the local Temporal dev server, MLflow tracking server and PostgreSQL');
  stack
    .command('up')
    .description(
      'start Temporal, MLflow and PostgreSQL (unless DATABASE_URL is set) on 127.0.0.1 (re-uses running ones) and wait until each answers',
    )
    .argument('[services...]', `some of: ${serviceNames.join(', ')} (default: all)`)
    .option('--json', 'print the status as JSON')
    .action(async (names: string[], opts: { json?: boolean }) => {
      const config = loadConfig();
      const started = await stackUp(
        config,
        (m) => process.stderr.write(`${m}\n`),
        parseServices(names),
      );
      printStatus(await stackStatus(config), opts.json === true, started);
    });
  stack
    .command('down')
    .argument('[services...]', `some of: ${serviceNames.join(', ')} (default: all)`)
    .description('stop the services this project started (their data stays under .local/)')
    .action(async (names: string[]) => {
      const stopped = await stackDown(loadConfig(), parseServices(names));
      process.stdout.write(
        stopped.length ? `stopped: ${stopped.join(', ')}\n` : 'nothing was running\n',
      );
    });
  stack
    .command('status')
    .description('which services run, their pids, URLs and logs')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const status = await stackStatus(loadConfig());
      printStatus(status, opts.json === true);
      if (!status.every((s) => s.ready)) process.exitCode = 3;
    });
}

function printStatus(
  status: Awaited<ReturnType<typeof stackStatus>>,
  json: boolean,
  started: readonly string[] = [],
): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return;
  }
  for (const s of status) {
    const state =
      s.pid === undefined ? 'stopped' : s.ready ? 'ready' : 'starting (not answering yet)';
    const note = started.includes(s.name) ? ' (started now)' : '';
    process.stdout.write(
      `${s.name.padEnd(9)} ${state}${note}${s.pid ? `  pid ${s.pid}` : ''}\n          api ${s.url}${s.uiUrl ? `  ui ${s.uiUrl}` : ''}\n          log ${s.logFile}\n`,
    );
  }
}
