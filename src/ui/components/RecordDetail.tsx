/** A record's fields, one per line, for the Enter detail of the list views. */
import { Box, Text } from 'ink';
import type { ProcessRecord } from '../../analyze/records.js';
import { describeProcess, fit } from '../format.js';
import { utcDateText } from '../../analyze/time-text.js';

/**
 * A field as text: times with their UTC date (Zeek's microseconds, no float noise from a replay's shift), a
 * process with its facts in words.
 */
function fieldText(key: string, v: unknown): string {
  if ((key === 'orig_process' || key === 'resp_process') && v !== null && typeof v === 'object') return describeProcess(v as ProcessRecord);
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v !== 'number' || Number.isInteger(v)) return String(v);
  const text = String(Number(v.toFixed(6)));
  const date = key === 'ts' ? utcDateText(v) : undefined;
  return date === undefined ? text : `${text}  (${date})`;
}

export function RecordDetail({ title, record, width, height }: { title: string; record: object; width: number; height: number }) {
  const entries = Object.entries(record).filter(([, v]) => v !== undefined);
  const keyWidth = Math.min(16, Math.max(...entries.map(([k]) => k.length)));
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate">{title}  (Esc back)</Text>
      {entries.slice(0, Math.max(1, height - 1)).map(([k, v]) => (
        <Text key={k} wrap="truncate">
          {fit(k, keyWidth)} {fieldText(k, v)}
        </Text>
      ))}
    </Box>
  );
}
