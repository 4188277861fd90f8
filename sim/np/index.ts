// The NP functional model: shared memory, intrinsics, rings and the data-plane harness.
export { createNpMemory, npImports, type NpEnv } from "./imports.js";
export { Rings, DEFAULT_RING_CAPACITY } from "./rings.js";
export { Dataplane, decodeMessage, reasonName, verdictName, type DataplaneOptions, type ImageBytes, type ProcessResult, type RingMessage, type SwitchConfig, type Verdict } from "./dataplane.js";
export { loadDataplane, compiledImages } from "./load.js";
export { Random, seedFromEnv } from "../../lib/random.js";
