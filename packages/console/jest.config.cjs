module.exports = {
  preset: '../../jest.preset.js',
  displayName: 'console',
  globalSetup: '<rootDir>/tests/global-setup.cjs',
  // One browser and one stack at a time: the machine is shared.
  maxWorkers: 1,
};
