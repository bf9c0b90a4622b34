import * as pulumi from "@pulumi/pulumi";
import * as sentry from "@pulumiverse/sentry";
import { ErrorTrackingConfig } from "../config/logging";

export interface ErrorTrackingArgs {
    /** The validated `finbot:errorTracking`. */
    config: ErrorTrackingConfig;
    /** Services (and workers) that get a DSN. */
    consumers: string[];
    /** `staging` or `production`: the Sentry environment of every key. */
    environment: string;
}

/**
 * Error tracking with Sentry: with an API token, a Sentry project and client key per service
 * (their DSNs are secrets); with only a DSN, that DSN for every service.
 */
export class ErrorTracking extends pulumi.ComponentResource {
    /** DSN per consumer (secret). */
    public readonly dsns: Record<string, pulumi.Output<string>> = {};

    constructor(name: string, args: ErrorTrackingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("finbot:logging:ErrorTracking", name, {}, opts);
        const { config } = args;
        if (config.authToken) {
            const { organization, team } = config;
            if (!organization || !team)
                throw new Error("ErrorTracking: an API token needs organization and team (the config check requires them)");
            const provider = new sentry.Provider(`${name}-provider`, { token: config.authToken, baseUrl: config.url }, { parent: this });
            for (const consumer of args.consumers) {
                const project = new sentry.SentryProject(
                    `${name}-${consumer}`,
                    {
                        organization,
                        teams: [team],
                        name: `finbot-${consumer}`,
                        slug: `finbot-${consumer}`,
                        platform: "other",
                    },
                    { parent: this, provider },
                );
                const key = new sentry.SentryKey(
                    `${name}-${consumer}`,
                    { organization, project: project.slug, name: `finbot-${consumer}-${args.environment}` },
                    { parent: this, provider },
                );
                this.dsns[consumer] = pulumi.secret(key.dsnPublic);
            }
        } else if (config.dsn) {
            for (const consumer of args.consumers) this.dsns[consumer] = config.dsn;
        }
        this.registerOutputs({});
    }
}
