// Types for demo/server.mjs, so test/browser/demo.test.ts can import it under `tsc --strict`.

export interface DemoOptions {
  /** 0 picks a free port. @default 8080 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** How long a token from `GET /token` stays valid. @default 60000 */
  tokenTtlMs?: number;
  /** How long `POST /fault/restart` refuses new connections. @default 2000 */
  restartDowntimeMs?: number;
  /** Receives one line per connection and fault; silent by default. */
  log?: (line: string) => void;
  /** The companion's engine (demo/cluster.mjs passes a Redis engine). @default a memory engine */
  engine?: import('../src/server/engine.js').Engine;
  /** This instance's name, sent in the welcome (`instance`) so the page shows it. */
  instance?: string;
  /** App state shared by instances in one process (demo/cluster.mjs). */
  shared?: { tokens: Map<string, number>; history: object[]; received: Map<string, number> };
}

/** The faults behind the page's fault panel (`POST /fault/<name>`). */
export interface DemoFaults {
  /** Kills every socket without a close frame and refuses connections for `downtimeMs`. */
  restart(downtimeMs?: number): void;
  /** Accepts connections again now, ending a `restart()` early. */
  resume(): void;
  /** Closes every connection with 1001. */
  drop(): void;
  /** Forgets every token and closes every connection with 4001. */
  expire(): void;
  /** Stops reading from and writing to one connection (by the id in `welcome`), or all; returns how many. */
  stall(connection?: string): number;
  /** Destroys one connection (by the id in `welcome`), or all, without a close frame; what its kernel buffers held is lost. Returns how many. */
  cut(connection?: string): number;
}

export interface Demo {
  /** The page, e.g. `http://127.0.0.1:8080/`. */
  url: string;
  port: number;
  faults: DemoFaults;
  /** How many times the server received the chat message with this client-generated id. */
  received(id: string): number;
  /** Live WebSocket connections on the server (plain, rws.v1 and rws.v2; a connection shared by tabs counts once). */
  connections(): number;
  close(): Promise<void>;
}

export function startDemo(options?: DemoOptions): Promise<Demo>;

/** Runs `npm run build` when a bundle the page loads is missing or older than `src/`. */
export function ensureBuilt(options?: { log?: (line: string) => void }): void;
