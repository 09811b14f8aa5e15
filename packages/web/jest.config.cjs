/**
 * linkedom's CommonJS build requires css-select and the fb55 DOM packages, which ship ES modules
 * only. Node >= 20.19 loads them (require of ESM); Jest before Node 24.9 cannot, so Jest
 * transpiles just those packages to CommonJS.
 */
const esmOnly = [
  'css-select',
  'css-what',
  'nth-check',
  'boolbase',
  'domhandler',
  'domutils',
  'dom-serializer',
  'domelementtype',
  'entities',
  'cssomnom',
];

module.exports = {
  preset: '../../jest.preset.js',
  displayName: 'web',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: { module: 'commonjs', moduleResolution: 'bundler' } }],
    '^.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', moduleResolution: 'bundler', rootDir: '../..' } },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
};
