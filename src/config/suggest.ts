/**
 * Edit distance (optimal string alignment: insertions, deletions, substitutions and adjacent transpositions),
 * so that `databse` and `tpye` are both one step from what the user meant.
 *
 * @example
 * editDistance('databse', 'database') // 1
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (d[(i - 1) * cols + j] as number) + 1,
        (d[i * cols + j - 1] as number) + 1,
        (d[(i - 1) * cols + j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (d[(i - 2) * cols + j - 2] as number) + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1] as number;
}

/**
 * The candidate closest to `input`, if it is close enough to be a plausible typo (about a third of its length).
 *
 * @example
 * closestMatch('databse', ['database', 'url']) // 'database'
 */
export function closestMatch(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lowered = input.toLowerCase();
  for (const candidate of candidates) {
    // The edit distance is at least the difference in length: a candidate that differs by more than the limit
    // cannot match, and skipping it keeps a huge value (a 1 MB `type:`) from costing length × length work.
    if (Math.abs(input.length - candidate.length) > typoLimit(input, candidate)) continue;
    // Case slips (`Database`) count as one edit rather than one per letter.
    const distance =
      candidate.toLowerCase() === lowered && candidate !== input ? 1 : editDistance(input, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  return bestDistance <= typoLimit(input, best) ? best : undefined;
}

/** How many edits still make a plausible typo: about a third of the longer word. */
function typoLimit(input: string, candidate: string): number {
  return Math.max(1, Math.floor(Math.max(input.length, candidate.length) / 3));
}

/**
 * ` (did you mean "x"?)` when a close candidate exists, else an empty string: ready to append to a message.
 *
 * @example
 * `unknown key${didYouMean('databse', ['database'])}` // 'unknown key (did you mean "database"?)'
 */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const match = closestMatch(input, candidates);
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}
