// ESLint flat config. Why these tools: typescript-eslint is the standard linter for TypeScript and
// the only one with type-aware rules (a floating or misused promise can lose a payment's outcome or
// acknowledge what is not yet on disk); Prettier is the standard formatter, so the style needs no
// rules here (eslint-config-prettier is not needed: no stylistic rules are enabled).
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

/** Type-aware rules that guard the money path, for every file in the type-aware program. */
const promiseRules = {
  "@typescript-eslint/no-floating-promises": "error",
  "@typescript-eslint/no-misused-promises": "error",
  "@typescript-eslint/await-thenable": "error",
  "@typescript-eslint/only-throw-error": "error",
  // an error passed through untyped (a callback's err) is allowed; a string or an object literal is not
  "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingAny: true, allowThrowingUnknown: true }],
  "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
};

export default tseslint.config(
  {
    ignores: ["node_modules/", "dist/", "nodes/", "test/compat/.cache/", "test/compat/*.ts", "test/compat/*.mjs", ".userdir/", "artifacts/", "bench-results/"],
  },
  {
    languageOptions: {
      parserOptions: { project: "./tsconfig.eslint.json", tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
  {
    files: ["src/**/*.ts"],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    rules: {
      ...promiseRules,
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "separate-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true, caughtErrors: "none" }],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    extends: [js.configs.recommended],
    plugins: { "@typescript-eslint": tseslint.plugin },
    languageOptions: {
      parser: tseslint.parser,
      sourceType: "commonjs",
      globals: { ...globals.node },
    },
    rules: {
      ...promiseRules,
      "no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true, caughtErrors: "none" }],
      // `const WebSocket = require("ws")` is module-scoped in CommonJS, not a redeclared global
      "no-redeclare": ["error", { builtinGlobals: false }],
    },
  },
  { files: ["**/*.mjs"], languageOptions: { sourceType: "module" } },
  {
    files: ["test/**/*.js"],
    languageOptions: { globals: { ...globals.mocha } },
  },
  {
    // Editor and browser code that runs in the page (passed to page.evaluate) sees browser globals.
    files: ["test/browser/**/*.js"],
    languageOptions: { globals: { ...globals.browser, RED: "readonly" } },
  },
);
