// Grafana's single sign-on: the gateway signs people in (OIDC) and forwards their ID token on a
// header only Envoy sets; Grafana verifies the token itself against the identity provider's keys
// (fetched through the egress gateway, verified with the internal CA), creates the user on first
// sight and takes the role from the groups claim. The admin account stays for break-glass only.
// Grafana 13 `[auth.jwt]`: header_name, jwk_set_url (https only), tls_client_ca, expect_claims,
// role_attribute_path (JMESPath over the claims), auto_sign_up (pkg/setting/setting_jwt.go). Pure.
import { INTERNAL_CA_FILE } from "../lib/certificates";

export interface GrafanaSso {
    /** The request header the gateway forwards the verified ID token on. */
    header: string;
    /** The token's expected issuer (the identity provider) and audience (the platform's client id). */
    issuer: string;
    audience: string;
    /** The identity provider's signing keys, through the egress gateway (https). */
    keysUrl: string;
    /** Claims carrying the email (Grafana's login) and the groups. */
    emailClaim: string;
    groupsClaim: string;
    /** Groups given Admin and Editor; everyone else the gateway admits is a Viewer. */
    roles: { admin: string[]; editor: string[] };
}

/** A JMESPath raw string literal. */
const literal = (value: string) => `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

/**
 * Grafana's role from the groups claim, as a JMESPath expression: Admin for an admin group, else
 * Editor for an editor group, else Viewer. A token without the claim is a Viewer (the gateway has
 * already refused anyone outside the allowed groups). Pure.
 */
export function grafanaRolePath(groupsClaim: string, roles: GrafanaSso["roles"]): string {
    const groups = `(${JSON.stringify(groupsClaim)} || \`[]\`)`;
    const member = (names: string[]) => names.map((group) => `contains(${groups}, ${literal(group)})`).join(" || ");
    return [
        ...(roles.admin.length > 0 ? [`(${member(roles.admin)}) && 'Admin'`] : []),
        ...(roles.editor.length > 0 ? [`(${member(roles.editor)}) && 'Editor'`] : []),
        "'Viewer'",
    ].join(" || ");
}

/**
 * Grafana's `[auth.jwt]` for single sign-on. It verifies the egress gateway with the internal CA at
 * INTERNAL_CA_FILE, which Grafana mounts with single sign-on. Pure.
 */
export function grafanaJwtSettings(sso: GrafanaSso): Record<string, string | boolean> {
    return {
        enabled: true,
        header_name: sso.header,
        jwk_set_url: sso.keysUrl,
        tls_client_ca: INTERNAL_CA_FILE,
        cache_ttl: "60m",
        expect_claims: JSON.stringify({ iss: sso.issuer, aud: sso.audience }),
        email_claim: sso.emailClaim,
        username_claim: sso.emailClaim,
        auto_sign_up: true,
        role_attribute_path: grafanaRolePath(sso.groupsClaim, sso.roles),
        // Roles follow the groups on every sign-in; none of them is a server admin.
        skip_org_role_sync: false,
        allow_assign_grafana_admin: false,
    };
}
