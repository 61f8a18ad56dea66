import { readFileSync } from "node:fs";
import { fileVariants, isKnownName, nearestSetting } from "./known-settings.ts";
import { readSettingsFile } from "./settings-file.ts";

type Env = Record<string, string | undefined>;

/** Where a setting's value came from, as `famos config` shows it: "environment", "file famos.toml", "FAMOS_SECRET_FILE /run/secrets/s". */
export type SettingSource = string;

export interface UnknownSetting {
  name: string;
  /** The known name it probably meant, if any is close. */
  suggestion: string | null;
  from: string;
}

export interface ResolvedSettings {
  /** The environment for loadConfig: the file's settings, then the process environment's over them. */
  env: Env;
  sources: Map<string, SettingSource>;
  unknown: UnknownSetting[];
  /** Unreadable files, a setting given both directly and as _FILE: reported with the settings' problems. */
  problems: string[];
  /** Settings named as a file that could not be used (FAMOS_SECRET for FAMOS_SECRET_FILE): `problems` says why. */
  unusableFiles: Set<string>;
}

/**
 * Every problem of the settings, for the one report each command prints: the sources' (`resolved`)
 * and the parser's (`errors`, loadConfig's). A setting whose file could not be read is not also
 * reported missing ("is required in production"): the file's fault is the one to fix.
 */
export function settingsProblems(resolved: ResolvedSettings, errors: readonly string[]): string[] {
  const unusable = [...resolved.unusableFiles];
  return [...resolved.problems, ...errors.filter((error) => !unusable.some((setting) => error.startsWith(`${setting}: is required`)))];
}

/**
 * Gathers the settings from their sources, lowest first: the settings file (`--config` or
 * FAMOS_CONFIG), then the environment. In each, a secret-bearing setting may instead name a file that
 * holds it (`FAMOS_SECRET_FILE=/run/secrets/famos_secret`, Docker and Kubernetes secrets).
 */
export function resolveSettings(processEnv: Env, configFile?: string): ResolvedSettings {
  const problems: string[] = [];
  const unknown: UnknownSetting[] = [];
  const sources = new Map<string, SettingSource>();
  const unusableFiles = new Set<string>();
  const env: Env = { ...processEnv };
  const layers: Array<{ label: string; values: Map<string, string> }> = [];

  const filePath = configFile ?? blankToUndefined(processEnv.FAMOS_CONFIG);
  if (filePath !== undefined) {
    const file = readSettingsFile(filePath);
    if (file.ok) layers.push({ label: `file ${filePath}`, values: file.values });
    else problems.push(`FAMOS_CONFIG: ${file.error}`);
  }
  const environment = new Map<string, string>();
  // A blank variable counts as unset, as it does for loadConfig.
  for (const [name, value] of Object.entries(processEnv)) if (name.startsWith("FAMOS_") && value?.trim()) environment.set(name, value);
  layers.push({ label: "environment", values: environment });

  for (const layer of layers) {
    for (const [name, value] of layer.values) {
      if (!isKnownName(name)) {
        unknown.push({ name, suggestion: nearestSetting(name), from: layer.label });
        continue;
      }
      if (fileVariants().includes(name)) {
        const setting = name.slice(0, -5);
        if (layer.values.has(setting)) {
          problems.push(`${name}: ${setting} is set as well (${layer.label}); set one of them`);
          continue;
        }
        const secret = readSecretFile(name, value, problems);
        if (secret === null) {
          unusableFiles.add(setting);
          continue;
        }
        env[setting] = secret;
        sources.set(setting, `${name} ${value}`);
        continue;
      }
      env[name] = value;
      sources.set(name, layer.label);
    }
  }
  return { env, sources, unknown, problems, unusableFiles };
}

/** The line that reports an unknown setting, with the name it probably meant. */
export function describeUnknown(setting: UnknownSetting): string {
  const hint = setting.suggestion ? ` (did you mean ${setting.suggestion}?)` : "";
  return `${setting.name} is not a FAMOS setting${hint}; it is ignored [${setting.from}]`;
}

function readSecretFile(name: string, path: string, problems: string[]): string | null {
  try {
    // Secret files usually end with a newline (echo, editors): it is not part of the secret.
    const value = readFileSync(path, "utf8").replace(/\r?\n$/, "");
    // A blank value counts as unset (loadConfig): development would make a secret up, production ask
    // for one it was given, so the file is named instead.
    if (value.trim() === "") {
      problems.push(`${name}: ${path} is empty: put ${name.slice(0, -5)}'s value in it`);
      return null;
    }
    return value;
  } catch (error) {
    problems.push(`${name}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    return null;
  }
}

function blankToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}
