import type { Command } from 'commander';
import { loadConfig } from '../config';
import { FileKeyStore, parseScopes, scopes, type ApiKeyInfo } from '../server/auth';

const out = (text: string): void => void process.stdout.write(`${text}\n`);

const json = (k: ApiKeyInfo) => ({
  name: k.name,
  id: k.id,
  scopes: k.scopes,
  created_at: k.createdAt,
  last_used_at: k.lastUsedAt,
  revoked_at: k.revokedAt,
});

function table(keys: readonly ApiKeyInfo[]): string {
  const rows = [
    ['NAME', 'SCOPES', 'CREATED', 'LAST USED', 'STATUS'],
    ...keys.map((k) => [
      k.name,
      k.scopes.join(','),
      k.createdAt,
      k.lastUsedAt ?? '-',
      k.revokedAt ? `revoked ${k.revokedAt}` : 'active',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function withStore<T>(use: (store: FileKeyStore) => Promise<T>): Promise<T> {
  const store = new FileKeyStore(loadConfig().auth.keysFile);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** `icecream keys create|list|revoke`: the API keys in AUTH_KEYS_FILE (.local/api-keys.json). */
export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description(
      'API keys for the prediction API: stored as salted hashes in .local/api-keys.json (AUTH_KEYS_FILE)',
    );

  keys
    .command('create')
    .description('create a key and print it once (it cannot be shown again)')
    .requiredOption('--name <name>', 'a unique name for the key (letters, digits, . _ -)')
    .requiredOption('--scopes <list>', `comma-separated scopes: ${scopes.join(',')}`)
    .option('--json', 'print the key and its details as JSON')
    .action(async (o: { name: string; scopes: string; json?: boolean }) => {
      const wanted = parseScopes(o.scopes);
      const { key, info } = await withStore((s) => s.create({ name: o.name, scopes: wanted }));
      if (o.json) {
        out(JSON.stringify({ ...json(info), key }, null, 2));
        return;
      }
      out(
        [
          `created API key "${info.name}" with scopes ${info.scopes.join(', ')}:`,
          '',
          `  ${key}`,
          '',
          'Store it now: it is shown only this once (the server keeps a salted hash).',
          `Use it as: -H 'Authorization: Bearer ${key}'  (or -H 'X-API-Key: ...')`,
        ].join('\n'),
      );
    });

  keys
    .command('list')
    .description('list the keys (names, scopes, created and last-used times; never the keys)')
    .option('--json', 'print as JSON')
    .action(async (o: { json?: boolean }) => {
      const all = await withStore((s) => s.list());
      if (o.json) out(JSON.stringify(all.map(json), null, 2));
      else
        out(
          all.length
            ? table(all)
            : 'no API keys yet: icecream keys create --name N --scopes predict',
        );
    });

  keys
    .command('revoke')
    .description('revoke the active key with this name (API processes notice within a second)')
    .argument('<name>', 'the key name')
    .option('--json', 'print the revoked key as JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const info = await withStore((s) => s.revoke(name));
      out(o.json ? JSON.stringify(json(info), null, 2) : `revoked API key "${info.name}"`);
    });
}
