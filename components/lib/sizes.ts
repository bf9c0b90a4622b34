// Fixed sizes of the small helper pods every area runs (exporters, the Pushgateway). Pure.

/** An exporter or a Pushgateway: a few millicores, well under 64 MiB. */
export const EXPORTER_RESOURCES = { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } };
