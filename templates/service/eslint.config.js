// ESLint with typescript-eslint's recommended rules; `npm run lint` runs it and Prettier's check.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig({ ignores: ['dist/', 'node_modules/', 'model_bin/'] }, js.configs.recommended, tseslint.configs.recommended, {
  // Each config anchors typescript-eslint at its own folder (the repo holds two tsconfig roots).
  languageOptions: { parserOptions: { tsconfigRootDir: import.meta.dirname } },
  rules: {
    // `_name` marks a value destructured away on purpose (e.g. the target column).
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
  },
});
