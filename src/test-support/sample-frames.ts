/**
 * Frames made by the project's own generator, for tests that must run without the shared corpus
 * (a user's clone): every decoder the generator exercises, with known ground truth.
 */
import { PassThrough } from 'node:stream';
import { META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE } from '../capture/batch.js';
import { openCaptureFile } from '../capture/capture-file.js';
import { generateCapture, type GenerateOptions, type GroundTruth } from '../synth/generate.js';

export interface SampleFrame {
  bytes: Buffer;
  linkType: number;
}

/** A generated capture in memory, with its ground truth. */
export async function generatedCapture(options: GenerateOptions): Promise<{ bytes: Buffer; truth: GroundTruth }> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  const truth = await generateCapture(options, sink);
  sink.end();
  return { bytes: Buffer.concat(chunks), truth };
}

export async function sampleFrames(packets = 5000): Promise<SampleFrame[]> {
  const { bytes } = await generatedCapture({ seed: 7, packets, incidents: ['port_scan', 'dns_tunnel'], vlan: 12 });
  const input = new PassThrough();
  input.end(bytes);
  const frames: SampleFrame[] = [];
  for await (const batch of openCaptureFile('-', { input })) {
    for (let i = 0; i < batch.count; i++) {
      const m = i * META_STRIDE;
      const start = batch.meta[m + META_OFFSET];
      frames.push({ bytes: Buffer.from(batch.data.subarray(start, start + batch.meta[m + META_CAPLEN])), linkType: batch.linkTypes[batch.meta[m + META_IFACE]] });
    }
  }
  return frames;
}
