import { describe, expect, it } from "vitest";
import { appOverHttp } from "../support/app-over-http.ts";

/**
 * A start typed inside a spring change of the clocks does not exist (01:30 on 28 March 2027 in
 * London: the clocks go from 01:00 to 02:00). `famos rollout plan --from` warns and says the start
 * it saved (changeWave's `skipped`, the one rule); the console's Rollout form saved it silently.
 * It must say so too, in the reader's language and zone.
 */
describe("Rollout form: a start inside a spring clock-change gap", () => {
  const served = appOverHttp();

  it("says the time typed does not exist and the start saved, in English", async () => {
    const client = await served.admin("/support/rollout");
    const answer = await client.post("/support/rollout/plan", { partner: "4711", from: "2027-03-28T01:30" });
    const page = answer.statusCode === 303 ? await client.get(answer.headers.location as string) : answer;
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("28/03/2027 01:30 does not exist in this time zone: the clocks go forward 1 hour then. The start was saved as 28/03/2027 02:30");
    const [wave] = await served.t.deps.db.selectFrom("rollout_plan").select("starts_at").execute();
    expect(Number(wave!.starts_at)).toBe(Date.UTC(2027, 2, 28, 1, 30));
    // A time that exists says nothing of the kind.
    await client.get("/support/rollout");
    const plain = await client.post("/support/rollout/plan", { partner: "4711", from: "2027-03-28T03:30" });
    expect((await client.get(plain.headers.location as string)).body).not.toContain("does not exist");
  });

  it("says it in German, in the reader's zone (Berlin's gap is 02:00 to 03:00)", async () => {
    const client = await served.admin("/profile");
    expect((await client.post("/profile/language", { locale: "de", timeZone: "Europe/Berlin" })).statusCode).toBe(303);
    await client.get("/support/rollout");
    const answer = await client.post("/support/rollout/plan", { partner: "4712", from: "2027-03-28T02:15" });
    const page = answer.statusCode === 303 ? await client.get(answer.headers.location as string) : answer;
    expect(page.body).toContain("28.03.2027 02:15 gibt es in dieser Zeitzone nicht");
    expect(page.body).toContain("28.03.2027 03:15");
  });
});
