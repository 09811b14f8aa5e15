/**
 * The one Jest config every package extends (CommonJS because Jest loads it with require).
 * Sources are ESM (NodeNext); ts-jest transpiles them to CommonJS so Jest needs no VM-modules flag.
 * Type errors are the `typecheck` target's job, not the test run's.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/tests/**/*.test.ts', '<rootDir>/src/**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: { module: 'commonjs', moduleResolution: 'bundler' } }],
  },
  // NodeNext sources import siblings as './x.js'; map back to the .ts file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // Workspace packages resolve to their TypeScript source: no build before test.
  testEnvironmentOptions: { customExportConditions: ['@iii-harness/source', 'node', 'require', 'default'] },
  setupFiles: [`${__dirname}/jest.setup.js`],
  clearMocks: true,
};
