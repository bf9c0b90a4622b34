/** What replaces an encrypted (`secure:`) value when a stack file is read without the Pulumi CLI. */
export const SECRET_STAND_IN = "offline-plan-secret-stand-in";
