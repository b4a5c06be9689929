#!/usr/bin/env node
import { Command } from 'commander';
import { registerStack } from './stack';

const program = new Command('icecream')
  .description('Ice cream sales forecasting: train, track, orchestrate and serve')
  .showHelpAfterError();

registerStack(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
