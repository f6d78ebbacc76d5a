/** A record's fields, one per line, for the Enter detail of the list views. */
import { Box, Text } from 'ink';
import { fit } from '../format.js';

export function RecordDetail({ title, record, width, height }: { title: string; record: object; width: number; height: number }) {
  const entries = Object.entries(record).filter(([, v]) => v !== undefined);
  const keyWidth = Math.min(16, Math.max(...entries.map(([k]) => k.length)));
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate">{title}  (Esc back)</Text>
      {entries.slice(0, Math.max(1, height - 1)).map(([k, v]) => (
        <Text key={k} wrap="truncate">
          {fit(k, keyWidth)} {typeof v === 'object' ? JSON.stringify(v) : String(v)}
        </Text>
      ))}
    </Box>
  );
}
