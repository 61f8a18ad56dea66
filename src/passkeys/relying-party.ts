/**
 * The relying party of one WebAuthn ceremony, decided by the web layer (src/web/origin.ts): the
 * origin the browser must report in clientDataJSON and the RP ID whose SHA-256 the authenticator
 * signs over. Passed in rather than read here, so the domain never guesses a host.
 */
export interface RelyingParty {
  origin: string;
  rpId: string;
}

/** The name authenticators show beside the account ("FAMOS – j.smith"). */
export const RP_NAME = "FAMOS";
