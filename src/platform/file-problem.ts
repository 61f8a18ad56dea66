/**
 * Why a file an operator named could not be read, in words, with the system's code for searching:
 * "there is no such file (ENOENT)" rather than a bare ENOENT.
 */
const WORDS: Record<string, string> = {
  ENOENT: "there is no such file",
  EISDIR: "it is a directory, not a file",
  ENOTDIR: "a part of its path is not a directory",
  EACCES: "permission denied: this account may not read it",
  EPERM: "permission denied: this account may not read it",
  ENAMETOOLONG: "its name is too long",
  ELOOP: "its symbolic links go round in a loop",
};

export function fileProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && WORDS[code]) return `${WORDS[code]} (${code})`;
  return code ?? (error instanceof Error ? error.message : String(error));
}
