/**
 * Evidence files in a directory: `<alert_id>.pcap`, created private (0600 in a 0700 directory) because
 * packets are traffic contents. The directory is made on the first write, not before an alert needs it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { EvidenceSink } from './evidence-recorder.js';

export function directoryEvidenceSink(dir: string): EvidenceSink {
  const root = resolve(dir);
  let made: Promise<unknown> | undefined;
  return {
    pathFor: (alertId) => join(root, `${alertId}.pcap`),
    async write(path, pcap) {
      made ??= mkdir(root, { recursive: true, mode: 0o700 });
      await made;
      await writeFile(path, pcap, { mode: 0o600 });
    },
  };
}
