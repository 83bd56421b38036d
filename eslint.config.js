import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'docs/**', 'node_modules/**', 'bench/.tmp/**', 'coverage/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        window: 'readonly', document: 'readonly', navigator: 'readonly', location: 'readonly',
        console: 'readonly', process: 'readonly', globalThis: 'readonly', setTimeout: 'readonly',
        clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly',
        Blob: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', performance: 'readonly',
        WebSocket: 'readonly', Event: 'readonly', MessageEvent: 'readonly', CloseEvent: 'readonly',
        EventTarget: 'readonly', ResilientWS: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly',
        Buffer: 'readonly', AbortController: 'readonly', fetch: 'readonly', btoa: 'readonly', atob: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  {
    files: ['test/**/*.ts', 'bench/**', 'demo/**', 'scripts/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
