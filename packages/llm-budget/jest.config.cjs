module.exports = {
  preset: '../../jest.preset.js',
  displayName: 'llm-budget',
  globalSetup: '<rootDir>/tests/global-setup.cjs',
};
