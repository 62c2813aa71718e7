// Types of the lowcode-emu package: the admin API's shapes as docs/admin-api.md describes them.
import type { ChildProcess } from "node:child_process";

export declare const NAMESPACE_HEADER: "x-emu-namespace";
export declare const ADMIN_TOKEN_HEADER: "x-emu-admin-token";

export type Platform = "jiandaoyun" | "yida" | "astrozero" | "omflow";

/** The one line `serve --ready-json` prints once connections are accepted. */
export interface Ready {
  base_url: string;
  admin_url: string;
  dashboard_url: string;
  port: number;
  platforms: Partial<Record<Platform, string>>;
  pid: number;
  scenario: string;
  version: string;
}

export interface Health {
  status: "ok";
  platforms: Platform[];
  scenario: string;
}

export interface JournalEntry {
  id: number;
  time: string;
  namespace: string;
  platform: Platform | "unknown";
  route: string;
  method: string;
  path: string;
  query: string;
  /** 0 when a fault dropped the call. */
  status: number;
  duration_ms: number;
  request_body: unknown;
  response_body: unknown;
  fault: string | null;
  fault_action: string | null;
}

export interface JournalFilter {
  platform?: Platform;
  /** A route id (`GET /__emu/routes`), or `unmatched`. */
  route?: string;
  namespace?: string;
  status?: number;
  /** An entry id (entries after it) or an RFC 3339 time. */
  since?: number | string;
  limit?: number;
}

/** A fault rule: the keys of a scenario `[[faults]]` table. */
export interface FaultRule {
  name?: string;
  platform?: Platform;
  route?: string;
  match?: Record<string, unknown>;
  nth?: number;
  every?: number;
  after?: number;
  probability?: number;
  times?: number;
  /** A named error of the platform (`rate_limited`, `unauthorized`, …) or a documented code. */
  error?: string;
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  delay_ms?: number;
  jitter_ms?: number;
  disconnect?: boolean;
  truncate?: boolean;
  duplicate?: boolean;
  reorder?: boolean;
  rate_limit?: { per_second: number };
}

export interface FaultState extends FaultRule {
  id: string;
  matched: number;
  fired: number;
}

export interface ClockState {
  now: string;
  frozen: boolean;
}

export interface DeliveryAttempt {
  at: string;
  status: number | null;
  response_body: string | null;
  latency_ms: number;
  error: string | null;
  fault: string | null;
}

export interface Delivery {
  id: number;
  platform: Platform;
  event: string;
  target: string;
  request: { method: string; url: string; headers: Array<[string, string]>; body: string };
  created_at: string;
  outcome: "pending" | "delivered" | "failed" | "dropped" | string;
  next_attempt_at: string | null;
  attempts: DeliveryAttempt[];
  redelivery_of: number | null;
  duplicate_of: number | null;
  note: string | null;
  held: boolean;
}

export interface DeliveriesIdle {
  idle: boolean;
  pending: number;
  in_flight: number;
}

export interface ClientOptions {
  namespace?: string;
  adminToken?: string;
}

export declare class EmulatorError extends Error {
  readonly status: number;
  readonly body: unknown;
}

export declare class Clock {
  get(): Promise<ClockState>;
  now(): Promise<string>;
  /** Freeze at a time (RFC 3339), or where the clock is now. */
  freeze(at?: string): Promise<ClockState>;
  set(at: string): Promise<ClockState>;
  /** `ms`, `s`, `m`, `h`, `d`: "90s", "2h", "-1d". */
  advance(by: string): Promise<ClockState>;
  real(): Promise<ClockState>;
}

export declare class Client {
  constructor(baseUrl: string, options?: ClientOptions);
  readonly baseUrl: string;
  readonly namespace: string;
  readonly clock: Clock;
  /** Where platform clients point to land in this namespace: `<base>/__ns/<namespace>`. */
  readonly platformUrl: string;
  /** `host:port[/__ns/<namespace>]`, for SDKs configured with an endpoint (DingTalk's). */
  readonly endpoint: string;
  readonly headers: Record<string, string>;
  withNamespace(namespace: string): Client;
  call<T = unknown>(method: string, path: string, options?: { body?: unknown; query?: Record<string, unknown>; contentType?: string }): Promise<T>;
  health(): Promise<Health>;
  reset(): Promise<void>;
  state(): Promise<Record<string, unknown>>;
  putState(state: Record<string, unknown>): Promise<void>;
  loadScenario(text: string): Promise<void>;
  routes(): Promise<Array<{ platform: Platform; method: string; path: string; route: string }>>;
  requests(filter?: JournalFilter): Promise<JournalEntry[]>;
  count(filter?: Omit<JournalFilter, "limit">): Promise<number>;
  clearRequests(): Promise<number>;
  assertCalled(route: string, options?: { times?: number; status?: number }): Promise<JournalEntry[]>;
  faults(): Promise<FaultState[]>;
  addFault(rule: FaultRule): Promise<string>;
  removeFault(id: string): Promise<void>;
  clearFaults(): Promise<number>;
  withFault<T>(rule: FaultRule, fn: (id: string) => Promise<T> | T): Promise<T>;
  act<T = unknown>(platform: Platform, as: string, action: string, fields?: Record<string, unknown>): Promise<T>;
  deliveries(platform?: Platform): Promise<Delivery[]>;
  waitDeliveries(timeoutMs?: number): Promise<DeliveriesIdle>;
  drop(): Promise<void>;
}

export interface StartOptions {
  /** A scenario file (TOML or JSON); the embedded demo without one. */
  scenario?: string;
  /** Further `lowcode-emu serve` options. */
  args?: string[];
  /** The binary; found through LOWCODE_EMU_BIN, @lowcode-emu/<platform>-<arch>, then PATH otherwise. */
  binary?: string;
  adminToken?: string;
  env?: Record<string, string>;
  startupTimeoutMs?: number;
}

export declare class Emulator {
  readonly process: ChildProcess;
  readonly ready: Ready;
  readonly baseUrl: string;
  readonly port: number;
  client(namespace?: string): Client;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export declare function findBinary(env?: Record<string, string | undefined>): string;
export declare function startEmulator(options?: StartOptions): Promise<Emulator>;
