// `npm run screenshots`: regenerates docs/*.png from a real stack (not part of `npm test`).
module.exports = {
  preset: '../../jest.preset.js',
  displayName: 'console-docs',
  globalSetup: '<rootDir>/tests/global-setup.cjs',
  testMatch: ['<rootDir>/tests/docs/*.shots.ts'],
  maxWorkers: 1,
};
