module.exports = { preset: '../../jest.preset.js', displayName: 'turn-orchestrator' };
