// The server's SQLite checkpoints (checkpoints.ts, issue 17), on a thread of their own: every
// `intervalMs` this thread copies the pages committed to the write-ahead log into the database file
// (a PASSIVE checkpoint: it never waits for, nor holds up, the server's readers and writer) and
// reports what it did. Plain JavaScript, so the same file runs under the tests' TypeScript loader and
// beside the compiled build (scripts/build.js copies it).
//
// Its own connection's synchronous setting governs the checkpoint: NORMAL, as the server's, which in
// WAL mode syncs the log before the copy and the database file after it. A checkpoint that fails (a
// full disk: the database file cannot grow for the new pages) is reported, the server's connection
// takes the checkpoints meanwhile, and this thread tries again at its next turn, so they come back here
// once the disk has room (checkpoints.ts). Any other failure ends the thread for good.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

// At the server's own priority, not the password hashes' lower one: the copy takes little CPU, and
// while this thread copies, the server's connection cannot checkpoint past the log's bound.
const db = new Database(workerData.path, { fileMustExist: true, timeout: 1000 });
db.pragma("synchronous = NORMAL");
// This connection never writes; should it ever, it must not checkpoint on the server's schedule.
db.pragma("wal_autocheckpoint = 0");

/**
 * A checkpoint copies the log as it was when it began; a commit made meanwhile leaves frames behind,
 * and the server's writer can start the log again from its start only once every frame is copied.
 * So a checkpoint that left some is followed at once by another of just those (a few pages: quick),
 * a few times, which under any load with pauses between commits ends with the log complete.
 */
const CATCH_UP_ROUNDS = 4;

/** `asked`: a checkpoint the server asked for (checkpointNow), whose answer it waits for. */
function checkpoint(asked = false) {
  let result;
  try {
    for (let round = 0; round <= CATCH_UP_ROUNDS; round += 1) {
      [result] = db.pragma("wal_checkpoint(PASSIVE)");
      if (result.busy !== 0 || result.checkpointed >= result.log) break;
    }
  } catch (error) {
    parentPort.postMessage({ failed: { message: error.message, code: error.code }, asked });
    return;
  }
  // busy: another checkpoint ran at the time; log: frames in the log; checkpointed: frames now copied.
  parentPort.postMessage({ busy: result.busy, log: result.log, checkpointed: result.checkpointed, asked });
}

const timer = setInterval(() => checkpoint(), workerData.intervalMs);
parentPort.on("message", (message) => {
  if (message === "checkpoint") checkpoint(true);
  if (message === "stop") {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
parentPort.postMessage({ ready: true });
