// The hardening every container the platform runs gets: no privilege escalation, no Linux
// capabilities, a read-only root file system (writable paths are explicit volumes).

/** A container's securityContext: no privilege escalation, no capabilities, read-only root file system. */
export function hardenedContainer(): { allowPrivilegeEscalation: false; readOnlyRootFilesystem: true; capabilities: { drop: string[] } } {
    return { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };
}
