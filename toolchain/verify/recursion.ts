// Rule `recursion`: the direct call graph is acyclic, so stack depth is bounded (docs/ARCHITECTURE.md, "The image ABI").
// Cycles are found as strongly connected components (Tarjan); each is reported as one concrete cycle.
import type { FunctionInfo, ModuleInfo } from "../wasm/reader.js";
import type { ModuleRule } from "./rule.js";

export const recursionRule: ModuleRule = {
  id: "recursion",
  description: "no recursion: the direct call graph has no cycle",
  check(info) {
    return callCycles(info).map((cycle) => `recursive calls: ${cycle.map((f) => f.name).join(" -> ")}`);
  },
};

/** One cycle per recursive component, as the path from its lowest-index function back to itself. */
export function callCycles(info: ModuleInfo): FunctionInfo[][] {
  return stronglyConnected(info)
    .filter((scc) => scc.length > 1 || info.functions[scc[0]].calls.includes(scc[0]))
    .map((scc) => cycleThrough(info, Math.min(...scc), new Set(scc)).map((i) => info.functions[i]))
    .sort((a, b) => a[0].index - b[0].index);
}

/** Tarjan's algorithm, iterative so deep call chains cannot overflow the JS stack. */
function stronglyConnected(info: ModuleInfo): number[][] {
  const n = info.functions.length;
  const order = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;

  for (let root = 0; root < n; root++) {
    if (order[root] !== -1) continue;
    const work: { node: number; next: number }[] = [{ node: root, next: 0 }];
    order[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = true;
    while (work.length) {
      const frame = work[work.length - 1];
      const callees = info.functions[frame.node].calls;
      if (frame.next < callees.length) {
        const callee = callees[frame.next++];
        if (order[callee] === -1) {
          order[callee] = low[callee] = counter++;
          stack.push(callee);
          onStack[callee] = true;
          work.push({ node: callee, next: 0 });
        } else if (onStack[callee]) {
          low[frame.node] = Math.min(low[frame.node], order[callee]);
        }
        continue;
      }
      work.pop();
      if (work.length) low[work[work.length - 1].node] = Math.min(low[work[work.length - 1].node], low[frame.node]);
      if (low[frame.node] === order[frame.node]) {
        const component: number[] = [];
        let member: number;
        do {
          member = stack.pop()!;
          onStack[member] = false;
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}

/** Shortest call path from start back to start inside one component (breadth-first), e.g. [a, b, a]. */
function cycleThrough(info: ModuleInfo, start: number, component: Set<number>): number[] {
  const cameFrom = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const caller = queue[head];
    for (const callee of info.functions[caller].calls) {
      if (!component.has(callee)) continue;
      if (callee === start) {
        const path = [start];
        for (let at = caller; at !== start; at = cameFrom.get(at)!) path.push(at);
        return [start, ...path.slice(1).reverse(), start];
      }
      if (!cameFrom.has(callee)) {
        cameFrom.set(callee, caller);
        queue.push(callee);
      }
    }
  }
  throw new Error(`function ${start} is in a call cycle but no path leads back to it`);
}
