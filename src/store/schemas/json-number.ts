import * as v from 'valibot';

/** A number as it comes back from JSON: NaN and ±Infinity were written as null, and read back as NaN. */
export const jsonNumber = v.pipe(
  v.nullable(v.number()),
  v.transform((x): number => x ?? Number.NaN),
);
