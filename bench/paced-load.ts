/**
 * An open-loop load generator for latency at a fixed request rate: requests are sent on a schedule (request i at
 * `i / rate` seconds), whatever the answers do, over a pool of keep-alive connections, and each latency is measured
 * from the request's scheduled time, so a server (or client) that falls behind shows it in the percentiles
 * instead of slowing the schedule down ("coordinated omission" avoided, as wrk2 does).
 *
 * autocannon's `connectionRate`/`overallRate` are closed-loop per second: each connection sends its quota for the
 * second as fast as it can and then waits for the next second, so "50% of peak" is really full load for half of
 * every second, and its latency histogram then adds synthetic 1 ms-spaced values for every slow answer.
 */
import { connect, type Socket } from 'node:net';

/** What a paced run measured. */
export interface PacedResult {
  /** Requests answered per second over the run. */
  requestsPerSecond: number;
  sent: number;
  /** Latency percentiles in ms, from each request's scheduled send time to the end of its answer. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  non2xx: number;
}

/** One request the generator cycles through. */
export interface PacedRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

/** The value at quantile `q` of sorted `values`. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * Sends `rate` requests per second for `seconds` to `url` (cycling over `requests`) on at most `connections`
 * keep-alive sockets and resolves with the latency percentiles once every answer is in.
 *
 * @example
 * await pacedLoad({ url: 'http://127.0.0.1:8080', rate: 2000, seconds: 10, requests: [{ method: 'GET', path: '/healthz' }] });
 */
export async function pacedLoad(options: {
  url: string;
  rate: number;
  seconds: number;
  requests: readonly PacedRequest[];
  headers?: Record<string, string>;
  connections?: number;
}): Promise<PacedResult> {
  const { rate, seconds } = options;
  const target = new URL(options.url);
  const total = Math.max(1, Math.round(rate * seconds));
  const latencies = new Float64Array(total);
  const scheduledAt = (i: number) => start + (i * 1000) / rate;
  // Requests prebuilt as bytes: the generator's own work per request must stay far below the server's.
  const wire = options.requests.map((r) => {
    const headers = { host: target.host, connection: 'keep-alive', ...options.headers };
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
    const body = r.body ?? '';
    if (r.body !== undefined) lines.push(`content-length: ${Buffer.byteLength(body)}\r\n`);
    return Buffer.from(`${r.method} ${r.path} HTTP/1.1\r\n${lines.join('')}\r\n${body}`);
  });
  let done = 0;
  let errors = 0;
  let non2xx = 0;
  let sent = 0;
  const waiting: number[] = [];
  let finished: () => void = () => {};
  const allDone = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const complete = (i: number, status: number) => {
    latencies[i] = performance.now() - scheduledAt(i);
    if (status === 0) errors++;
    else if (status < 200 || status >= 300) non2xx++;
    if (++done === total) finished();
  };

  let closing = false;

  /**
   * One keep-alive connection with at most one request in flight; answers are read by content-length. A socket
   * the server closes (or that fails) fails its request and is replaced, so the run always finishes.
   */
  class Connection {
    private socket!: Socket;
    private inFlight = -1;
    private buffered: Buffer = Buffer.alloc(0);
    constructor() {
      this.open();
    }
    get idle(): boolean {
      return this.inFlight < 0 && !this.socket.destroyed && !this.socket.connecting;
    }
    send(i: number): void {
      this.inFlight = i;
      this.socket.write(wire[i % wire.length]!);
    }
    close(): void {
      this.socket.destroy();
    }
    next(): void {
      if (!this.idle) return;
      const i = waiting.shift();
      if (i !== undefined) this.send(i);
    }
    private open(): void {
      const socket = connect({ host: target.hostname, port: Number(target.port) });
      this.socket = socket;
      this.buffered = Buffer.alloc(0);
      socket.setNoDelay(true);
      socket.on('connect', () => this.next());
      socket.on('data', (chunk: Buffer) => this.read(chunk));
      socket.on('error', () => socket.destroy());
      socket.on('close', () => {
        this.fail();
        if (!closing) setTimeout(() => this.open(), 10);
      });
    }
    private read(chunk: Buffer): void {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      const headerEnd = this.buffered.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const head = this.buffered.toString('latin1', 0, headerEnd);
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      // Only answers with a content-length are understood (Fastify always sends one): anything else fails the
      // request and the connection.
      if (!length || this.inFlight < 0) {
        this.socket.destroy();
        return;
      }
      const end = headerEnd + 4 + Number(length[1]);
      if (this.buffered.length < end) return;
      const status = Number(head.slice(9, 12));
      this.buffered = this.buffered.subarray(end);
      const i = this.inFlight;
      this.inFlight = -1;
      complete(i, status);
      this.next();
    }
    private fail(): void {
      if (this.inFlight >= 0) {
        const i = this.inFlight;
        this.inFlight = -1;
        complete(i, 0);
      }
    }
  }

  const pool = Array.from({ length: options.connections ?? 16 }, () => new Connection());
  await new Promise((r) => setTimeout(r, 50)); // let the connections open before the clock starts
  const start = performance.now();
  // Send what the schedule says is due by now, then look again after the pending I/O (setImmediate, not a
  // timer: timers fire a millisecond or more late, which would add up to that to every latency). This keeps the
  // generator's core busy; the bench pins it to its own core with --pin.
  const tick = () => {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    while (sent < due) {
      const i = sent++;
      const free = pool.find((c) => c.idle);
      if (free) free.send(i);
      else waiting.push(i);
    }
    if (sent < total) setImmediate(tick);
  };
  tick();
  await allDone;
  const elapsed = (performance.now() - start) / 1000;
  closing = true;
  for (const c of pool) c.close();
  const sorted = latencies.slice().sort();
  return {
    requestsPerSecond: total / elapsed,
    sent: total,
    p50Ms: quantile(sorted, 0.5),
    p90Ms: quantile(sorted, 0.9),
    p99Ms: quantile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1]!,
    errors,
    non2xx,
  };
}
