/** Runs the whole engine over a capture file and collects its records, as `loopy read --json` would. */
import { Engine, type EngineOptions } from '../analyze/engine.js';
import { defaultApps } from '../analyze/apps/index.js';
import type { LoopyRecord, SummaryRecord } from '../analyze/records.js';
import { CaptureFileError, openCaptureFile } from '../capture/capture-file.js';
import { defaultProtocols } from '../decode/protocols/index.js';

export interface EngineRun {
  records: LoopyRecord[];
  summary: SummaryRecord;
  error?: CaptureFileError;
}

export async function runEngineOnFile(path: string, options: Partial<EngineOptions> = {}): Promise<EngineRun> {
  const records: LoopyRecord[] = [];
  const engine = new Engine({ protocols: defaultProtocols, apps: defaultApps, onRecord: (r) => records.push(r), ...options });
  let error: CaptureFileError | undefined;
  try {
    for await (const batch of openCaptureFile(path)) engine.processBatch(batch);
  } catch (err) {
    if (!(err instanceof CaptureFileError)) throw err;
    error = err;
  }
  const summary = engine.finish();
  return { records, summary, error };
}
