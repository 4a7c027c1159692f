import { z } from 'zod';
import { SET_TYPES } from '../model/catalogue.js';

/**
 * A set type as a config key takes it (`select.types`, the Kafka sink's topics): one of the catalogue's
 * `SET_TYPES`, so a new type reaches every schema at once.
 *
 * @example
 * z.array(setTypeSchema).parse(['pod', 'node']) // ['pod', 'node']
 */
export const setTypeSchema = z.enum(SET_TYPES);
