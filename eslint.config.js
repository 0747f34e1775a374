// Lints the generator and, through templates/service/eslint.config.js (ESLint looks up the config
// nearest to each file), the generated service's code exactly as a generated project lints it.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'example/', 'scratch/', 'demo/', '.tools/', 'templates/service/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    // Each config anchors typescript-eslint at its own folder (the repo holds two tsconfig roots).
    languageOptions: { parserOptions: { tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Mocha loads reporters with require(), so the summary reporter is CommonJS.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
