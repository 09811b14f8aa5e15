/**
 * parse5, and the css-select / fb55 DOM packages that linkedom's CommonJS build requires, ship ES
 * modules only. Node >= 20.19 loads them (require of ESM); Jest before Node 24.9 cannot, so Jest
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
  'parse5',
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
