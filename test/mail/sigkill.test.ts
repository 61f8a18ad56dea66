import { describe, expect, it } from "vitest";
import { enqueueMail } from "../../src/mail/outbox.ts";
import { cryptoRandom } from "../../src/platform/random.ts";
import { openStore } from "../../src/store/database.ts";
import { migrateToLatest } from "../../src/store/migrate.ts";
import { productionEnv, startServer, type ServerProcess } from "../support/server-process.ts";
import { startSmtpServer } from "../support/smtp.ts";
import { until } from "../support/until.ts";
import { migratedTestDatabase } from "../store/dialects.ts";

const MESSAGES = 20;

describe("a sender killed with SIGKILL while sending", () => {
  it("loses no message: a second process delivers them all, any duplicate with the same Message-ID", async () => {
    const smtp = await startSmtpServer();
    const database = await migratedTestDatabase("postgres", "sigkill");
    const store = openStore(database.url);
    const servers: ServerProcess[] = [];
    try {
      await migrateToLatest(store);
      const ids = new Set<string>();
      for (let i = 0; i < MESSAGES; i += 1) {
        await enqueueMail(store.db, Date.now(), cryptoRandom, "famos.test", {
          userId: null,
          kind: "test",
          recipient: `r${i}@dealer.example`,
          subject: `message ${i}`,
          text: "t",
          html: "<p>h</p>",
        });
      }
      for (const row of await store.db.selectFrom("outbox").select("message_id").execute()) ids.add(row.message_id);

      // The SMTP server stores each message, then holds its "250 OK": the sender is killed while it
      // waits. Held until released, not for a time: on a loaded machine the kill can come seconds late.
      smtp.delayData(Infinity);
      const env = productionEnv({ FAMOS_DATABASE_URL: database.url, FAMOS_SMTP_URL: smtp.url });
      const first = await startServer(env);
      servers.push(first);
      await smtp.waitForMessage(() => true, 15_000);
      expect(await first.stop("SIGKILL")).toEqual({ code: null, signal: "SIGKILL" });
      const received = smtp.messages.length;
      expect(received).toBeGreaterThan(0);
      const stranded = await store.db.selectFrom("outbox").select("id").where("state", "=", "sending").execute();
      expect(stranded.length).toBeGreaterThanOrEqual(received);

      // The dead sender's lease (60 s) runs out; moved back here rather than waited for.
      await store.db.updateTable("outbox").set({ lease_until: Date.now() - 1 }).where("state", "=", "sending").execute();
      smtp.delayData(0);
      servers.push(await startServer(env));
      await until(
        "every message to be sent",
        async () => (await store.db.selectFrom("outbox").select("id").where("state", "!=", "sent").execute()).length === 0,
        20_000,
        50,
      );

      const messageIds = smtp.messages.map((m) => m.messageId);
      expect(new Set(messageIds)).toEqual(ids);
      // The messages that arrived before the kill but were never acknowledged came again, unchanged.
      expect(messageIds.length).toBeGreaterThan(MESSAGES);
      expect(messageIds.length).toBeLessThanOrEqual(MESSAGES + stranded.length);
      for (const mail of smtp.messages) {
        const twin = smtp.messages.filter((m) => m.messageId === mail.messageId);
        expect(new Set(twin.map((m) => `${m.subject}|${m.envelopeTo.join()}`)).size).toBe(1);
      }
    } finally {
      for (const server of servers) await server.stop("SIGKILL");
      await store.close();
      await smtp.stop();
      await database.drop();
    }
    // Two real server processes start one after the other: generous on a loaded 2-core machine.
  }, 90_000);
});
