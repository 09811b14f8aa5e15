module.exports = { preset: '../../jest.preset.js', displayName: 'llm-budget' };
