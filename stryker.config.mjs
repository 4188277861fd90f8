// Mutation testing (StrykerJS + its vitest runner): `npm run mutation`. See docs/MUTATION.md.
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.ts", related: false },
  plugins: ["@stryker-mutator/vitest-runner"],
  mutate: [
    "controlplane/**/*.ts",
    "abi/**/*.ts",
    "!abi/generate.ts",
    "packet/**/*.ts",
    "toolchain/verify/**/*.ts",
  ],
  coverageAnalysis: "perTest",
  // Static mutants (module-level code: declarations, catalogues, tables built at load) would each need the
  // whole suite (1172 of them, ~60% of the time); they are reported as Ignored.
  ignoreStatic: true,
  incremental: true,
  incrementalFile: "reports/mutation/stryker-incremental.json",
  reporters: ["json", "html", "clear-text", "progress"],
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  clearTextReporter: { reportTests: false, reportMutants: false, allowEmojis: false },
  tempDirName: ".stryker-tmp",
  // vitest strips types itself; the default would also stamp @ts-nocheck on dataplane/ sources, which a test compares.
  disableTypeChecks: false,
  ignorePatterns: ["build", "bench/results", "reports", "scratch", "*.npfw"],
  concurrency: 2,
  timeoutMS: 30_000,
  thresholds: { high: 90, low: 80, break: null },
};
