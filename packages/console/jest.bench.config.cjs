// `npm run bench`: measurements in a real browser (not part of `npm test`).
module.exports = {
  preset: '../../jest.preset.js',
  displayName: 'console-bench',
  globalSetup: '<rootDir>/tests/global-setup.cjs',
  testMatch: ['<rootDir>/bench/*.bench.ts'],
  maxWorkers: 1,
};
