/**
 * The peer: better-auth 1.x configured as a production sign-in with an emailed second factor, as close
 * to the product as better-auth allows —
 *  - email + password, passwords hashed and verified with @node-rs/argon2 at the product's argon2id
 *    parameters (19 MiB, t=2, p=1) instead of better-auth's default scrypt;
 *  - the twoFactor plugin with `otpOptions.sendOTP` mailing the 6-digit code through nodemailer (a pooled
 *    SMTP transport) to the bench's SMTP sink; TOTP disabled;
 *  - SQLite through better-sqlite3 in WAL mode (synchronous=NORMAL, the usual WAL setting);
 *  - rate limits off and telemetry off (the bench signs the same few hundred users in many times from one
 *    address; nothing may leave 127.0.0.1).
 */
import { hash, verify } from "@node-rs/argon2";
import { betterAuth } from "better-auth";
import { twoFactor } from "better-auth/plugins/two-factor";
import Database from "better-sqlite3";
import nodemailer from "nodemailer";
import { ARGON2_PARAMS } from "../../lib/measure.ts";

export interface PeerConfig {
  dbPath: string;
  baseURL: string;
  secret: string;
  smtpPort: number;
}

export function openDatabase(dbPath: string): Database.Database {
  const db = new Database(dbPath);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  return db;
}

export function createPeerAuth(config: PeerConfig, db: Database.Database = openDatabase(config.dbPath)) {
  const mailer = nodemailer.createTransport({
    host: "127.0.0.1",
    port: config.smtpPort,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: 8,
    maxMessages: Number.POSITIVE_INFINITY,
  });
  const auth = betterAuth({
    appName: "Peer",
    baseURL: config.baseURL,
    secret: config.secret,
    database: db,
    telemetry: { enabled: false },
    rateLimit: { enabled: false },
    logger: { level: "error" },
    emailAndPassword: {
      enabled: true,
      password: {
        hash: (password) => hash(password, ARGON2_PARAMS),
        verify: ({ hash: phc, password }) => verify(phc, password),
      },
    },
    plugins: [
      twoFactor({
        issuer: "Peer",
        totpOptions: { disable: true },
        otpOptions: {
          period: 15, // minutes, as the product's default
          async sendOTP({ user, otp }) {
            await mailer.sendMail({
              from: "Peer <no-reply@bench.test>",
              to: user.email,
              subject: "Your one time passcode",
              text: `Your one time passcode is ${otp}. It is valid for 15 minutes.\n\nIf you did not try to sign in, tell your IT support.`,
            });
          },
        },
      }),
    ],
  });
  return { auth, db, mailer };
}
