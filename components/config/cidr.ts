// IPv4 address ranges: which are private (RFC 1918, link-local, carrier-grade NAT) and which reach
// the internet. The config checks, the network policies' INTERNET peer and the policy pack share
// them. Pure.

/** Private, link-local and carrier-grade NAT ranges. */
export const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"];
/** The RFC 1918 ranges: where a laptop cluster's nodes and API server answer (kind, k3d and minikube use docker or VM networks in them). */
export const RFC1918_RANGES = PRIVATE_RANGES.slice(0, 3);
/** Loopback: no more the internet than a private range. */
const LOOPBACK = "127.0.0.0/8";

/** An IPv4 CIDR's form, such as "10.0.0.0/8" (the schema's fields and the checks use it). */
export const IPV4_CIDR = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;
/** Whether a string is an IPv4 CIDR such as "10.0.0.0/8". */
export const isIpv4Cidr = (value: string) => IPV4_CIDR.test(value);

/** A dotted IPv4 address as a number, and back. */
export const ipv4 = (address: string) => address.split(".").reduce((n, part) => n * 256 + Number(part), 0);
export const dottedIpv4 = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");

/** Whether `cidr` lies wholly inside `range`. */
function within(cidr: string, range: string): boolean {
    const [address, bits] = cidr.split("/");
    const [base, size] = range.split("/");
    const block = 2 ** (32 - Number(size));
    return Number(bits) >= Number(size) && Math.floor(ipv4(address) / block) === Math.floor(ipv4(base) / block);
}

/** Whether a CIDR reaches beyond the private ranges (0.0.0.0/0 with the private ranges excepted still does). */
export const reachesInternet = (cidr: string): boolean => ![...PRIVATE_RANGES, LOOPBACK].some((range) => within(cidr, range));
