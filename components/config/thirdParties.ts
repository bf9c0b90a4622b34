// `finbot:thirdParties`: the external APIs FinBot calls (a payment provider, an LLM, Sentry), each
// reached only through the metered egress gateway, with who may call it, what a call costs and how
// much a month may cost.
import { z } from "zod";
import { dnsLabel, duration, port } from "./primitives";

const hostname = z
    .string()
    .regex(/^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, { error: 'a public host name such as "api.stripe.com"' });

const usd = z.number().min(0);

export const thirdPartySchema = z.strictObject({
    name: dnsLabel(30).describe("Names the provider's route, metrics (`provider` label) and its URL variable THIRD_PARTY_<NAME>_URL."),
    host: hostname.describe("The provider's API host; the gateway verifies its certificate for this name. For Sentry, your DSN's host."),
    port: port.default(443).describe("The provider's HTTPS port."),
    callers: z
        .array(dnsLabel(40))
        .min(1)
        .describe("Services and workers that may call it; no other pod can reach its route (network policy)."),
    price: z
        .strictObject({
            perRequest: usd.describe("USD per request (measured: the gateway counts requests)."),
            perGigabyteSent: usd.default(0).describe("USD per GB sent to the provider (measured: the gateway's upstream bytes)."),
            perGigabyteReceived: usd.default(0).describe("USD per GB received from it (measured: the gateway's upstream bytes)."),
        })
        .describe(
            "What a call costs. Providers billing by tokens: give the average cost of a request here (an estimate; the gateway does not read usage headers).",
        ),
    monthlyBudget: z.number().positive().describe("USD a calendar month may cost: the forecast is alerted against it."),
    expectedRequestsPerMonth: z
        .number()
        .int()
        .min(0)
        .default(0)
        .describe("Requests a month at today's traffic, for the cost table (an estimate, not a limit)."),
    rateLimitPerSecond: z
        .number()
        .int()
        .min(1)
        .describe("Requests a second per gateway replica: the spend guard against a runaway loop (429 beyond)."),
    maxConcurrentRequests: z
        .number()
        .int()
        .min(1)
        .default(64)
        .describe("Circuit breaker: requests in flight and waiting per gateway replica (503 beyond)."),
    timeout: duration.default("10s").describe("The whole request's timeout at the gateway."),
    idempotent: z
        .boolean()
        .default(false)
        .describe("Retried on connection failures only when its API is idempotent (a payment must never be sent twice)."),
    objective: z
        .strictObject({
            errorRatio: z.number().gt(0).lt(1).default(0.05).describe("Share of calls that may fail (5xx or no response)."),
            latencyP95Seconds: z.number().positive().default(2).describe("95th percentile of a call's duration."),
        })
        .prefault({})
        .describe("What the provider should deliver; worse for 15 minutes opens a ticket."),
});

/** The entry error tracking goes through (finbot:errorTracking needs it). */
export const SENTRY_PROVIDER = "sentry";

export const thirdPartiesSchema = z.array(thirdPartySchema).default([]);

export type ThirdPartyConfig = z.output<typeof thirdPartySchema>;
