module.exports = { preset: '../../jest.preset.js', displayName: 'context-compaction' };
