// vitest globalSetup: one emulator for the run, its URL handed to the tests through provide/inject.
import { startEmulator } from "lowcode-emu";

let emulator;

export async function setup({ provide }) {
  emulator = await startEmulator();
  provide("emuUrl", emulator.baseUrl);
}

export async function teardown() {
  await emulator.stop();
}
