// Building blocks of the config schema: secrets, names, paths, quantities, durations, images.
// Their error texts say what was expected; validate.ts adds the key path and what was given.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { parseBytes, parseCpu, parseDuration } from "./quantities";

/**
 * A secret string: set with `pulumi config set --secret`, never echoed in errors, and handed to
 * components as a Pulumi secret so it stays one all the way to the Kubernetes Secret.
 */
export const secretString = () =>
    z
        .string()
        .min(1, { error: "a non-empty secret (set it with `pulumi config set --secret`)" })
        .transform((value) => pulumi.secret(value))
        .meta({ secret: true });

/** True when the schema was built by `secretString`. */
export function isSecretSchema(schema: z.ZodType): boolean {
    return z.globalRegistry.get(schema)?.secret === true;
}

export const dnsLabel = (maxLength: number) =>
    z.string().regex(new RegExp(`^[a-z](?:[-a-z0-9]{0,${maxLength - 2}}[a-z0-9])?$`), {
        error: `a DNS label (lower-case letters, digits and "-", starting with a letter, at most ${maxLength} characters)`,
    });

export const httpPath = z.string().regex(/^\/\S*$/, { error: 'an absolute HTTP path such as "/healthz"' });
export const absolutePath = z.string().regex(/^\/\S*$/, { error: 'an absolute file system path such as "/tmp"' });
export const cpuQuantity = z.string().refine((v) => parseCpu(v) !== undefined, {
    error: 'a CPU quantity such as "250m" or "1"',
});
export const memoryQuantity = z.string().refine((v) => parseBytes(v) !== undefined, {
    error: 'a memory quantity such as "128Mi" or "1Gi"',
});
/** A Prometheus duration such as "30s", "15d" or "1h30m". */
export const duration = z.string().refine((v) => parseDuration(v) !== undefined && parseDuration(v)! > 0, {
    error: 'a duration such as "30s", "15d" or "1h30m"',
});
export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "an environment variable name" });
export const port = z.number().int().min(1).max(65535);

export interface Resources {
    requests: { cpu: string; memory: string };
    limits: { cpu?: string; memory: string };
}

/** Container requests and limits (a memory limit always: memory is not compressible), limits >= requests. */
export const resourcesSchema = z
    .strictObject({
        requests: z.strictObject({ cpu: cpuQuantity, memory: memoryQuantity }),
        limits: z.strictObject({ cpu: cpuQuantity.optional(), memory: memoryQuantity }),
    })
    // Runs even when other fields failed (`when`), so every problem is reported at once.
    .superRefine(
        (resources, ctx) => {
            const r = resources as Partial<Resources>;
            for (const [kind, parse] of [
                ["cpu", parseCpu],
                ["memory", parseBytes],
            ] as const) {
                const request = r.requests?.[kind];
                const limit = r.limits?.[kind];
                if (typeof request !== "string" || typeof limit !== "string") continue;
                const [requested, limited] = [parse(request), parse(limit)];
                if (requested !== undefined && limited !== undefined && limited < requested) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["limits", kind],
                        input: limit,
                        message: `a limit >= requests.${kind} (${request})`,
                    });
                }
            }
        },
        { when: () => true },
    );

/** Requests and limits as a container spec takes them (no CPU limit unless one is configured). */
export function containerResources(resources: Resources): { requests: Resources["requests"]; limits: Resources["limits"] } {
    return {
        requests: { cpu: resources.requests.cpu, memory: resources.requests.memory },
        limits: resources.limits.cpu ? { cpu: resources.limits.cpu, memory: resources.limits.memory } : { memory: resources.limits.memory },
    };
}

// An image reference that names exactly one image: a tag other than "latest", or a digest.
// A registry port (`host:5000/`) is only a port when a path follows it; `redis:8` is a tag.
const IMAGE_REF =
    /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::([\w][\w.-]{0,127}))?(?:@sha256:[a-f0-9]{64})?$/;
export function isPinnedImage(ref: string): boolean {
    const m = IMAGE_REF.exec(ref);
    if (!m) return false;
    return ref.includes("@sha256:") || (m[1] !== undefined && m[1] !== "latest");
}
export const imageRef = z.string().refine(isPinnedImage, {
    error: 'a pinned image reference: "registry/name:tag" (not "latest") or "registry/name@sha256:<digest>"',
});
export const chartVersion = z.string().regex(/^v?\d+\.\d+\.\d+(?:[-+][\w.-]+)?$/, { error: 'an exact chart version such as "88.5.3"' });

export const isNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);
