/** Runs the whole pipeline over a capture file and collects its records, as `loopy read --json --no-detect` would. */
import { Pipeline, type PipelineOptions } from '../analyze/pipeline.js';
import type { LoopyRecord, SummaryRecord } from '../analyze/records.js';
import { CaptureFileError, openCaptureFile } from '../capture/capture-file.js';

export interface EngineRun {
  records: LoopyRecord[];
  summary: SummaryRecord;
  error?: CaptureFileError;
}

export async function runEngineOnFile(path: string, options: PipelineOptions = {}): Promise<EngineRun> {
  const records: LoopyRecord[] = [];
  const pipeline = new Pipeline(options).observe({ onRecord: (r) => records.push(r) });
  let error: CaptureFileError | undefined;
  try {
    await pipeline.run(openCaptureFile(path));
  } catch (err) {
    if (!(err instanceof CaptureFileError)) throw err;
    error = err;
  }
  const summary = pipeline.finish();
  return { records, summary, error };
}
