/**
 * Test helper: runs a capture file through what a user runs (openCaptureFile → Engine with every decoder
 * and the given application analyzers) and keeps what the app tests look at: the records, the services
 * the analyzers confirmed (in order, with the flow id: the engine itself keeps only the last per flow),
 * how many flows each registration's probe claimed, and the engine's weirds.
 */
import { CaptureFileError, openCaptureFile } from '../../../capture/capture-file.js';
import { defaultProtocols } from '../../../decode/protocols/index.js';
import type { WeirdCounter } from '../../../decode/weirds.js';
import { Engine } from '../../engine.js';
import { connIdOf } from '../../flows/conn-record.js';
import type { ConnId, LoopyRecord } from '../../records.js';
import { defaultApps } from '../index.js';
import type { AnalyzerContext, AppRegistration } from '../types.js';

export class CaptureRun {
  readonly engine: Engine;
  readonly records: LoopyRecord[] = [];
  /** Every confirmService call: [flow id, service]. */
  readonly services: Array<[number, string]> = [];
  /** Flows each registration's probe claimed, by registration name. */
  readonly probeClaims = new Map<string, number>();
  /** Set when the file is damaged part-way (what came before the damage was still run). */
  damage: CaptureFileError | undefined;

  constructor(apps: readonly AppRegistration[] = defaultApps) {
    this.engine = new Engine({ protocols: defaultProtocols, apps: apps.map((a) => this.spyOn(a)) });
    this.engine.observe({ onRecord: (r) => this.records.push(r) });
  }

  get weirds(): WeirdCounter {
    return this.engine.weirds;
  }

  /** uid and endpoints of a live flow (inside analyzer hooks such as the DNS onMessage). */
  connOf(flowId: number): ConnId {
    return connIdOf(this.engine.connections, this.engine.connections.table.flowOf(flowId));
  }

  /** Records of one type. */
  recordsOf<T extends LoopyRecord>(type: string): T[] {
    return this.records.filter((r) => r.type === type) as T[];
  }

  async read(path: string): Promise<this> {
    try {
      for await (const batch of openCaptureFile(path)) this.engine.processBatch(batch);
    } catch (err) {
      if (!(err instanceof CaptureFileError)) throw err;
      this.damage = err;
    }
    this.engine.finish();
    return this;
  }

  /** The same registration, with its probe counted and its context's confirmService recorded. */
  private spyOn(app: AppRegistration): AppRegistration {
    const probe = app.probe;
    return {
      ...app,
      probe:
        probe &&
        ((data, offset, length, transport) => {
          const yes = probe(data, offset, length, transport);
          if (yes) this.probeClaims.set(app.name, (this.probeClaims.get(app.name) ?? 0) + 1);
          return yes;
        }),
      create: (ctx: AnalyzerContext) =>
        app.create({
          emit: (record) => ctx.emit(record),
          connId: (flowId) => ctx.connId(flowId),
          confirmService: (flowId, service) => {
            this.services.push([flowId, service]);
            ctx.confirmService(flowId, service);
          },
          limitIdle: (flowId, seconds) => ctx.limitIdle(flowId, seconds),
          weirds: ctx.weirds,
          release: (flowId) => ctx.release(flowId),
          joinedMidStream: (flowId, fromOrig) => ctx.joinedMidStream(flowId, fromOrig),
        }),
    };
  }
}

/** Runs one capture file through the engine (every default analyzer unless `apps` says otherwise). */
export function runCapture(path: string, apps?: readonly AppRegistration[]): Promise<CaptureRun> {
  return new CaptureRun(apps).read(path);
}
