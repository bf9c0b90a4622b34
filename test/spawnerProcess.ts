// The spawner's own process (test/spawner.ts starts it): it reads a synchronous spawn's options
// from one FIFO, runs them with Node's own spawnSync binding, the one the test worker would have
// called, and writes the result to the other FIFO, until the worker closes its end.
import { openSync } from "node:fs";
import { SpawnSyncOptions, readMessage, spawnSyncBinding, writeMessage } from "./spawnerCommon";

// The worker opens its ends in the same order: the requests' write end, then the results' read end.
const requests = openSync(process.argv[2], "r");
const results = openSync(process.argv[3], "w");
const binding = spawnSyncBinding();

for (let options = readMessage(requests); options !== undefined; options = readMessage(requests)) {
    writeMessage(results, binding.spawn(options as SpawnSyncOptions));
}
