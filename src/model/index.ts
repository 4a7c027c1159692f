export * from './catalogue.js';
export * from './keys.js';
export * from './labels.js';
export * from './types.js';
export * from './count.js';
export * from './copy.js';
export * from './owned.js';
export * from './set-values.js';
