module.exports = { preset: '../../jest.preset.js', displayName: 'approval-gate' };
