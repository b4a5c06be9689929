import { describe, expect, it } from 'vitest';
import { reproducibilityProblems } from './promotion-gate';

const clean = {
  'mlflow.source.git.commit': 'a'.repeat(40),
  'mlflow.source.git.dirty': 'false',
  'data.pinned': 'true',
};

describe('reproducibility gate', () => {
  it('passes a run from a clean tree with pinned data', () => {
    expect(reproducibilityProblems(clean)).toEqual([]);
  });

  it('names a dirty tree with its diff digest', () => {
    const problems = reproducibilityProblems({
      ...clean,
      'mlflow.source.git.dirty': 'true',
      'code.git_diff_sha256': 'f'.repeat(64),
    });
    expect(problems).toEqual([
      'the run comes from a dirty tree (uncommitted changes, diff sha256 ffffffffffff)',
    ]);
  });

  it('names an unpinned data file with the reason the run recorded', () => {
    expect(
      reproducibilityProblems({
        ...clean,
        'data.pinned': 'false',
        'data.pinned_reason': 'data.dvc has uncommitted changes',
      }),
    ).toEqual(['its data file is not pinned (data.dvc has uncommitted changes)']);
  });

  it('refuses a run recorded before the references existed', () => {
    expect(reproducibilityProblems({ 'mlflow.source.git.commit': 'a'.repeat(40) })).toEqual([
      'the run does not record whether its tree was clean',
      'the run does not record whether its data file was pinned',
    ]);
    expect(reproducibilityProblems({})).toContain('the run records no git commit');
  });
});
