module.exports = {
  preset: '../../jest.preset.js',
  displayName: 'context-compaction',
  globalSetup: '<rootDir>/tests/global-setup.cjs',
};
