// `npm run lint`: typescript-eslint's recommended rules on every layer, and functions small enough to
// hold in one's head where the platform's rules and resources live. Import direction and cycles are
// dependency-cruiser's (.dependency-cruiser.cjs); dead exports and files are knip's (knip.json).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "out/**", "node_modules/**", "test/fixtures/**", "docs/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
    },
  },
  {
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } },
  },
  {
    files: ["model/**/*.ts", "tiers/**/*.ts", "spec/**/*.ts", "components/**/*.ts", "program/**/*.ts"],
    rules: {
      "max-lines-per-function": ["error", { max: 120, skipBlankLines: false, skipComments: false, IIFEs: true }],
    },
  },
);
