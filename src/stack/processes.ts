import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** A port that is held by a process this project did not start. */
export class PortInUseError extends Error {
  constructor(
    readonly service: string,
    readonly port: number,
    readonly hint: string,
  ) {
    super(`${service}: port 127.0.0.1:${port} is already in use by another process. ${hint}`);
    this.name = 'PortInUseError';
  }
}

/** A service that did not become usable in time; carries the tail of its log. */
export class ServiceStartError extends Error {
  constructor(
    readonly service: string,
    readonly logFile: string,
    readonly logTail: string,
    reason: string,
  ) {
    super(
      `${service} did not become ready: ${reason}\n--- last lines of ${logFile} ---\n${logTail}`,
    );
    this.name = 'ServiceStartError';
  }
}

/** Resolves true when nothing listens on 127.0.0.1:port. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      server.close(() => resolve(true)),
    );
  });
}

/** Asks the OS for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(pidFile, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid in the file if that process is still running. */
export function runningPid(pidFile: string): number | undefined {
  const pid = readPid(pidFile);
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

export function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts a long-running process detached from this one (its own process group), stdout and
 * stderr appended to logFile, pid written to pidFile. It keeps running after this process exits.
 */
export function spawnDetached(
  command: string,
  args: readonly string[],
  opts: {
    logFile: string;
    pidFile: string;
    env: NodeJS.ProcessEnv;
    cwd: string;
    /** run as this user (only possible as root; PostgreSQL refuses to run as root) */
    user?: { uid: number; gid: number } | undefined;
  },
): number {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const out = fs.openSync(opts.logFile, 'a');
  fs.writeSync(out, `\n--- ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', out, out],
    ...(opts.user ?? {}),
  });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  child.unref();
  fs.writeFileSync(opts.pidFile, `${child.pid}\n`);
  return child.pid;
}

/**
 * `stopSignal` (SIGTERM by default) to the process group, then SIGKILL after the grace period.
 * Removes the pid file.
 */
export async function stopProcess(
  pidFile: string,
  graceMs = 15_000,
  stopSignal: NodeJS.Signals = 'SIGTERM',
): Promise<boolean> {
  const pid = runningPid(pidFile);
  if (pid === undefined) {
    fs.rmSync(pidFile, { force: true });
    return false;
  }
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal(stopSignal);
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) signal('SIGKILL');
  while (isAlive(pid)) await sleep(50);
  fs.rmSync(pidFile, { force: true });
  return true;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `probe` until it resolves true, the process dies, or the timeout passes.
 * @throws ServiceStartError with the log tail.
 */
export async function waitUntilReady(
  service: string,
  probe: () => Promise<boolean>,
  opts: { pidFile: string; logFile: string; timeoutMs: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    if (runningPid(opts.pidFile) === undefined) {
      throw new ServiceStartError(service, opts.logFile, tail(opts.logFile), 'the process exited');
    }
    await sleep(250);
  }
  throw new ServiceStartError(
    service,
    opts.logFile,
    tail(opts.logFile),
    `not ready after ${opts.timeoutMs / 1000} s`,
  );
}
