/**
 * "Chrome on Windows": enough of a User-Agent for a person to recognise their own browser in the
 * code email (or to see that it was not theirs). Order matters: Edge and Opera also say Chrome,
 * Chrome also says Safari.
 */
const BROWSERS: [RegExp, string][] = [
  [/Edg(e|A|iOS)?\//, "Edge"],
  [/OPR\/|Opera/, "Opera"],
  [/SamsungBrowser\//, "Samsung Internet"],
  [/Firefox\/|FxiOS\//, "Firefox"],
  [/Chrome\/|CriOS\/|Chromium\//, "Chrome"],
  [/Safari\//, "Safari"],
];
const SYSTEMS: [RegExp, string][] = [
  [/Windows/, "Windows"],
  [/iPhone|iPad|iPod/, "iOS"],
  [/Android/, "Android"],
  [/CrOS/, "ChromeOS"],
  [/Mac OS X|Macintosh/, "macOS"],
  [/Linux/, "Linux"],
];

/** The browser and system a User-Agent names, when it names them. */
export function browserParts(userAgent: string): { browser: string | undefined; system: string | undefined } {
  return { browser: BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1], system: SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1] };
}

/** "Chrome on Windows", in words given by the caller (the reader's language); English by default. */
export function describeBrowser(
  userAgent: string,
  words: { on: (browser: string, system: string) => string; unknown: string } = { on: (b, s) => `${b} on ${s}`, unknown: "an unrecognised browser or program" },
): string {
  const { browser, system } = browserParts(userAgent);
  if (browser && system) return words.on(browser, system);
  if (browser ?? system) return (browser ?? system)!;
  return words.unknown;
}
