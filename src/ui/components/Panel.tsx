/**
 * A titled list of "name … value" lines in a fixed width and number of lines: the small panels of the DNS
 * view and the Overview. Names are cut (in terminal cells), values never.
 */
import { Box, Text } from 'ink';
import { fit } from '../format.js';
import { type Theme, type Tone, tone } from '../theme.js';

export interface PanelLine {
  name: string;
  value: string;
  tone?: Tone;
}

export function Panel({ title, lines, width, height, theme, empty = '-' }: { title: string; lines: readonly PanelLine[]; width: number; height?: number; theme?: Theme; empty?: string }) {
  const shown = height === undefined ? lines : lines.slice(0, Math.max(0, height - 1));
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate">{fit(title, width)}</Text>
      {shown.length === 0 ? <Text wrap="truncate">{fit(empty, width)}</Text> : null}
      {shown.map((l, i) => (
        <Text key={i} wrap="truncate" {...(l.tone && theme ? tone(theme, l.tone) : {})}>
          {fit(l.name, width - l.value.length - 1)} {l.value}
        </Text>
      ))}
    </Box>
  );
}
