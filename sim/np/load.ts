// Test helper: compile the data-plane images once per process (slot = index in listImages order)
// and hand out fresh Dataplane instances on them.
import { compileImage, listImages, DATAPLANE_DIR } from "../../toolchain/build/compile.js";
import { Dataplane, type DataplaneOptions, type ImageBytes } from "./dataplane.js";

const compiled = new Map<string, Promise<ImageBytes[]>>();

/** Every image under `dataplaneDir` compiled (release target), cached per directory. */
export function compiledImages(dataplaneDir = DATAPLANE_DIR): Promise<ImageBytes[]> {
  let p = compiled.get(dataplaneDir);
  if (!p) {
    p = (async () => {
      const names = listImages(dataplaneDir);
      const out: ImageBytes[] = [];
      for (const [slot, name] of names.entries()) out.push({ name, wasm: await compileImage(name, { slot, dataplaneDir }) });
      return out;
    })();
    p.catch(() => compiled.delete(dataplaneDir));
    compiled.set(dataplaneDir, p);
  }
  return p;
}

/** A fresh data plane (new memory, rings, counters) on the cached images. */
export async function loadDataplane(opts: DataplaneOptions & { dataplaneDir?: string } = {}): Promise<Dataplane> {
  const { dataplaneDir, ...rest } = opts;
  return Dataplane.load(await compiledImages(dataplaneDir), rest);
}
