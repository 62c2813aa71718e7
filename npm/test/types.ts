// Compiled with `tsc --noEmit --strict` in the consumer project: the package's types describe how it is used.
import { Client, EmulatorError, startEmulator, type FaultRule, type JournalEntry } from "lowcode-emu";

async function typed(): Promise<void> {
  const emulator = await startEmulator({ scenario: "scenario.toml", args: ["--max-namespaces", "10"] });
  const emu: Client = emulator.client("worker-1");
  const url: string = emu.platformUrl;
  const entries: JournalEntry[] = await emu.requests({ route: "jiandaoyun.data.create", status: 200 });
  const status: number = entries[0].status;
  const rule: FaultRule = { route: "jiandaoyun.data.create", nth: 2, error: "rate_limited" };
  const id: string = await emu.withFault(rule, async (faultId) => faultId);
  const now: string = (await emu.clock.advance("2h")).now;
  const count: number = await emu.count({ platform: "yida" });
  try {
    await emu.assertCalled("yida.openapi.save", { times: 1 });
  } catch (e) {
    if (e instanceof EmulatorError) console.log(e.status);
  }
  const exit = await emulator.stop();
  console.log(url, status, id, now, count, exit.code);
}

void typed;
