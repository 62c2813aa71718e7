// lowcode-emu for Node: start the emulator binary, and a client for its admin API (/__emu/).
// No dependencies: child_process for the binary, the global fetch (Node 18+) for HTTP.
//
// The binary is found through LOWCODE_EMU_BIN, the optional per-platform package
// (@lowcode-emu/linux-x64), then PATH. It is started with `serve --port 0 --ready-json`: once it accepts
// connections it prints one JSON line (base URL, admin URL, pid, …), which is how the port is learnt.

import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join } from "node:path";

export const NAMESPACE_HEADER = "x-emu-namespace";
export const ADMIN_TOKEN_HEADER = "x-emu-admin-token";
const BINARY_NAME = process.platform === "win32" ? "lowcode-emu.exe" : "lowcode-emu";

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where the lowcode-emu binary is; throws with what to do when it is nowhere. */
export function findBinary(env = process.env) {
  const explicit = env.LOWCODE_EMU_BIN;
  if (explicit) {
    if (!executable(explicit)) throw new Error(`LOWCODE_EMU_BIN=${explicit} is not an executable file`);
    return explicit;
  }
  const platformPackage = `@lowcode-emu/${process.platform}-${process.arch}`;
  try {
    const require = createRequire(import.meta.url);
    const manifest = require.resolve(`${platformPackage}/package.json`);
    const candidate = join(manifest, "..", "bin", BINARY_NAME);
    if (executable(candidate)) return candidate;
  } catch {
    // The platform package is optional: not installed for this platform.
  }
  for (const dir of (env.PATH || "").split(delimiter)) {
    if (dir && executable(join(dir, BINARY_NAME))) return join(dir, BINARY_NAME);
  }
  throw new Error(
    `the ${BINARY_NAME} binary was not found: install ${platformPackage}, put ${BINARY_NAME} on PATH, or set LOWCODE_EMU_BIN`,
  );
}

/** An admin call answered an error status. */
export class EmulatorError extends Error {
  constructor(method, path, status, body) {
    const reason = body && typeof body === "object" && "error" in body ? body.error : body;
    super(`${method} ${path} -> HTTP ${status}: ${typeof reason === "string" ? reason : JSON.stringify(reason)}`);
    this.name = "EmulatorError";
    this.status = status;
    this.body = body;
  }
}

/** The admin API of one emulator, scoped to one namespace ("" = the default one). */
export class Client {
  constructor(baseUrl, { namespace = "", adminToken } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.namespace = namespace;
    this.adminToken = adminToken;
    this.clock = new Clock(this);
  }

  /** The base URL platform clients use to land in this namespace without a header. */
  get platformUrl() {
    return this.namespace ? `${this.baseUrl}/__ns/${encodeURIComponent(this.namespace)}` : this.baseUrl;
  }

  /** `host:port[/__ns/<name>]`, for SDKs that take an endpoint instead of a URL (DingTalk's). */
  get endpoint() {
    return this.platformUrl.replace(/^https?:\/\//, "");
  }

  /** The namespace header, for clients that send their own headers. */
  get headers() {
    return this.namespace ? { [NAMESPACE_HEADER]: this.namespace } : {};
  }

  /** A client of the same server scoped to another namespace. */
  withNamespace(namespace) {
    return new Client(this.baseUrl, { namespace, adminToken: this.adminToken });
  }

  async call(method, path, { body, query, contentType = "application/json" } = {}) {
    let url = this.baseUrl + path;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null) params.set(k, String(v));
    if ([...params].length) url += `?${params}`;
    const headers = { ...this.headers };
    if (this.adminToken) headers[ADMIN_TOKEN_HEADER] = this.adminToken;
    let payload;
    if (body !== undefined) {
      payload = typeof body === "string" ? body : JSON.stringify(body);
      headers["content-type"] = contentType;
    }
    const resp = await fetch(url, { method, headers, body: payload });
    const text = await resp.text();
    let value = text;
    try {
      value = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: answered as text.
    }
    if (resp.status >= 400) throw new EmulatorError(method, path, resp.status, value);
    return value;
  }

  health() {
    return this.call("GET", "/__emu/health");
  }
  async reset() {
    await this.call("POST", "/__emu/reset");
  }
  state() {
    return this.call("GET", "/__emu/state");
  }
  async putState(state) {
    await this.call("PUT", "/__emu/state", { body: state });
  }
  async loadScenario(text) {
    const json = text.trimStart().startsWith("{");
    await this.call("PUT", "/__emu/scenario", { body: text, contentType: json ? "application/json" : "application/toml" });
  }
  routes() {
    return this.call("GET", "/__emu/routes");
  }
  requests(filter = {}) {
    return this.call("GET", "/__emu/requests", { query: filter });
  }
  async count(filter = {}) {
    return (await this.call("GET", "/__emu/requests/count", { query: filter })).count;
  }
  async clearRequests() {
    return (await this.call("DELETE", "/__emu/requests")).deleted;
  }
  /** Throws unless `route` was called (exactly `times` times when given); answers the entries. */
  async assertCalled(route, { times, status } = {}) {
    const entries = await this.requests({ route, status });
    const ok = times === undefined ? entries.length > 0 : entries.length === times;
    if (!ok) {
      const seen = (await this.requests()).map((e) => `${e.method} ${e.path} (${e.route}) -> ${e.status}`);
      const wanted = times === undefined ? "at least once" : `${times} time(s)`;
      const extra = status === undefined ? "" : ` with status ${status}`;
      throw new Error(
        `expected ${route}${extra} ${wanted}, found ${entries.length}; calls in namespace ${JSON.stringify(this.namespace)}: ${seen.join("; ") || "none"}`,
      );
    }
    return entries;
  }
  faults() {
    return this.call("GET", "/__emu/faults");
  }
  async addFault(rule) {
    return (await this.call("POST", "/__emu/faults", { body: rule })).id;
  }
  async removeFault(id) {
    await this.call("DELETE", `/__emu/faults/${encodeURIComponent(id)}`);
  }
  async clearFaults() {
    return (await this.call("DELETE", "/__emu/faults")).deleted;
  }
  /** Runs `fn` with a fault rule in place, removing it afterwards whatever happens. */
  async withFault(rule, fn) {
    const id = await this.addFault(rule);
    try {
      return await fn(id);
    } finally {
      await this.removeFault(id).catch(() => {});
    }
  }
  act(platform, as, action, fields = {}) {
    return this.call("POST", "/__emu/act", { body: { platform, as, action, ...fields } });
  }
  deliveries(platform) {
    return this.call("GET", "/__emu/deliveries", { query: { platform } });
  }
  waitDeliveries(timeoutMs = 5000) {
    return this.call("POST", "/__emu/deliveries/wait", { query: { timeout_ms: timeoutMs } });
  }
  /** Drops this namespace (the default one is reset instead). */
  async drop() {
    if (!this.namespace) return this.reset();
    await this.call("DELETE", `/__emu/namespaces/${encodeURIComponent(this.namespace)}`).catch(() => {});
  }
}

/** The namespace's clock. Times are RFC 3339 strings; durations like "90s", "2h". */
export class Clock {
  constructor(client) {
    this.client = client;
  }
  get() {
    return this.client.call("GET", "/__emu/clock");
  }
  async now() {
    return (await this.get()).now;
  }
  freeze(at) {
    return this.client.call("POST", "/__emu/clock", { body: { freeze: at ?? true } });
  }
  set(at) {
    return this.client.call("POST", "/__emu/clock", { body: { set: at } });
  }
  advance(by) {
    return this.client.call("POST", "/__emu/clock", { body: { advance: by } });
  }
  real() {
    return this.client.call("POST", "/__emu/clock", { body: { real: true } });
  }
}

/**
 * Starts an emulator on a free port and resolves once it accepts connections.
 * For vitest/jest globalSetup: start in setup, `await emulator.stop()` in teardown, and hand
 * `emulator.baseUrl` to the tests (e.g. through process.env).
 */
export async function startEmulator(options = {}) {
  const { scenario, args = [], binary, adminToken, env, startupTimeoutMs = 30000 } = options;
  const cmd = binary || findBinary();
  const argv = ["serve", "--port", "0", "--ready-json", "--log-format", "json"];
  if (scenario) argv.push("--scenario", scenario);
  if (adminToken) argv.push("--admin-token", adminToken);
  argv.push(...args);
  const childEnv = { ...process.env, ...env };
  delete childEnv.LOWCODE_EMU_PORT;
  const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"], env: childEnv });
  const log = [];
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    log.push(chunk);
    if (log.length > 200) log.shift();
  });
  const ready = await new Promise((resolve, reject) => {
    let buffered = "";
    let settled = false;
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`lowcode-emu did not start: ${why}\n${log.join("").split("\n").slice(-20).join("\n")}`));
    };
    const timer = setTimeout(() => fail(`no ready line within ${startupTimeoutMs} ms`), startupTimeoutMs);
    child.on("error", (e) => fail(e.message));
    child.on("exit", (code) => fail(`exited with status ${code}`));
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      const newline = buffered.indexOf("\n");
      if (newline < 0) return;
      if (settled) return;
      let parsed;
      try {
        parsed = JSON.parse(buffered.slice(0, newline));
      } catch {
        return fail(`printed ${JSON.stringify(buffered.slice(0, newline))} instead of its ready line`);
      }
      settled = true;
      clearTimeout(timer);
      resolve(parsed);
    });
  });
  return new Emulator(child, ready, adminToken, log);
}

/** One running emulator process. */
export class Emulator {
  constructor(child, ready, adminToken, log) {
    this.process = child;
    this.ready = ready;
    this.baseUrl = ready.base_url;
    this.port = ready.port;
    this.adminToken = adminToken;
    this.log = log;
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  /** An admin client for `namespace` ("" = the default one). */
  client(namespace = "") {
    return new Client(this.baseUrl, { namespace, adminToken: this.adminToken });
  }

  /** Stops the process (SIGTERM, then SIGKILL after 10 s); resolves once it has exited. */
  async stop() {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return this.exited;
    this.process.kill("SIGTERM");
    const timer = setTimeout(() => this.process.kill("SIGKILL"), 10000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
