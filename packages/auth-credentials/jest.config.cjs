module.exports = { preset: '../../jest.preset.js', displayName: 'auth-credentials' };
