// cli-progress, loaded lazily by progress.ts: a module of ours that imports it statically, as esbuild
// gives a bundled CommonJS package imported dynamically only its default export.
export { Presets, SingleBar } from "cli-progress";
