// The vitest run Stryker uses for mutation testing (npm run mutation, stryker.config.mjs): only the fast unit
// tests that cover controlplane/, abi/, packet/ and toolchain/verify/. `npm test` uses vitest.config.ts and runs
// everything. See docs/MUTATION.md.
import { statSync } from "node:fs";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Stryker stops a mutant's run at the first failing test (bail), so the cheap test files go first: files that
 * failed last time, then the shortest by recorded duration (the smallest when none is recorded). Vitest's own
 * order is the longest first, which makes a mutant that a small unit test kills wait for the slow ones.
 */
class CheapFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cache = this.ctx.cache;
    const key = (f: TestSpecification) => `${f.project.name}:${f.moduleId.slice(this.ctx.config.root.length + 1)}`;
    const size = (f: TestSpecification) => {
      try {
        return statSync(f.moduleId).size;
      } catch {
        return Infinity;
      }
    };
    const rank = (f: TestSpecification) => {
      const r = cache.getFileTestResults(key(f));
      return { failed: r?.failed ? 0 : 1, duration: r?.duration ?? Infinity, size: size(f) };
    };
    const ranks = new Map(files.map((f) => [f, rank(f)]));
    return [...files].sort((a, b) => {
      const x = ranks.get(a)!;
      const y = ranks.get(b)!;
      return x.failed - y.failed || x.duration - y.duration || x.size - y.size;
    });
  }
}

export default defineConfig({
  test: {
    include: [
      "test/abi/**/*.test.ts",
      "test/packet/**/*.test.ts",
      "test/controlplane/**/*.test.ts",
      "test/toolchain/verify.test.ts",
      "test/toolchain/verify-rules.test.ts",
      "test/toolchain/wasm-reader.test.ts",
      "test/sim/packet.test.ts",
      "test/sim/tcp.test.ts",
      "test/dataplane/checksum.property.test.ts",
    ],
    exclude: [
      // Two simulated TCP stacks talking through the switch for seconds of simulated time: too slow to run per mutant.
      "test/controlplane/real-stacks.test.ts",
    ],
    // Compiled data-plane images from a disk cache, and no assemblyscript/binaryen import on a hit.
    setupFiles: ["scripts/mutation-vitest-setup.ts"],
    sequence: { sequencer: CheapFirst },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
