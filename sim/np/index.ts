// The NP functional model: shared memory, intrinsics, rings and the data-plane harness.
export { createNpMemory, npImports, type NpEnv } from "./imports.js";
export { Rings, DEFAULT_RING_CAPACITY } from "./rings.js";
export { Dataplane, verdictName, type DataplaneOptions, type ImageBytes, type ProcessResult, type Verdict } from "./dataplane.js";
export { loadDataplane, compiledImages } from "./load.js";
