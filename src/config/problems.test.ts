import { describe, expect, it } from 'vitest';
import { formatPath, formatProblem, formatProblems } from './problems.js';

describe('problem formatting', () => {
  it('writes key paths the way users read them', () => {
    expect(formatPath(['processors', 2, 'levels', 0])).toBe('processors[2].levels[0]');
    expect(formatPath(['sinks', 'lake', 'buffer'])).toBe('sinks.lake.buffer');
    expect(formatPath(['sinks', 'a.b'])).toBe('sinks["a.b"]');
    expect(formatPath([])).toBe('');
  });

  it('formats file:line:col path: message, leaving out an empty path', () => {
    expect(
      formatProblem('p.yaml', { line: 13, col: 5, path: ['sinks', 'x', 'databse'], message: 'unknown key' }),
    ).toBe('p.yaml:13:5 sinks.x.databse: unknown key');
    expect(formatProblem('p.yaml', { line: 1, col: 1, path: [], message: 'empty' })).toBe('p.yaml:1:1 empty');
  });

  it('sorts by line then column and drops exact duplicates', () => {
    const problem = (line: number, col: number, message: string) => ({ line, col, path: ['k'], message });
    expect(
      formatProblems('f', [problem(9, 1, 'c'), problem(2, 7, 'b'), problem(2, 3, 'a'), problem(9, 1, 'c')]),
    ).toEqual(['f:2:3 k: a', 'f:2:7 k: b', 'f:9:1 k: c']);
  });
});
