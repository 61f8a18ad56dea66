import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "data/", "scratch/", "bench/results/", "coverage/", ".build/", "dist/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-control-regex": "off",
    },
  },
  {
    files: ["bin/**/*.js", "scripts/**/*.js", "**/*.mjs"],
    languageOptions: { globals: { process: "readonly", URL: "readonly", setInterval: "readonly", clearInterval: "readonly" } },
  },
);
