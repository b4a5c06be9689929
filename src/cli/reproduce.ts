import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig, projectRoot } from '../config';
import { mlflowClientFromConfig } from '../mlflow/from-config';
import { diffVersions, formatVersionDiff } from '../pipeline/diff';
import { loadRunSummary } from '../pipeline/model-card-record';
import { formatReproduceReport, reproduceRun, type ReproduceTarget } from '../pipeline/reproduce';
import { runTrainingPipeline } from '../pipeline/start';
import type { ReproductionResult, TrainingPipelineInput } from '../pipeline/types';
import { toolPaths } from '../stack/tools';
import { pipelineProgressPrinter } from './progress';

const integer = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer`);
  return n;
};

export function registerReproduce(program: Command): void {
  program
    .command('reproduce')
    .argument('[run-id]', 'MLflow run id (or use --model / --alias)')
    .description(
      're-create a run from its recorded references (data by md5 through DVC, config, seed, commit) and compare every step digest, the model bytes and the metrics; logged to the run',
    )
    .option('--model <version>', 'the run behind this registered version')
    .option('--alias <alias>', 'the run behind the version this alias points at, e.g. production')
    .option('--at-head', "re-run with this checkout's code even when its commit is not the run's")
    .option('--seed <n>', 'what-if: another seed than the recorded one', integer('--seed'))
    .option(
      '--data-dvc <file>',
      'what-if: the dataset this .dvc file pins instead of the recorded one',
    )
    .option('--no-record', 'do not log the result to the run')
    .option(
      '--temporal',
      'run the steps as the trainingPipeline workflow on Temporal (a worker must run); it stops after evaluate and registers nothing',
    )
    .option('--json', 'print the report as JSON')
    .action(
      async (
        runId: string | undefined,
        o: {
          model?: string;
          alias?: string;
          atHead?: boolean;
          seed?: number;
          dataDvc?: string;
          record: boolean;
          temporal?: boolean;
          json?: boolean;
        },
      ) => {
        const given = [runId, o.model, o.alias].filter((v) => v !== undefined);
        if (given.length !== 1)
          throw new InvalidArgumentError(
            'give exactly one of RUN_ID, --model VERSION, --alias NAME',
          );
        const target: ReproduceTarget = runId
          ? { runId }
          : o.model
            ? { version: o.model }
            : { alias: o.alias! };
        const config = loadConfig();
        const tools = toolPaths(config.toolsDir);
        const mlflow = mlflowClientFromConfig(config);
        const report = await reproduceRun(
          {
            mlflow,
            registeredModel: config.mlflow.registeredModel,
            projectRoot,
            dvcBin: tools.dvc,
            env: config.childEnv,
            ...(o.temporal
              ? {
                  temporal: (input: TrainingPipelineInput) =>
                    runTrainingPipeline<ReproductionResult>(
                      config,
                      input,
                      o.json ? undefined : pipelineProgressPrinter(),
                      `reproduce-${input.reproduces ?? ''}-${Date.now().toString(36)}`,
                    ),
                }
              : {}),
            tools: {
              dvc: tools.dvc,
              temporal: tools.temporal,
              mlflowVersion: async () => (await mlflow.checkServer()).raw,
            },
          },
          target,
          {
            atHead: o.atHead === true,
            record: o.record,
            ...(o.seed !== undefined ? { seed: o.seed } : {}),
            ...(o.dataDvc ? { dataDvcFile: o.dataDvc } : {}),
          },
        );
        process.stdout.write(
          o.json ? `${JSON.stringify(report, null, 2)}\n` : formatReproduceReport(report),
        );
        if (!report.reproduced) process.exitCode = 2;
      },
    );

  program
    .command('diff')
    .argument('<version-a>', 'registered version')
    .argument('<version-b>', 'registered version')
    .description(
      'what changed between two versions: data, code, config, metrics, selected features',
    )
    .option('--json', 'print JSON')
    .action(async (a: string, b: string, o: { json?: boolean }) => {
      const config = loadConfig();
      const mlflow = mlflowClientFromConfig(config);
      const name = config.mlflow.registeredModel;
      const [sa, sb] = await Promise.all([
        loadRunSummary(mlflow, name, a),
        loadRunSummary(mlflow, name, b),
      ]);
      const d = diffVersions(sa, sb);
      process.stdout.write(o.json ? `${JSON.stringify(d, null, 2)}\n` : formatVersionDiff(d));
    });
}
