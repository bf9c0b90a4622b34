// The logging area's ports, as clients and network policies name them.

/** APM Server's intake (TLS). */
export const APM_PORT = 8200;
