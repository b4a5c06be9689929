import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'vitest';
import { projectRoot } from '../../src/config';

/** Where scripts/install-deploy-tools.sh puts the Go tools (kubeconform, actionlint). */
export const toolsBin = path.join(projectRoot, '.tools', 'go', 'bin');
/** The Kubernetes JSON schemas the same script unpacks (no network needed at test time). */
export const kubernetesSchemas = path.join(projectRoot, '.tools', 'kubernetes-json-schema');
const installHint = 'bash scripts/install-deploy-tools.sh';

/** A tool binary in .tools/go/bin or on PATH, or undefined. */
export function locateTool(name: string): string | undefined {
  const local = path.join(toolsBin, name);
  if (fs.existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * A describe() block that needs external tools (and files). When one is missing it is skipped
 * with a message saying how to install it, except in CI (CI=true), where it fails: CI installs
 * every tool first (.ci/run), so a missing one there is a broken install, not a reason to skip.
 */
export function describeWithTools(
  title: string,
  tools: readonly string[],
  body: (bins: Record<string, string>) => void,
  files: readonly string[] = [],
): void {
  const bins: Record<string, string> = {};
  const missing: string[] = [];
  for (const t of tools) {
    const found = locateTool(t);
    if (found) bins[t] = found;
    else missing.push(t);
  }
  for (const f of files) if (!fs.existsSync(f)) missing.push(path.relative(projectRoot, f));
  if (missing.length === 0) {
    describe(title, () => body(bins));
    return;
  }
  const reason = `${missing.join(', ')} not installed (install: ${installHint})`;
  if (process.env.CI === 'true') {
    describe(title, () => {
      it('has its tools installed (CI installs them in .ci/run)', () => {
        throw new Error(reason);
      });
    });
  } else {
    console.warn(`skipping "${title}": ${reason}`);
    describe.skip(`${title} (skipped: ${reason})`, () => body(bins));
  }
}

/** Runs a tool; returns its output, or throws an error carrying its output (shown by vitest). */
export function runTool(
  bin: string,
  args: readonly string[],
  cwd = projectRoot,
  env: Record<string, string> = {},
): string {
  try {
    return execFileSync(bin, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${path.basename(bin)} ${args.join(' ')} failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
  }
}
