/**
 * What every benchmark in src/bench/ provides. A benchmark runs its contenders one after another on the
 * same input and reports each one's cost plus ratios and targets; run.ts prints them all alike.
 */

export interface BenchOptions {
  /** Size of generated input, where the benchmark generates one. */
  packets: number;
  seed: number;
  /** Run only these contenders (by tool name), or all when null. */
  only: readonly string[] | null;
  /** Progress lines (to stderr, so --json output stays clean). */
  log: (line: string) => void;
}

export type ToolStatus = 'ok' | 'failed' | 'not installed' | 'skipped';

export interface ToolResult {
  tool: string;
  /** The command as a user would type it (FILE for the input). */
  command: string;
  status: ToolStatus;
  wallSeconds?: number;
  /** Input packets divided by wall time: the whole process, start-up included. */
  packetsPerSecond?: number;
  peakRssBytes?: number | null;
  /** Why it failed or was not run. */
  detail?: string;
}

export interface Ratio {
  label: string;
  /** null when one side did not run. */
  value: number | null;
}

export interface Target {
  description: string;
  /** null when it could not be judged (the tool did not run). */
  met: boolean | null;
  actual: string;
}

export interface BenchResult {
  name: string;
  title: string;
  /** One line about the input (file, packets, size). */
  input: string;
  results: ToolResult[];
  ratios: Ratio[];
  targets: Target[];
  /** A table of where a contender's time went (label, value), printed after the targets. */
  breakdown?: { title: string; rows: Array<[string, string]> };
}

export interface Benchmark {
  /** Short id for --bench. */
  name: string;
  title: string;
  run(options: BenchOptions): Promise<BenchResult>;
}
