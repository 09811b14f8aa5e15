module.exports = { preset: '../../jest.preset.js', displayName: 'provider-kit' };
