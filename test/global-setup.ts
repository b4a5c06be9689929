import { loadConfig, projectRoot } from '../src/config';
import { Dvc, ensureDataset } from '../src/data/dvc';
import { ensureTools } from '../src/stack/tools';

/**
 * Once per `npm test`: install the pinned Python tools (first run only) and make sure the default
 * dataset is in the workspace (a fresh clone pulls it from the DVC remote, offline).
 */
export default async function setup(): Promise<void> {
  const config = loadConfig();
  const tools = await ensureTools(config.toolsDir, config.python, (m) => console.log(m));
  await ensureDataset(
    new Dvc(tools.dvc, projectRoot, config.childEnv),
    config.dataPath,
    config.dvcFile,
  );
}
