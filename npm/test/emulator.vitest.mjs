// Under vitest: the emulator from globalSetup, a namespace per test.
import { afterEach, beforeEach, expect, inject, test } from "vitest";
import { Client } from "lowcode-emu";

let emu;
beforeEach((ctx) => {
  emu = new Client(inject("emuUrl"), { namespace: `vitest-${ctx.task.id}` });
});
afterEach(() => emu.drop());

test("a record made in one test's namespace", async () => {
  const r = await fetch(`${emu.platformUrl}/api/v5/app/entry/data/create`, {
    method: "POST",
    headers: { authorization: "Bearer jdy-demo-key", "content-type": "application/json" },
    body: JSON.stringify({ app_id: "6566f8a1c2e4b10a3c7d0001", entry_id: "6566f8a1c2e4b10a3c7d0101", data: { _widget_1700000000001: { value: "vitest" } } }),
  });
  expect(r.status).toBe(200);
  await emu.assertCalled("jiandaoyun.data.create", { times: 1 });
});

test("is not seen by the next", async () => {
  expect(await emu.count({ route: "jiandaoyun.data.create" })).toBe(0);
  expect((await emu.health()).status).toBe("ok");
});
