// What every settings parser shares: the problems collected for one report, and comma lists.
/** Why a variable is wrong; collected so every problem is reported at once. */
export class Problems {
  readonly list: string[] = [];
  add(name: string, message: string): void {
    this.list.push(`${name}: ${message}`);
  }
}

/** A comma list with surrounding spaces and empty items dropped. */
export function list(raw: string | undefined): string[] {
  return (raw ?? "").split(",").map((item) => item.trim()).filter((item) => item.length > 0);
}
