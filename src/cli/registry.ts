import os from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config';
import { mlflowClientFromConfig } from '../mlflow/from-config';
import { publishModelCard, readModelCard } from '../pipeline/model-card-record';
import { promoteToProduction } from '../pipeline/promotion-gate';
import { describeRegistry, rollback } from '../pipeline/registry';

const actor = (by: string | undefined): string => by ?? `cli:${os.userInfo().username}`;

export function registerRegistry(program: Command): void {
  program
    .command('models')
    .argument('[version]', "show this version's model card instead of the list")
    .description(
      "registered model versions, their metrics, the aliases and the promotion history; with VERSION, that version's model card",
    )
    .option('--json', 'print JSON')
    .action(async (version: string | undefined, o: { json?: boolean }) => {
      const config = loadConfig();
      if (version !== undefined) {
        const r = await readModelCard(
          mlflowClientFromConfig(config),
          config.mlflow.registeredModel,
          version,
        );
        process.stdout.write(
          o.json
            ? `${JSON.stringify(r.card, null, 2)}\n`
            : `${r.markdown}${r.logged ? '' : '\n(not logged with the version yet: built now from its run)\n'}`,
        );
        return;
      }
      const r = await describeRegistry(
        mlflowClientFromConfig(config),
        config.mlflow.registeredModel,
      );
      if (o.json) {
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return;
      }
      const out: string[] = [
        `${r.name}   ${
          Object.entries(r.aliases)
            .map(([a, v]) => `${a} -> v${v}`)
            .join('   ') || '(no aliases)'
        }`,
        '',
      ];
      out.push(
        'version  created              holdout MAE  data md5   aliases              last decision',
      );
      for (const v of r.versions) {
        const decision = v.tags['production.decision']
          ? `${v.tags['production.decision']}: ${v.tags['production.reason'] ?? ''}`
          : '';
        out.push(
          `${`v${v.version}`.padEnd(8)} ${(v.createdAt ?? '').slice(0, 19).padEnd(20)} ${(v.tags.holdout_mae ? Number(v.tags.holdout_mae).toFixed(2) : '-').padStart(11)}  ${(v.tags['data.md5'] ?? '-').slice(0, 8).padEnd(9)}  ${v.aliases.join(',').padEnd(20)} ${decision.slice(0, 90)}`,
        );
      }
      out.push('', 'history:');
      for (const e of r.history) {
        out.push(
          `  #${e.seq} ${e.at} ${e.action.padEnd(8)} ${e.alias} ${e.from ? `v${e.from}` : '-'} -> v${e.to}  by ${e.by}: ${e.reason}`,
        );
      }
      process.stdout.write(`${out.join('\n')}\n`);
    });

  program
    .command('promote')
    .argument('<version>', 'model version to make production')
    .description(
      'point the production alias at a version (a human decision: the policy is not applied); recorded in the history. ' +
        'Refused for a run from a dirty tree or with an unpinned data file unless --force',
    )
    .option('--reason <text>', 'why (recorded; required with --force)')
    .option('--by <who>', 'who (recorded; default cli:<user>)')
    .option('--force', 'promote a version that cannot be reproduced (recorded as forced)')
    .action(async (version: string, o: { reason?: string; by?: string; force?: boolean }) => {
      if (o.force && !o.reason?.trim())
        throw new InvalidArgumentError('--force needs --reason "why" (it goes into the history)');
      const config = loadConfig();
      const mlflow = mlflowClientFromConfig(config);
      const r = await promoteToProduction(mlflow, config.mlflow.registeredModel, version, {
        by: actor(o.by),
        reason: o.reason ?? 'manual promotion',
        force: o.force === true,
      });
      if (r.changed) await publishModelCard(mlflow, config.mlflow.registeredModel, version);
      process.stdout.write(
        r.changed
          ? `production: ${r.from ? `v${r.from}` : 'none'} -> v${version}${r.forced ? ' (forced)' : ''}\n`
          : `v${version} is already production\n`,
      );
    });

  program
    .command('rollback')
    .description(
      'move production back to the previous production version (or --to VERSION); recorded in the history',
    )
    .option('--to <version>', 'version to roll back to')
    .option('--reason <text>', 'why (recorded)')
    .option('--by <who>', 'who (recorded; default cli:<user>)')
    .action(async (o: { to?: string; reason?: string; by?: string }) => {
      const config = loadConfig();
      const mlflow = mlflowClientFromConfig(config);
      const r = await rollback(mlflow, config.mlflow.registeredModel, {
        to: o.to,
        by: actor(o.by),
        reason: o.reason,
      });
      // the card states the production decision, which the rollback just changed
      await publishModelCard(mlflow, config.mlflow.registeredModel, r.to);
      process.stdout.write(`production: v${r.from} -> v${r.to}\n`);
    });
}
