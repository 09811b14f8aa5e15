module.exports = {
  preset: '../../jest.preset.js',
  displayName: 'testing',
  globalSetup: '<rootDir>/tests/global-setup.cjs',
};
