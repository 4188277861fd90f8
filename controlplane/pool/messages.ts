// What servers tell the pool (the workers' manager of a coordinator, seed 004: register request and alive
// signal): a registration with the server's capacity, and periodic alive signals carrying a load report.
// They travel out of band of the data plane (a management network or a host agent); the simulator's
// agents are sim/world/pool-agent.ts.

/** A server as the pool addresses it: its IPv4 address and TCP port. */
export interface ServerAddress {
  ip: string;
  tcpPort: number;
}

export interface Registration extends ServerAddress {
  /** Requests per second the server can serve (ServerView.capacity). */
  capacity?: number;
  /** The interval at which its alive signals will come (ps); the pool's default when absent. */
  aliveIntervalPs?: number;
}

export interface AliveSignal extends ServerAddress {
  /** Load index, 0 (idle) to 1 (saturated); clamped into that range. */
  load: number;
  /** The server's own measure of its response time (ps), reported as is. */
  responseTimePs?: number;
  /** The interval until its next alive signal (ps), when it paced itself beyond the usual one. */
  intervalPs?: number;
}

/** Bytes one registration or alive signal occupies on the wire (an assumption: a small UDP datagram). */
export const CONTROL_MESSAGE_BYTES = 64;
