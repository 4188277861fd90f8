// A web workload: N files with heavy-tailed sizes and Zipf popularity. It gives servers their
// file set and clients their stream of requests; both are functions of the seed only.
import { Random } from "../../lib/random.js";
import type { HttpRequestSpec } from "../http/client.js";
import type { FileSet } from "../http/server.js";
import { Zipf, sampleSize, type SizeModel } from "./distributions.js";

export interface WorkloadOptions {
  files: number;
  /** Zipf exponent of popularity (web traces: 0.6 to 1.0). */
  zipfAlpha: number;
  sizes?: SizeModel;
  minBytes?: number;
  maxBytes?: number;
  seed: number;
  /** Share of requests that are POSTs (default 0) and the size of their bodies. */
  postFraction?: number;
  postBytes?: number;
}

export class Workload {
  /** Paths by popularity rank (index 0 is the most popular). */
  readonly paths: string[];
  readonly sizes: number[];
  readonly zipf: Zipf;
  private readonly requests: Random;
  private readonly postFraction: number;
  private readonly postBytes: number;

  constructor(readonly options: WorkloadOptions) {
    const model = options.sizes ?? { kind: "surge" };
    const bounds = { minBytes: options.minBytes ?? 1, maxBytes: options.maxBytes ?? 10 << 20 };
    // Separate streams: the file set does not change with the number of requests drawn.
    const sizeRng = new Random(options.seed);
    this.requests = new Random((options.seed ^ 0x9e3779b9) >>> 0);
    const width = String(options.files - 1).length;
    this.paths = Array.from({ length: options.files }, (_, i) => `/f/${String(i).padStart(width, "0")}.bin`);
    this.sizes = this.paths.map(() => sampleSize(sizeRng, model, bounds));
    this.zipf = new Zipf(options.files, options.zipfAlpha);
    this.postFraction = options.postFraction ?? 0;
    this.postBytes = options.postBytes ?? 1024;
  }

  /** path -> size, for HttpServer. */
  fileSet(): FileSet {
    return new Map(this.paths.map((p, i) => [p, this.sizes[i]]));
  }

  get totalBytes(): number {
    return this.sizes.reduce((a, b) => a + b, 0);
  }

  /** The next request of the stream, with the status and size the server must answer. */
  nextRequest(): HttpRequestSpec {
    const i = this.zipf.sample(this.requests);
    const req: HttpRequestSpec = { path: this.paths[i], expectStatus: 200, expectBytes: this.sizes[i] };
    if (this.postFraction > 0 && this.requests.chance(this.postFraction)) {
      req.method = "POST";
      req.bodyBytes = this.postBytes;
    }
    return req;
  }

  /** `n` requests for one connection. */
  nextSession(n: number): HttpRequestSpec[] {
    return Array.from({ length: n }, () => this.nextRequest());
  }
}
