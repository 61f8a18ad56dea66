import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rolloutProgress } from "../../src/rollout/progress.ts";
import { readPlan } from "../../src/rollout/plan.ts";
import { addUser, createTestApp, type TestApp } from "../support/app.ts";
import { FormClient, signInFully } from "../support/client.ts";
import { DIALECTS } from "../store/dialects.ts";
import { seedRolloutNetwork } from "./seed.ts";

/** The seeded network (see seed.ts) plus the support person reading the page: partner 9000, enrolled. */
const EXPECTED = {
  overall: { users: 20, enrolled: 8, pending: 2, notStarted: 10, locked: 2, disabled: 0 },
  partners: [
    { partnerNumber: "1001", startsAt: Date.UTC(2026, 11, 1, 7), users: 10, enrolled: 6, pending: 2, notStarted: 2, locked: 1, disabled: 0 },
    { partnerNumber: "1002", startsAt: Date.UTC(2026, 11, 8, 7), users: 4, enrolled: 1, pending: 0, notStarted: 3, locked: 1, disabled: 0 },
    { partnerNumber: "1003", startsAt: Date.UTC(2026, 11, 8, 7), users: 5, enrolled: 0, pending: 0, notStarted: 5, locked: 0, disabled: 0 },
    { partnerNumber: "9000", startsAt: Date.UTC(2026, 11, 8, 7), users: 1, enrolled: 1, pending: 0, notStarted: 0, locked: 0, disabled: 0 },
  ],
};

/** Each partner's segments as drawn: [x, width] for enrolled, pending, not started (bar 360 long, from x 90). */
const BARS: Record<string, [string, string][]> = {
  "1001": [["90.00", "216.00"], ["306.00", "72.00"], ["378.00", "72.00"]],
  "1002": [["90.00", "90.00"], ["180.00", "0.00"], ["180.00", "270.00"]],
  "1003": [["90.00", "0.00"], ["90.00", "0.00"], ["90.00", "360.00"]],
  "9000": [["90.00", "360.00"], ["450.00", "0.00"], ["450.00", "0.00"]],
};

describe.each(DIALECTS)("the Rollout page on a seeded network (%s)", (dialect) => {
  let t: TestApp;
  let client: FormClient;

  beforeAll(async () => {
    t = await createTestApp({ database: dialect });
    await seedRolloutNetwork(t.deps);
    const support = await addUser(t.deps, { role: "support", loginId: "retail.it", partnerNumber: "9000", email: "retail.it@famos.test" });
    client = new FormClient(t.app);
    await signInFully(client, t.smtp, support);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("counts users, enrolled, pending, not started, locked and disabled per partner and overall", async () => {
    const progress = await rolloutProgress(t.deps);
    expect(progress.overall).toEqual(EXPECTED.overall);
    expect(progress.partners).toEqual(EXPECTED.partners);
    expect(progress.days).toHaveLength(14);
    expect(progress.days.filter((d) => d.enrolled > 0)).toEqual([
      { day: "25/11/2026", enrolled: 2, imported: 0 },
      { day: "27/11/2026", enrolled: 1, imported: 0 },
      { day: "28/11/2026", enrolled: 3, imported: 0 },
    ]);
  });

  it("shows every figure in the tables and draws every bar segment at its share of the partner's users", async () => {
    const page = await client.get("/support/rollout");
    expect(page.statusCode).toBe(200);
    const body = page.body;
    expect(body).toContain('<a href="/support/rollout" aria-current="page">Rollout</a>');
    expect(body).toContain('<strong data-figure="enrolled-share">40%</strong> of 20 users have a confirmed OTP email.');
    const cells = (html: string) => [...html.matchAll(/<td data-figure="(\w+)">(\d+)<\/td>/g)].map((m) => [m[1], Number(m[2])]);
    const overall = /<table class="figures" id="overall">[\s\S]*?<\/table>/.exec(body)![0];
    expect(Object.fromEntries(cells(overall))).toEqual(EXPECTED.overall);
    for (const p of EXPECTED.partners) {
      const row = new RegExp(`<tr data-partner="${p.partnerNumber}">[\\s\\S]*?</tr>`).exec(body)![0];
      const { partnerNumber: _n, startsAt: _s, ...figures } = p;
      expect(Object.fromEntries(cells(row))).toEqual(figures);
      const segments = ["enrolled", "pending", "notStarted"].map((segment) => {
        const rect = new RegExp(`<rect data-partner="${p.partnerNumber}" data-segment="${segment}" x="([\\d.]+)" y="\\d+" width="([\\d.]+)"`).exec(body);
        return [rect![1], rect![2]];
      });
      expect(segments, `bars of ${p.partnerNumber}`).toEqual(BARS[p.partnerNumber]);
      expect(body).toContain(`${p.enrolled} enrolled, ${p.pending} pending, ${p.notStarted} not started</text>`);
    }
    // The line: 14 days, highest 3 at the top (y 20), zero on the baseline (y 180).
    const points = [...body.matchAll(/<rect data-day="([\d/]+)" x="([\d.]+)" y="([\d.]+)"/g)].map((m) => [m[1], Number(m[2]) + 3.5, Number(m[3]) + 3.5]);
    expect(points).toHaveLength(14);
    expect(points[0]).toEqual(["15/11/2026", 40, 180]);
    expect(points[10]).toEqual(["25/11/2026", 427.69, 73.33]);
    expect(points[12]).toEqual(["27/11/2026", 505.23, 126.67]);
    expect(points[13]).toEqual(["28/11/2026", 544, 20]);
    expect(body).toContain('<th scope="row">28/11/2026</th><td data-figure="enrolled">3</td>');
    // Drawn on the server: no script of any kind on the page.
    expect(body).not.toMatch(/<script|onload=|javascript:/i);
    expect(body).toContain('<pattern id="rollout-hatch"');
  });

  it("exports the same figures as CSV, and as Prometheus gauges", async () => {
    const csv = await client.get("/support/rollout.csv");
    expect(csv.headers["content-type"]).toContain("text/csv");
    expect(csv.body).toBe(
      "\uFEFF" +
        [
          '"partner_number","starts_utc","starts_local","users","enrolled","pending","not_started","locked","disabled","starts_local_offset"',
          '"1001","2026-12-01T07:00:00.000Z","01/12/2026 07:00","10","6","2","2","1","0","UTC+00:00"',
          '"1002","2026-12-08T07:00:00.000Z","08/12/2026 07:00","4","1","0","3","1","0","UTC+00:00"',
          '"1003","2026-12-08T07:00:00.000Z","08/12/2026 07:00","5","0","0","5","0","0","UTC+00:00"',
          '"9000","2026-12-08T07:00:00.000Z","08/12/2026 07:00","1","1","0","0","0","0","UTC+00:00"',
          '"all","","","20","8","2","10","2","0",""',
        ].join("\r\n") +
        "\r\n",
    );
    const metrics = (await t.app.inject({ method: "GET", url: "/metrics" })).body;
    for (const [state, value] of Object.entries({ users: 20, enrolled: 8, pending: 2, not_started: 10, locked: 2, disabled: 0 })) {
      expect(metrics).toContain(`famos_rollout_users{state="${state}"} ${value}`);
    }
    expect(metrics).toContain('famos_rollout_partner_users{partner="1001",state="pending"} 2');
    expect(metrics).toContain('famos_rollout_partner_users{partner="1002",state="locked"} 1');
  });

  it("counts disabled accounts (issue 11) within their partner's figures", async () => {
    const one = await t.deps.db.selectFrom("users").select("id").where("partner_number", "=", "1003").executeTakeFirstOrThrow();
    await t.deps.db.updateTable("users").set({ disabled_at: t.clock.now() }).where("id", "=", one.id).execute();
    const progress = await rolloutProgress(t.deps);
    expect(progress.overall.disabled).toBe(1);
    expect(progress.partners.find((p) => p.partnerNumber === "1003")).toMatchObject({ users: 5, notStarted: 5, disabled: 1 });
    await t.deps.db.updateTable("users").set({ disabled_at: null }).where("id", "=", one.id).execute();
  });

  it("lets support read the plan and only an administrator change it", async () => {
    const page = await client.get("/support/rollout");
    expect(page.body).toContain("Only an administrator can change the plan.");
    const refused = await client.post("/support/rollout/plan", { partner: "1003", from: "2027-01-11T07:00" });
    expect(refused.statusCode).toBe(403);
  });
});

describe.each(DIALECTS)("the plan form's warnings (%s)", (dialect) => {
  // The test clock reads 2026-11-28 14:00 UTC (Europe/London: 14:00).
  let t: TestApp;
  let client: FormClient;
  beforeAll(async () => {
    t = await createTestApp({ database: dialect });
    await addUser(t.deps, { partnerNumber: "04711" });
    const admin = await addUser(t.deps, { role: "admin", loginId: "it.admin", partnerNumber: "04711" });
    client = new FormClient(t.app);
    await signInFully(client, t.smtp, admin);
    await client.get("/support/rollout");
  });
  afterAll(async () => t.close());

  /** Plans a start and returns the page the form leads to. */
  async function said(partner: string, from: string): Promise<string> {
    const posted = await client.post("/support/rollout/plan", { partner, from });
    expect(posted.statusCode, `${partner} ${from}`).toBe(303);
    return (await client.get(posted.headers.location!)).body;
  }

  it("a partner number no user has is saved, and the page says that no user has it (4711 is not 04711); a number users have, or the default start, gets no such word", async () => {
    const typo = await said("4711", "2027-01-11T07:00");
    expect(typo).toContain("The start was saved, but no user has that partner number yet");
    expect(typo).toContain("Partner 4711");
    for (const partner of ["04711", ""]) {
      const page = await said(partner, "2027-01-11T07:00");
      expect(page, partner).toContain("The start was saved.");
      expect(page, partner).not.toContain("no user has that partner number");
    }
  });

  it("a start in the past is saved, and the page says it applies from these users' next sign-in; a start to come gets no such word", async () => {
    for (const partner of ["04711", ""]) {
      const past = await said(partner, "2026-11-28T13:59");
      expect(past, partner).toContain("The start was saved, but it is in the past: two-factor sign-in applies from these users&#39; next sign-in.");
      const wave = (await readPlan(t.deps.db)).waves.find((w) => w.partnerNumber === (partner === "" ? null : partner));
      expect(wave?.startsAt, partner).toBe(Date.UTC(2026, 10, 28, 13, 59));
      const later = await said(partner, "2026-11-28T14:30");
      expect(later, partner).toContain("The start was saved.");
      expect(later, partner).not.toContain("in the past");
    }
  });
});
