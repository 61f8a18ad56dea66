import type { Step } from "./types.ts";

/**
 * The step every scenario shares: wait for the newest code mailed to the virtual user since the
 * request that triggered it (`state.codeRequestedAt`), record code→SMTP, keep the code in `state.code`.
 */
export const readCodeStep: Step = {
  name: "read code (SMTP)",
  async run(ctx) {
    const since = ctx.state.codeRequestedAt as number;
    const mail = await ctx.sink.waitForCode(ctx.user.email, { since, timeoutMs: 15_000 });
    ctx.metric("code→smtp", mail.acceptedAt - since);
    ctx.state.code = mail.code;
  },
};
