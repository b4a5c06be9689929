// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Folder boundaries from STYLE.md, enforced here rather than by review.
const entryPoints = ['**/worker/main', '**/server/main', '**/cli/**'];
const temporal = ['@temporalio/*'];
const nodeIo = [
  'fs',
  'fs/*',
  'node:*',
  'child_process',
  'http',
  'https',
  'net',
  'os',
  'path',
  'process',
];

/** @param {string[]} groups @param {string} message */
const forbid = (groups, message) => ({ group: groups, message });

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.local/**', 'coverage/**', '.bench/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use an `as const` object and a union type.' },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', 'src/worker/main.ts', 'src/server/main.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [forbid(entryPoints, 'Nothing imports the entry points.')] },
      ],
    },
  },
  {
    files: ['src/ml/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            forbid([...temporal, ...nodeIo], 'src/ml is pure maths: no I/O, no Temporal.'),
            forbid(
              [
                '**/data/*',
                '**/db/*',
                '**/monitoring/*',
                '**/mlflow/*',
                '**/activities/*',
                '**/workflows/*',
                '**/server/*',
                '**/stack/*',
                '**/config',
                '**/logger',
                ...entryPoints,
              ],
              'src/ml depends on nothing else in the project.',
            ),
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'require'],
    },
  },
  {
    files: ['src/monitoring/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            forbid([...temporal, ...nodeIo, 'pg'], 'src/monitoring is pure statistics: no I/O.'),
            forbid(
              [
                '**/data/*',
                '**/db/*',
                '**/mlflow/*',
                '**/model-store/*',
                '**/pipeline/*',
                '**/activities/*',
                '**/workflows/*',
                '**/server/*',
                '**/stack/*',
                '**/config',
                '**/logger',
                ...entryPoints,
              ],
              'src/monitoring depends only on src/ml.',
            ),
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'require'],
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'off',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            forbid(
              [
                ...nodeIo,
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
                '@temporalio/testing',
              ],
              'Workflow code runs in the deterministic sandbox.',
            ),
            {
              group: ['../*', '!../workflows/*'],
              allowTypeImports: true,
              message: 'Workflows import only types from outside src/workflows.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process'],
    },
  },
  {
    files: ['src/server/**/*.ts', 'src/model-store/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            forbid(temporal, 'The server never imports Temporal.'),
            forbid(
              ['**/pipeline/*', '**/report/*', '**/activities/*', '**/workflows/*', '**/stack/*'],
              'A serving process loads what serving needs: no pipeline, report or training code.',
            ),
            {
              regex: '(^|/)ml(/(?!serving$)[^/]+)?$',
              message:
                'Import the engine through src/ml/serving (prediction only), not the training code.',
            },
            forbid(
              entryPoints.filter((p) => p !== '**/server/main'),
              'Nothing imports the entry points.',
            ),
          ],
        },
      ],
    },
  },
  {
    files: ['src/simulate/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            forbid(temporal, 'simulate is an HTTP client of the API: no Temporal.'),
            forbid(
              [
                '**/server/*',
                '**/pipeline/*',
                '**/activities/*',
                '**/workflows/*',
                '**/stack/*',
                '**/mlflow/*',
                '**/model-store/*',
                ...entryPoints,
              ],
              'simulate talks to the service over HTTP only.',
            ),
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Only src/config.ts reads process.env.' },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      'no-restricted-properties': 'off',
    },
  },
  { files: ['**/*.mjs', '**/*.js'], ...tseslint.configs.disableTypeChecked },
);
