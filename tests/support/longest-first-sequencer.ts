import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * A sequencer that starts the named files first, in the order given, then the rest in vitest's
 * own order (by recorded duration, else by size). With several files at once, a long file that
 * starts last runs alone at the end; naming the longest ones keeps them off that tail even on a
 * fresh clone, where vitest has no durations recorded yet.
 */
export function longestFirst(paths: readonly string[]) {
  const rank = (specification: TestSpecification) => {
    const index = paths.findIndex((path) => specification.moduleId.endsWith(`/${path}`));
    return index === -1 ? paths.length : index;
  };
  return class LongestFirstSequencer extends BaseSequencer {
    override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
      // Array sort is stable: files not named keep the base order.
      return [...(await super.sort(files))].sort((left, right) => rank(left) - rank(right));
    }
  };
}
