/**
 * One deserializer for the tree family: 'tree', 'forest' and 'gbm' JSON (version 1) back to a
 * model that predicts exactly as the one that was serialized.
 */
import { randomForestFromJson } from './forest';
import { gradientBoostingFromJson } from './gbm';
import type { ModelJson } from './matrix';
import { decisionTreeFromJson } from './tree';
import type { TreeRegressor } from './tree';

/**
 * Rebuilds a tree-family model from its `toJSON()` output.
 * @throws TypeError for an unknown kind or a malformed shape (the message names the field).
 */
export function treeModelFromJson(json: ModelJson): TreeRegressor {
  if (typeof json !== 'object' || json === null)
    throw new TypeError('treeModelFromJson: expected an object');
  switch (json.kind) {
    case 'tree':
      return decisionTreeFromJson(json);
    case 'forest':
      return randomForestFromJson(json);
    case 'gbm':
      return gradientBoostingFromJson(json);
    default:
      throw new TypeError(
        `treeModelFromJson: unknown model kind '${String(json.kind)}' (expected tree, forest or gbm)`,
      );
  }
}
