#!/usr/bin/env node
// npswitch command-line entry: runs the TypeScript CLI through tsx's loader (no build step).
// binaryen and the AssemblyScript compiler are large JavaScript files; loaded here, before tsx's
// loader is registered, they take well under a second instead of several (the loader would read
// them again); later imports of them get these same modules.
import "binaryen";
import "assemblyscript/asc";
import { register } from "tsx/esm/api";

register();
await import("../cli/index.ts");
