/**
 * Colour or not. Colour only ever adds emphasis: every state is also spelled out in text or a symbol, so a
 * monochrome terminal (or NO_COLOR, https://no-color.org) loses nothing.
 */
export interface Theme {
  color: boolean;
}

type Env = Record<string, string | undefined>;

/** NO_COLOR (any non-empty value) and TERM=dumb turn colour off; FORCE_COLOR=0 too. */
export function detectTheme(env: Env, stdout: { isTTY?: boolean; hasColors?: () => boolean }): Theme {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return { color: false };
  if (env.FORCE_COLOR === '0') return { color: false };
  if (env.TERM === 'dumb') return { color: false };
  if (typeof stdout.hasColors === 'function') return { color: stdout.hasColors() };
  return { color: stdout.isTTY === true };
}

export type Tone = 'good' | 'bad' | 'warn' | 'dim' | 'accent' | 'in' | 'out';

const COLORS: Record<Tone, string> = { good: 'green', bad: 'red', warn: 'yellow', dim: 'gray', accent: 'cyan', in: 'green', out: 'blue' };

/** Ink <Text> props for a tone: a colour with colour on, nothing (or dim/bold for emphasis) without. */
export function tone(theme: Theme, t: Tone): { color?: string; dimColor?: boolean; bold?: boolean } {
  if (theme.color) return t === 'dim' ? { dimColor: true } : { color: COLORS[t] };
  if (t === 'bad') return { bold: true };
  return {};
}
