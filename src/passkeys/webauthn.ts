/**
 * @simplewebauthn/server and its helpers, loaded at the first passkey ceremony rather than at start:
 * the library brings an X.509 and ASN.1 stack (@peculiar/*) that costs about a second of CPU to load,
 * paid before by every `famos` command, every server start and every test process, though only the
 * passkey routes use it. One load per process; a failed load is tried again at the next ceremony.
 */
export type WebAuthn = typeof import("@simplewebauthn/server") & typeof import("@simplewebauthn/server/helpers");

let loading: Promise<WebAuthn> | undefined;

/** Whether this process has started loading the library (tests: a server does not load it until a ceremony is near). */
export function webauthnRequested(): boolean {
  return loading !== undefined;
}

export function webauthn(): Promise<WebAuthn> {
  loading ??= Promise.all([import("@simplewebauthn/server"), import("@simplewebauthn/server/helpers")]).then(
    ([server, helpers]) => ({ ...server, ...helpers }),
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}
