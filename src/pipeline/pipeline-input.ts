import { z } from 'zod';
import { MODEL_FAMILIES } from '../ml/types';
import type { TrainingPipelineInput } from './types';

/** A `trainingPipeline` input given as JSON (a CLI flag) is not valid. */
export class PipelineInputError extends Error {
  constructor(
    readonly where: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid ${where}: ${problems.join('; ')}`);
    this.name = 'PipelineInputError';
  }
}

const positiveInt = z.number().int().positive();
const family = z.enum(MODEL_FAMILIES);

const schema = z.strictObject({
  dataPath: z.string().min(1).optional(),
  dvcFile: z.string().min(1).optional(),
  columns: z
    .strictObject({
      date: z.string().min(1),
      target: z.string().min(1),
      temperature: z.string().min(1),
      temperatureScale: z.number().positive().optional(),
      covariates: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  holdout: positiveInt.optional(),
  family: family.optional(),
  params: z.record(z.string(), z.number()).optional(),
  families: z.array(family).min(1).optional(),
  budget: positiveInt.optional(),
  folds: z.number().int().min(2).optional(),
  seed: z.number().int().optional(),
  coverage: z.number().gt(0).lt(1).optional(),
  minImprovement: z.number().min(0).optional(),
  maxPValue: z.number().gt(0).max(1).optional(),
  reason: z.string().min(1).optional(),
  force: z.boolean().optional(),
  dataMd5: z
    .string()
    .regex(/^[0-9a-f]{32}$/, 'a DVC md5: 32 lowercase hex digits')
    .optional(),
  reproduces: z.string().min(1).optional(),
});

// Compile-time guard: the schema names exactly the fields of TrainingPipelineInput, so a field
// added to the workflow's input fails the typecheck here until it is validated too.
type KeysOf<T> = keyof T;
type SameKeys<A, B> = [Exclude<KeysOf<A>, KeysOf<B>>, Exclude<KeysOf<B>, KeysOf<A>>] extends [
  never,
  never,
]
  ? true
  : false;
const schemaCoversInput: SameKeys<z.infer<typeof schema>, TrainingPipelineInput> = true;
void schemaCoversInput;

/**
 * Parses and checks a `trainingPipeline` input given as JSON text (one object, every field
 * optional; unknown fields are rejected so a typo does not silently train with defaults).
 * @param where names the source in the error, e.g. `--input`.
 * @throws PipelineInputError listing every problem with its field path.
 */
export function parsePipelineInput(json: string, where = '--input'): TrainingPipelineInput {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new PipelineInputError(where, [
      `not valid JSON (${err instanceof Error ? err.message : String(err)})`,
    ]);
  }
  return checkPipelineInput(value, where);
}

/**
 * Checks an already-parsed value as a `trainingPipeline` input.
 * @throws PipelineInputError listing every problem with its field path.
 */
export function checkPipelineInput(value: unknown, where = 'input'): TrainingPipelineInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PipelineInputError(where, [
      `expected one JSON object such as {"seed": 1}, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    ]);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new PipelineInputError(
      where,
      parsed.error.issues.map((i) =>
        i.code === 'unrecognized_keys'
          ? `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => JSON.stringify([...i.path, k].join('.'))).join(', ')} (known: ${Object.keys(i.path.length ? schema.shape.columns.unwrap().shape : schema.shape).join(', ')})`
          : `${i.path.join('.')}: ${i.message}`,
      ),
    );
  }
  // JSON has no `undefined`, so the optional fields zod types as `T | undefined` are absent or set
  return parsed.data as TrainingPipelineInput;
}
