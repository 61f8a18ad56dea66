import { accessSync, constants, existsSync, statSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname, resolve } from "node:path";

/** The file a `sqlite:<path>` FAMOS_DATABASE_URL names, or null for another database. */
export function sqliteFilePath(databaseUrl: string): string | null {
  return databaseUrl.startsWith("sqlite:") ? databaseUrl.slice("sqlite:".length) : null;
}

/**
 * Why this process cannot use the SQLite database at `path`, in words an operator acts on, or null.
 * SQLite reads and writes the file and, in WAL mode, its -wal and -shm files beside it, which it makes
 * in the directory when they are not there. The commonest fault of a container or service install is a
 * file or directory that another user made (root, an image's build step) for the service account that
 * runs famos, or a read-only mount; SQLite itself says only "unable to open database file" or "attempt
 * to write a readonly database", and opens a file it may only read without a word, to fail at the first
 * write. What the process may do is asked of the system (access(2)), so root, ACLs and read-only mounts
 * count as they will for SQLite.
 */
export function sqliteAccessProblem(path: string): string | null {
  if (path === ":memory:" || path === "") return null;
  const file = resolve(path);
  const directory = dirname(file);
  if (!isDirectory(directory)) return missingDirectoryProblem(directory);
  const files = [file, `${file}-wal`, `${file}-shm`];
  if (!files.every((each) => existsSync(each))) {
    const refused = refusal(directory, constants.W_OK | constants.X_OK);
    if (refused) return cannot(refused, "write in", directory, "the directory and the database's files in it");
  }
  for (const each of files) {
    const refused = existsSync(each) ? refusal(each, constants.R_OK | constants.W_OK) : null;
    if (refused) return cannot(refused, "read and write", each, "the file");
  }
  return null;
}

/**
 * A directory that does not exist yet: opening makes it, unless this user may not write in the
 * nearest folder that does exist (famos migrate's mkdir would fail there, and famos doctor would
 * otherwise tell the operator to run it). A file where a folder should be is left to the open's own error.
 */
function missingDirectoryProblem(directory: string): string | null {
  let existing = dirname(directory);
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (!isDirectory(existing)) return null;
  const refused = refusal(existing, constants.W_OK | constants.X_OK);
  return refused ? cannot(refused, "write in", existing, `the directory (or a new ${directory} made in it)`) : null;
}

/**
 * Why the file at `path` cannot be FAMOS's database though it is there, or null: it is empty (0 bytes)
 * with no write-ahead log beside it. SQLite takes such a file for a new database and would make one
 * in it without a word, where it is almost always a copy or restore that did not finish, and the
 * operator means the backup. Asked when the database is opened (every command, famos serve) and by
 * famos doctor; famos migrate makes a new database only where there is no file.
 */
export function emptyDatabaseProblem(path: string): string | null {
  if (path === ":memory:" || path === "") return null;
  const file = resolve(path);
  if (sizeOf(file) !== 0 || (sizeOf(`${file}-wal`) ?? 0) > 0) return null;
  return `${file} is empty (0 bytes), so it holds no FAMOS database: a copy or restore that did not finish leaves such a file. Restore the database from its backup; to start a new database instead, delete the empty file (famos migrate makes one)`;
}

function sizeOf(path: string): number | null {
  try {
    const stat = statSync(path);
    return stat.isFile() ? stat.size : null;
  } catch {
    return null;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Why access(2) refuses `mode` on `path` (its error code), or null. */
function refusal(path: string, mode: number): string | null {
  try {
    accessSync(path, mode);
    return null;
  } catch (error) {
    return String((error as NodeJS.ErrnoException).code ?? "EACCES");
  }
}

function cannot(code: string, what: string, path: string, them: string): string {
  if (code === "EROFS") return `${path} is on a read-only file system: set FAMOS_DATABASE_URL to a file on a volume famos may write`;
  return `this process (${processUser()}) may not ${what} ${path} (${owner(path)}): give ${them} to the user that runs famos, or set FAMOS_DATABASE_URL to a place that user may write`;
}

function processUser(): string {
  const uid = process.getuid?.();
  try {
    return `user ${userInfo().username}${uid === undefined ? "" : `, uid ${uid}`}`;
  } catch {
    // No passwd entry (containers started with an arbitrary uid).
    return uid === undefined ? "this user" : `uid ${uid}`;
  }
}

function owner(path: string): string {
  try {
    const stat = statSync(path);
    return `owner uid ${stat.uid}, mode ${(stat.mode & 0o777).toString(8).padStart(3, "0")}`;
  } catch {
    return "not readable";
  }
}
