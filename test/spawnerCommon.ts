// What both sides of the spawner (test/spawner.ts, test/spawnerProcess.ts) share: Node's spawnSync
// binding, and their wire: each message is 4 bytes of length, then a v8 serialization, which keeps
// Buffers, Infinity and undefined as they were.
import { readSync, writeSync } from "node:fs";
import { deserialize, serialize } from "node:v8";

/** The normalized options child_process.spawnSync hands its binding (lib/child_process.js). */
export interface SpawnSyncOptions {
    cwd?: string;
    stdio: Array<{ type: string; fd?: number; input?: ArrayBufferView }>;
}
export interface SpawnSyncBinding {
    spawn(options: SpawnSyncOptions): unknown;
}

/**
 * The native binding child_process.spawnSync calls: in Node 20 (v20.20.2 here), lib/child_process.js's
 * spawnSync normalizes the options, then lib/internal/child_process.js's spawnSync calls
 * `spawn_sync.spawn(options)`. process.binding (deprecated for public use, and the one way to it)
 * returns that same object: replacing its `spawn` is seen by execFileSync (checked on v20.20.2).
 */
export function spawnSyncBinding(): SpawnSyncBinding {
    return (process as unknown as { binding(name: string): SpawnSyncBinding }).binding("spawn_sync");
}

/** Reads exactly `length` bytes; undefined when the stream ends before the first. */
function readExactly(fd: number, length: number): Buffer | undefined {
    const buffer = Buffer.allocUnsafe(length);
    for (let filled = 0; filled < length;) {
        const read = readSync(fd, buffer, filled, length - filled, null);
        if (read === 0) {
            if (filled === 0) return undefined;
            throw new Error("the spawner's stream ended within a message");
        }
        filled += read;
    }
    return buffer;
}

/** The next message, or undefined when the other end has closed. */
export function readMessage(fd: number): unknown {
    const header = readExactly(fd, 4);
    if (header === undefined) return undefined;
    const body = readExactly(fd, header.readUInt32LE(0));
    if (body === undefined) throw new Error("the spawner's stream ended within a message");
    return deserialize(body);
}

export function writeMessage(fd: number, message: unknown): void {
    const payload = serialize(message);
    const frame = Buffer.allocUnsafe(4 + payload.length);
    frame.writeUInt32LE(payload.length, 0);
    payload.copy(frame, 4);
    for (let written = 0; written < frame.length;) written += writeSync(fd, frame, written);
}
