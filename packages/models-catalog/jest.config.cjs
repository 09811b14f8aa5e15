module.exports = { preset: '../../jest.preset.js', displayName: 'models-catalog' };
