#!/usr/bin/env node
import { Command } from 'commander';
import { registerEvaluate } from './evaluate';
import { registerRegistry } from './registry';
import { registerReproduce } from './reproduce';
import { registerRun } from './run';
import { registerSchedule } from './schedule';
import { registerSimulate } from './simulate';
import { registerStack } from './stack';
import { registerSteps } from './steps';

const program = new Command('icecream')
  .description('Ice cream sales forecasting: train, track, orchestrate and serve')
  .showHelpAfterError();

registerStack(program);
registerRun(program);
registerSteps(program);
registerEvaluate(program);
registerRegistry(program);
registerSchedule(program);
registerSimulate(program);
registerReproduce(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
