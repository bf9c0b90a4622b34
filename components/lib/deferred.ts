// A value one part needs before another part that makes it exists: a promise settled later in the
// same program run. Pulumi waits for it wherever it is an input or a dependency.

export interface Deferred<T> {
    promise: Promise<T>;
    resolve(value: T): void;
    reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
    });
    // Settled as rejected only when the program fails anyway; no unhandled-rejection noise on top.
    promise.catch(() => undefined);
    return { promise, resolve, reject };
}

/** Settles `d` with what `make` returns, or rejects it with what `make` throws (and throws it on). */
export function settle<T>(d: Deferred<T>, make: () => T): void {
    try {
        d.resolve(make());
    } catch (error) {
        d.reject(error);
        throw error;
    }
}
