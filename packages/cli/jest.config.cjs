// The acceptance tests start a whole harness (a dozen processes) per file: one file at a time.
module.exports = { preset: '../../jest.preset.js', displayName: 'cli', maxWorkers: 1 };
