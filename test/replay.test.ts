import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { installTemporalLogging } from '../src/worker/worker';

// Replay safety: the saved histories of the shipped workflow versions (completed, failed,
// cancelled; test/histories/*.binpb, binary protobuf) must replay on the current workflow code. A change that
// alters the commands a running workflow would issue fails here, in CI, instead of in production:
// guard such changes with patched() (src/workflows/README.md). To add histories of a new version,
// run `ICECREAM_WRITE_HISTORIES=1 npx vitest run test/workflow.test.ts` and commit them.
const dir = path.join(__dirname, 'histories');
const workflowsPath = path.join(__dirname, '..', 'src', 'workflows');

describe('workflow replay', () => {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.binpb'));

  it('has saved histories of the completed, failed and cancelled paths', () => {
    expect(files.sort()).toEqual(
      expect.arrayContaining([
        'training-pipeline-cancelled.binpb',
        'training-pipeline-completed.binpb',
        'training-pipeline-failed.binpb',
      ]),
    );
  });

  it('replays every saved history on the current workflow code without nondeterminism', async () => {
    installTemporalLogging('WARN');
    const histories = files.map((f) => ({
      workflowId: f.replace(/\.binpb$/, ''),
      history: temporal.api.history.v1.History.decode(fs.readFileSync(path.join(dir, f))),
    }));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowsPath }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
