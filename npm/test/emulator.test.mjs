// The packed lowcode-emu npm package, installed into a fresh project, against the built binary:
// node --test. SMALL_SCENARIO names a scenario file of its own for the scenario test.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { dirname } from "node:path";

import { Client, EmulatorError, findBinary, startEmulator } from "lowcode-emu";

const JDY = { app_id: "6566f8a1c2e4b10a3c7d0001", entry_id: "6566f8a1c2e4b10a3c7d0101" };
const NAME = "_widget_1700000000001";
const SEEDED = 4;
let counter = 0;

async function jdy(emu, op, body) {
  return fetch(`${emu.platformUrl}/api/v5/app/entry/data/${op}`, {
    method: "POST",
    headers: { authorization: "Bearer jdy-demo-key", "content-type": "application/json" },
    body: JSON.stringify({ ...JDY, ...body }),
  });
}

async function customers(emu) {
  return (await (await jdy(emu, "list", { limit: 100 })).json()).data;
}

describe("the demo emulator", () => {
  let emulator;
  let emu;
  before(async () => {
    emulator = await startEmulator();
  });
  after(async () => {
    const exit = await emulator.stop();
    assert.equal(exit.code, 0, "a SIGTERM stops it cleanly");
  });
  // Each test its own namespace, dropped afterwards.
  test.beforeEach(() => {
    emu = emulator.client(`node-${process.pid}-${++counter}`);
  });
  test.afterEach(() => emu.drop());

  test("the binary comes from the platform package when asked", () => {
    const found = findBinary({ PATH: "" });
    if (process.env.REQUIRE_PLATFORM_PACKAGE === "1") {
      assert.match(found, /node_modules\/@lowcode-emu\/linux-x64\/bin\/lowcode-emu$/);
    }
    assert.throws(() => findBinary({ LOWCODE_EMU_BIN: "/nonexistent/lowcode-emu" }), /not an executable/);
  });

  test("ready line and health", async () => {
    assert.equal(emulator.ready.base_url, emulator.baseUrl);
    assert.equal(emulator.ready.pid, emulator.process.pid);
    assert.match(emulator.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(await emu.health(), { status: "ok", platforms: ["jiandaoyun", "yida", "astrozero", "omflow"], scenario: "demo" });
  });

  for (const name of ["ACME", "Globex"]) {
    test(`a namespace starts from the scenario (${name})`, async () => {
      assert.equal((await customers(emu)).length, SEEDED);
      const created = await jdy(emu, "create", { data: { [NAME]: { value: name } } });
      assert.equal(created.status, 200);
      assert.equal((await customers(emu)).at(-1)[NAME], name);
      await emu.assertCalled("jiandaoyun.data.create", { times: 1 });
      assert.equal(await emu.count({ route: "jiandaoyun.data.list" }), 2);
      assert.equal(await emulator.client("").count({ route: "jiandaoyun.data.create", namespace: "" }), 0, "the default namespace saw nothing");
    });
  }

  test("assertCalled says what was called", async () => {
    await customers(emu);
    await assert.rejects(emu.assertCalled("jiandaoyun.data.create", { times: 1 }), (e) => {
      assert.match(e.message, /expected jiandaoyun\.data\.create 1 time\(s\), found 0/);
      assert.match(e.message, /POST \/api\/v5\/app\/entry\/data\/list \(jiandaoyun\.data\.list\) -> 200/);
      return true;
    });
  });

  test("a fault lasts for its callback", async () => {
    const answer = await emu.withFault({ route: "jiandaoyun.data.create", error: "rate_limited" }, async (id) => {
      const refused = await jdy(emu, "create", { data: { [NAME]: { value: "too fast" } } });
      assert.equal(refused.status, 400);
      assert.equal((await refused.json()).code, 8304);
      assert.deepEqual((await emu.faults()).map((f) => f.id), [id]);
      return id;
    });
    assert.deepEqual(await emu.faults(), []);
    assert.equal((await jdy(emu, "create", { data: { [NAME]: { value: "later" } } })).status, 200);
    const entries = await emu.requests({ route: "jiandaoyun.data.create" });
    assert.deepEqual(entries.map((e) => [e.status, e.fault]), [[400, answer], [200, null]]);
  });

  test("the clock moves record times", async () => {
    await emu.clock.freeze("2026-06-01T09:00:00Z");
    const first = (await (await jdy(emu, "create", { data: { [NAME]: { value: "a" } } })).json()).data;
    await emu.clock.advance("2h");
    const second = (await (await jdy(emu, "create", { data: { [NAME]: { value: "b" } } })).json()).data;
    assert.equal(first.createTime, "2026-06-01T09:00:00.000Z");
    assert.equal(second.createTime, "2026-06-01T11:00:00.000Z");
    assert.deepEqual(await emu.clock.get(), { now: "2026-06-01T11:00:00.000Z", frozen: true });
  });

  test("state, reset and acting as a person", async () => {
    const made = await emu.act("jiandaoyun", "zhangsan", "create", { entry_id: JDY.entry_id, data: { [NAME]: { value: "from the UI" } } });
    assert.equal(made.data[NAME], "from the UI");
    const records = (await emu.state()).jiandaoyun.apps[0].entries[0].records;
    assert.equal(records.at(-1)[NAME], "from the UI");
    await emu.waitDeliveries(3000);
    assert.equal((await emu.deliveries("jiandaoyun"))[0].event, "data_create");
    await emu.reset();
    assert.deepEqual(await emu.requests(), []);
    assert.equal((await customers(emu)).length, SEEDED);
  });

  test("admin errors are EmulatorError", async () => {
    await assert.rejects(emu.addFault({ route: "jiandaoyun.data.create", error: "no_such_error" }), (e) => {
      assert.ok(e instanceof EmulatorError);
      assert.equal(e.status, 400);
      return true;
    });
  });

  test("a client made from a URL and a header", async () => {
    const byUrl = new Client(emulator.baseUrl, { namespace: emu.namespace });
    assert.equal(byUrl.endpoint, `127.0.0.1:${emulator.port}/__ns/${emu.namespace}`);
    await jdy(emu, "create", { data: { [NAME]: { value: "via mount" } } });
    const viaHeader = await fetch(`${emulator.baseUrl}/api/v5/app/entry/data/list`, {
      method: "POST",
      headers: { authorization: "Bearer jdy-demo-key", "content-type": "application/json", ...byUrl.headers },
      body: JSON.stringify({ ...JDY, limit: 100 }),
    });
    assert.equal((await viaHeader.json()).data.at(-1)[NAME], "via mount");
  });
});

test("a scenario of its own", { skip: !process.env.SMALL_SCENARIO }, async () => {
  const emulator = await startEmulator({ scenario: process.env.SMALL_SCENARIO, adminToken: "node-token" });
  try {
    const admin = emulator.client();
    assert.equal((await admin.health()).scenario, "plugin-small");
    await assert.rejects(new Client(emulator.baseUrl).state(), (e) => e.status === 401, "the admin token is required");
    assert.ok((await admin.state()).jiandaoyun, "and sent by the client");
  } finally {
    await emulator.stop();
  }
});

test("a start that fails says why", async () => {
  await assert.rejects(startEmulator({ scenario: `${dirname(process.cwd())}/no-such-file.toml` }), /did not start.*\n[\s\S]*no-such-file/);
});
