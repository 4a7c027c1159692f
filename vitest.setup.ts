import { expect } from 'vitest';
import { setValuesEquality } from './src/testing/set-values-equality.js';

// Sets' values are SetValues (slots, not properties): compare them by content in every test.
expect.addEqualityTesters([setValuesEquality]);
