// The spawner's own process (test/spawner.ts starts it): it reads a synchronous spawn's options
// from one FIFO, runs them with Node's own spawnSync binding, the one the test worker would have
// called, and writes the result to the other FIFO, until the worker closes its end. Frames are a
// 4-byte length and a v8 serialization (Buffers, Infinity and undefined survive it).
"use strict";
const { Buffer } = require("node:buffer");
const { openSync, readSync, writeSync } = require("node:fs");
const { deserialize, serialize } = require("node:v8");

// The worker opens its ends in the same order: the requests' write end, then the results' read end.
const requests = openSync(process.argv[2], "r");
const results = openSync(process.argv[3], "w");
const { spawn } = process.binding("spawn_sync");

/** Reads exactly `length` bytes, or returns undefined at the end of the stream. */
function readExactly(length) {
    const buffer = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
        const read = readSync(requests, buffer, filled, length - filled, null);
        if (read === 0) return undefined;
        filled += read;
    }
    return buffer;
}

function writeFrame(payload) {
    const frame = Buffer.allocUnsafe(4 + payload.length);
    frame.writeUInt32LE(payload.length, 0);
    payload.copy(frame, 4);
    for (let written = 0; written < frame.length;) written += writeSync(results, frame, written);
}

for (;;) {
    const header = readExactly(4);
    const request = header && readExactly(header.readUInt32LE(0));
    if (!request) break; // the worker is gone
    writeFrame(serialize(spawn(deserialize(request))));
}
