/**
 * Closed flows and DNS transactions packed into columns on their way to the store: one Float64Array per number
 * (NaN where a record has none), ids into a per-batch table for hosts and for short repeated strings (labels),
 * and each record's own strings (uid, community_id) joined into one string. The builders run on the capture
 * thread for every record, so they must cost next to nothing a record and keep no record object alive; the
 * batch they hand over is transferred to the store's worker, never copied. Nothing here touches SQLite.
 *
 * A conn record the columns cannot hold whole (a field they do not know, a required one missing) still gets
 * its key columns (time, hosts, ports, protocol: what queries filter on) and travels as JSON beside them.
 */
import { CONN_NUMBERS, connKeyTexts, connProtoName, formatAddress, type ConnView } from '../analyze/flows/conn-record.js';
import type { ConnId, ConnRecord, DnsRecord, ProcessRecord } from '../analyze/records.js';
import { dnsFlags, dnsShape } from './dns-columns.js';

export type RecordKind = 'conn' | 'dns';

/** Columns every kind has, first and in this order: what a query filters on. `proto` is a protoCode(). */
export const KEY_NUMBERS = ['ts', 'orig_p', 'resp_p', 'proto'] as const;
export const KEY_COUNT = KEY_NUMBERS.length;

/** Protocols as numbers: the index here (0: anything else, which only a JSON record can carry). */
export const PROTO_NAMES = ['', 'tcp', 'udp', 'icmp'] as const;

export function protoCode(proto: string): number {
  return proto === 'tcp' ? 1 : proto === 'udp' ? 2 : proto === 'icmp' ? 3 : 0;
}

export interface KindColumns {
  /** Number columns after the keys. */
  numbers: readonly string[];
  /**
   * Columns of repeated short strings, as ids into the batch's label table: the first `storedFirst` where
   * segments have always held them, the rest added since and stored after every older section (a segment
   * written before has none: absent).
   */
  labels: readonly string[];
  storedFirst: number;
  /** Per-record strings, joined. */
  texts: readonly string[];
}

export const COLUMNS: Readonly<Record<RecordKind, KindColumns>> = {
  conn: {
    numbers: CONN_NUMBERS,
    // A process is its record's JSON: a label, since a busy process owns many flows of a batch.
    labels: ['service', 'conn_state', 'history', 'orig_process', 'resp_process'],
    storedFirst: 3,
    texts: ['uid', 'community_id'],
  },
  // Parts of a transaction may be absent (dns-columns.ts): NaN, label 0, '' stand for them.
  dns: {
    numbers: ['trans_id', 'rtt', 'qclass', 'qtype', 'rcode', 'Z', 'flags'],
    labels: ['query', 'qclass_name', 'qtype_name', 'rcode_name'],
    storedFirst: 4,
    texts: ['uid', 'answers', 'TTLs'],
  },
};

/** What crosses to the worker: plain data and typed arrays (their buffers are transferred). */
export interface RecordBatch {
  kind: RecordKind;
  rows: number;
  /** KEY_NUMBERS then COLUMNS[kind].numbers; each at least `rows` long. */
  numbers: Float64Array[];
  /** COLUMNS[kind].labels, ids into labelTable (0: absent). */
  labels: Uint32Array[];
  labelTable: string[];
  origHost: Uint32Array;
  respHost: Uint32Array;
  hostTable: string[];
  /** COLUMNS[kind].texts of every row, row after row, joined. */
  text: string;
  /** UTF-16 length of each of them (rows × texts). */
  textLengths: Uint32Array;
  /** Rows kept as JSON (ascending) and their JSON. */
  fallbackRows: number[];
  fallbackJson: string[];
  /**
   * Conn rows packed from the flow table (ConnBatchBuilder.addFlow) still lack their host ids and texts:
   * `completeFlowRows` makes them from these, on the store's thread. Absent once complete.
   */
  flowKeys?: FlowKeyColumns;
}

/** The key of each flow row: IP version (0: the row came from a record and is complete), address words, serial. */
export interface FlowKeyColumns {
  versions: Uint8Array;
  /** Originator's four words then the responder's, 8 per row. */
  addresses: Uint32Array;
  serials: Float64Array;
  protos: Uint8Array;
}

const FIRST_CAPACITY = 1024;
/** Bytes for the records' strings a builder starts with (it doubles them as needed, and keeps them). */
const FIRST_TEXT_BYTES = 64 * 1024;
/** Past this, the bytes go with their batch (a second of 300 kpps needs about 1 MB). */
const MAX_KEPT_TEXT_BYTES = 2 * 1024 * 1024;

/** Characters of strings and JSON a batch holds at most (32 MB): a record with a huge field cannot grow it without end. */
export const MAX_BATCH_TEXT = 16 * 1024 * 1024;

/** The machinery both builders share: growing columns, the host and label tables, the joined strings. */
abstract class BatchBuilder {
  rows = 0;
  protected numbers: Float64Array[];
  protected labels: Uint32Array[];
  protected origHost: Uint32Array;
  protected respHost: Uint32Array;
  protected textLengths: Uint32Array;
  /**
   * The records' own strings so far, as UTF-8 bytes, decoded into the batch's one string when it is taken. Not
   * a rope: a rope keeps every string (and a node for each) alive until the batch's second is up, so each was
   * copied by a scavenge or two; as bytes they die with their record. Reused from batch to batch.
   */
  private textBytes = Buffer.allocUnsafe(FIRST_TEXT_BYTES);
  private textUsed = 0;
  /** Characters in text and the kept JSON. */
  protected textChars = 0;
  private hostIds = new Map<string, number>();
  private hostTable: string[] = [];
  private labelIds = new Map<string, number>();
  private labelTable: string[] = [''];
  private fallbackRows: number[] = [];
  private fallbackJson: string[] = [];
  private capacity = FIRST_CAPACITY;

  constructor(
    readonly kind: RecordKind,
    /** Rows a batch may hold; add() refuses beyond (the caller counts what it drops). */
    private readonly maxRows: number,
  ) {
    const c = COLUMNS[kind];
    this.numbers = Array.from({ length: KEY_COUNT + c.numbers.length }, () => new Float64Array(this.capacity));
    this.labels = c.labels.map(() => new Uint32Array(this.capacity));
    this.origHost = new Uint32Array(this.capacity);
    this.respHost = new Uint32Array(this.capacity);
    this.textLengths = new Uint32Array(this.capacity * c.texts.length);
  }

  /** The batch so far (undefined when empty); the builder starts afresh. */
  take(): RecordBatch | undefined {
    if (this.rows === 0) return undefined;
    const batch: RecordBatch = {
      kind: this.kind, rows: this.rows, numbers: this.numbers, labels: this.labels, labelTable: this.labelTable,
      origHost: this.origHost, respHost: this.respHost, hostTable: this.hostTable, text: this.textBytes.toString('utf8', 0, this.textUsed),
      textLengths: this.textLengths, fallbackRows: this.fallbackRows, fallbackJson: this.fallbackJson,
    };
    this.addColumns(batch);
    // Room for a like batch and a quarter more: buffers are allocated (zeroed) anew for every batch.
    this.reset(Math.min(this.maxRows, Math.max(FIRST_CAPACITY, Math.ceil(this.rows * 1.25))));
    return batch;
  }

  /** Columns a kind adds to the batch it hands over. */
  protected addColumns(_batch: RecordBatch): void {}

  /** A kind's own columns at a new capacity: `keep` with the rows so far, else fresh. */
  protected sizeColumns(_capacity: number, _keep: boolean): void {}

  /** Room for one more row: false when the batch is at its limit (rows, or characters). */
  protected room(): boolean {
    if (this.textChars >= MAX_BATCH_TEXT) return false;
    if (this.rows < this.capacity) return true;
    if (this.capacity >= this.maxRows) return false;
    this.resize(Math.min(this.maxRows, this.capacity * 2));
    return true;
  }

  /**
   * A new row with the key columns every kind has (time, hosts, ports, protocol); its index, or -1 when the
   * batch is full (nothing kept).
   */
  protected addKeys(rec: ConnId & { ts: number }): number {
    const r = this.addNumberKeys(rec.ts, rec['id.orig_p'], rec['id.resp_p'], protoCode(rec.proto));
    if (r < 0) return -1;
    this.origHost[r] = this.hostId(rec['id.orig_h']);
    this.respHost[r] = this.hostId(rec['id.resp_h']);
    return r;
  }

  /** A new row with its number keys only (hosts to come); -1 when the batch is full. */
  protected addNumberKeys(ts: number, origPort: number, respPort: number, proto: number): number {
    if (!this.room()) return -1;
    const r = this.rows++;
    const n = this.numbers;
    n[0][r] = ts;
    n[1][r] = origPort;
    n[2][r] = respPort;
    n[3][r] = proto;
    return r;
  }

  protected hostId(host: string): number {
    let id = this.hostIds.get(host);
    if (id === undefined) {
      id = this.hostTable.push(host) - 1;
      this.hostIds.set(host, id);
    }
    return id;
  }

  protected labelId(label: string | undefined): number {
    if (label === undefined) return 0;
    let id = this.labelIds.get(label);
    if (id === undefined) {
      id = this.labelTable.push(label) - 1;
      this.labelIds.set(label, id);
    }
    return id;
  }

  protected keepJson(row: number, record: object): void {
    const json = JSON.stringify(record);
    this.fallbackRows.push(row);
    this.fallbackJson.push(json);
    this.textChars += json.length;
  }

  protected keepText(row: number, texts: number, index: number, text: string): void {
    // Three bytes a UTF-16 unit at most (a surrogate pair: four bytes for two units).
    if (this.textBytes.length - this.textUsed < 3 * text.length) this.growText(3 * text.length);
    this.textUsed += this.textBytes.write(text, this.textUsed, 'utf8');
    this.textLengths[row * texts + index] = text.length;
    this.textChars += text.length;
  }

  private reset(capacity: number): void {
    const c = COLUMNS[this.kind];
    this.rows = 0;
    this.capacity = capacity;
    this.numbers = this.numbers.map(() => new Float64Array(capacity));
    this.labels = this.labels.map(() => new Uint32Array(capacity));
    this.origHost = new Uint32Array(capacity);
    this.respHost = new Uint32Array(capacity);
    this.textLengths = new Uint32Array(capacity * c.texts.length);
    this.textUsed = 0;
    // A burst's batch grew it: give that back rather than keep it for the process's life.
    if (this.textBytes.length > MAX_KEPT_TEXT_BYTES) this.textBytes = Buffer.allocUnsafe(FIRST_TEXT_BYTES);
    this.textChars = 0;
    this.hostIds = new Map();
    this.hostTable = [];
    this.labelIds = new Map();
    this.labelTable = [''];
    this.fallbackRows = [];
    this.fallbackJson = [];
    this.sizeColumns(capacity, false);
  }

  private growText(more: number): void {
    const grown = Buffer.allocUnsafe(Math.max(2 * this.textBytes.length, this.textUsed + more));
    this.textBytes.copy(grown, 0, 0, this.textUsed);
    this.textBytes = grown;
  }

  private resize(capacity: number): void {
    const grow = <T extends Float64Array | Uint32Array>(old: T, make: (n: number) => T, per = 1): T => {
      const next = make(capacity * per);
      next.set(old);
      return next;
    };
    this.numbers = this.numbers.map((col) => grow(col, (n) => new Float64Array(n)));
    this.labels = this.labels.map((col) => grow(col, (n) => new Uint32Array(n)));
    this.origHost = grow(this.origHost, (n) => new Uint32Array(n));
    this.respHost = grow(this.respHost, (n) => new Uint32Array(n));
    this.textLengths = grow(this.textLengths, (n) => new Uint32Array(n), COLUMNS[this.kind].texts.length);
    this.capacity = capacity;
    this.sizeColumns(capacity, true);
  }
}

const REQUIRED_CONN_FIELDS = 23;

/** True when the columns hold the record whole: the engine's fields and no other (cheap: no lookups by name). */
function connFits(c: ConnRecord): boolean {
  let keys = 0;
  for (const _ in c) keys++;
  const optional = +('service' in c) + +('vlan' in c) + +('inner_vlan' in c) + +('rtt' in c) + +('orig_process' in c) + +('resp_process' in c);
  if (keys !== REQUIRED_CONN_FIELDS + optional) return false;
  // Same count: an unknown field would leave a required one out.
  return c.type === 'conn' && c._path === 'conn' && c.ts !== undefined && c.uid !== undefined && c['id.orig_h'] !== undefined && c['id.orig_p'] !== undefined &&
    c['id.resp_h'] !== undefined && c['id.resp_p'] !== undefined && c.proto !== undefined && c.community_id !== undefined &&
    c.duration !== undefined && c.orig_bytes !== undefined && c.resp_bytes !== undefined && c.conn_state !== undefined &&
    c.history !== undefined && c.orig_pkts !== undefined && c.orig_ip_bytes !== undefined && c.resp_pkts !== undefined &&
    c.resp_ip_bytes !== undefined && c.orig_retrans !== undefined && c.resp_retrans !== undefined && c.orig_ooo !== undefined &&
    c.resp_ooo !== undefined && protoCode(c.proto) !== 0;
}

const orNaN = (x: number | undefined): number => (x === undefined ? NaN : x);

/** Each process's JSON, made once: the attribution hands the same record for every flow of a process. */
const processJson = new WeakMap<ProcessRecord, string>();

function processLabel(p: ProcessRecord | undefined): string | undefined {
  if (p === undefined) return undefined;
  let json = processJson.get(p);
  if (json === undefined) {
    json = JSON.stringify(p);
    processJson.set(p, json);
  }
  return json;
}

/** Scratch for one flow's numbers (CONN_NUMBERS), reused. */
const flowNumbers = new Float64Array(CONN_NUMBERS.length);

export class ConnBatchBuilder extends BatchBuilder {
  private keys: FlowKeyColumns;
  private flowRows = 0;

  constructor(maxRows: number) {
    super('conn', maxRows);
    this.keys = flowKeyColumns(FIRST_CAPACITY);
  }

  /**
   * Packs a closed flow from the flow table: numbers and labels now, its key's words for the store's thread to
   * make the host names, uid and community_id from (completeFlowRows). No object, no per-flow string but the
   * history. False (nothing kept) when the batch is full.
   */
  addFlow(conn: ConnView): boolean {
    const proto = conn.proto;
    const r = this.addNumberKeys(conn.ts, conn.origPort, conn.respPort, protoCode(connProtoName(proto)));
    if (r < 0) return false;
    conn.numbers(flowNumbers);
    const n = this.numbers;
    for (let i = 0; i < flowNumbers.length; i++) n[KEY_COUNT + i][r] = flowNumbers[i];
    const history = conn.history();
    this.labels[0][r] = this.labelId(conn.service);
    this.labels[1][r] = this.labelId(conn.connState());
    this.labels[2][r] = this.labelId(history);
    const owners = conn.owners();
    this.labels[3][r] = this.labelId(processLabel(owners?.orig));
    this.labels[4][r] = this.labelId(processLabel(owners?.resp));
    const k = this.keys;
    k.versions[r] = conn.version;
    k.protos[r] = proto;
    k.serials[r] = conn.serial;
    conn.addresses(k.addresses, r * 8);
    this.flowRows++;
    return true;
  }

  protected override addColumns(batch: RecordBatch): void {
    if (this.flowRows > 0) batch.flowKeys = this.keys;
  }

  protected override sizeColumns(capacity: number, keep: boolean): void {
    const next = flowKeyColumns(capacity);
    if (keep) {
      next.versions.set(this.keys.versions);
      next.addresses.set(this.keys.addresses);
      next.serials.set(this.keys.serials);
      next.protos.set(this.keys.protos);
    } else {
      this.flowRows = 0;
    }
    this.keys = next;
  }

  /** Packs one record; false (nothing kept) when the batch is full. */
  add(c: ConnRecord): boolean {
    const r = this.addKeys(c);
    if (r < 0) return false;
    const n = this.numbers;
    n[4][r] = c.duration;
    n[5][r] = c.orig_bytes;
    n[6][r] = c.resp_bytes;
    n[7][r] = c.orig_pkts;
    n[8][r] = c.orig_ip_bytes;
    n[9][r] = c.resp_pkts;
    n[10][r] = c.resp_ip_bytes;
    n[11][r] = c.orig_retrans;
    n[12][r] = c.resp_retrans;
    n[13][r] = c.orig_ooo;
    n[14][r] = c.resp_ooo;
    n[15][r] = orNaN(c.vlan);
    n[16][r] = orNaN(c.inner_vlan);
    n[17][r] = orNaN(c.rtt);
    this.labels[0][r] = this.labelId(c.service);
    this.labels[1][r] = this.labelId(c.conn_state);
    this.labels[2][r] = this.labelId(c.history);
    this.labels[3][r] = this.labelId(processLabel(c.orig_process));
    this.labels[4][r] = this.labelId(processLabel(c.resp_process));
    if (connFits(c)) {
      this.keepText(r, 2, 0, c.uid);
      this.keepText(r, 2, 1, c.community_id);
    } else {
      this.keepJson(r, c);
    }
    return true;
  }
}

export class DnsBatchBuilder extends BatchBuilder {
  constructor(maxRows: number) {
    super('dns', maxRows);
  }

  /** Packs one record; false (nothing kept) when the batch is full. */
  add(d: DnsRecord): boolean {
    const r = this.addKeys(d);
    if (r < 0) return false;
    const n = this.numbers;
    if (n[3][r] === 0 || dnsShape(d) < 0) {
      this.keepJson(r, d);
      return true;
    }
    n[4][r] = d.trans_id;
    n[5][r] = orNaN(d.rtt);
    n[6][r] = orNaN(d.qclass);
    n[7][r] = orNaN(d.qtype);
    n[8][r] = orNaN(d.rcode);
    n[9][r] = d.Z;
    n[10][r] = dnsFlags(d);
    this.labels[0][r] = this.labelId(d.query);
    this.labels[1][r] = this.labelId(d.qclass_name);
    this.labels[2][r] = this.labelId(d.qtype_name);
    this.labels[3][r] = this.labelId(d.rcode_name);
    this.keepText(r, 3, 0, d.uid);
    this.keepText(r, 3, 1, d.answers === undefined ? '' : JSON.stringify(d.answers));
    this.keepText(r, 3, 2, d.TTLs === undefined ? '' : JSON.stringify(d.TTLs));
    return true;
  }
}

/** The buffers of a batch, to transfer rather than copy. */
export function batchBuffers(batch: RecordBatch): ArrayBuffer[] {
  const arrays: ArrayBufferView[] = [...batch.numbers, ...batch.labels, batch.origHost, batch.respHost, batch.textLengths];
  const k = batch.flowKeys;
  if (k) arrays.push(k.versions, k.addresses, k.serials, k.protos);
  return arrays.map((a) => a.buffer as ArrayBuffer);
}

function flowKeyColumns(capacity: number): FlowKeyColumns {
  return { versions: new Uint8Array(capacity), addresses: new Uint32Array(capacity * 8), serials: new Float64Array(capacity), protos: new Uint8Array(capacity) };
}

/**
 * Gives the flow rows of a conn batch their host ids and texts (uid, community_id), as `add` would have from
 * the record: the string-making that ConnBatchBuilder.addFlow leaves to the store's thread. Other batches
 * come back as they are.
 */
export function completeFlowRows(batch: RecordBatch): RecordBatch {
  const k = batch.flowKeys;
  if (k === undefined) return batch;
  const hostTable = batch.hostTable.slice();
  const hostIds = new Map<string, number>(hostTable.map((h, i) => [h, i]));
  const hostId = (host: string): number => {
    let id = hostIds.get(host);
    if (id === undefined) {
      id = hostTable.push(host) - 1;
      hostIds.set(host, id);
    }
    return id;
  };
  // A batch names a few hosts many times over: an IPv4 host's text is made once, found by its word after.
  const v4HostIds = new Map<number, number>();
  const hostIdAt = (version: number, at: number): number => {
    if (version === 6) return hostId(formatAddress(6, k.addresses, at));
    const word = k.addresses[at] | 0;
    let id = v4HostIds.get(word);
    if (id === undefined) {
      id = hostId(formatAddress(4, k.addresses, at));
      v4HostIds.set(word, id);
    }
    return id;
  };
  const per = COLUMNS.conn.texts.length;
  const textLengths = batch.textLengths.slice();
  const parts: string[] = [];
  let at = 0;
  for (let r = 0; r < batch.rows; r++) {
    if (k.versions[r] === 0) {
      for (let t = 0; t < per; t++) {
        const len = batch.textLengths[r * per + t];
        parts.push(batch.text.slice(at, at + len));
        at += len;
      }
      continue;
    }
    const version = k.versions[r];
    const texts = connKeyTexts(k.protos[r], version, k.addresses, r * 8, batch.numbers[1][r], batch.numbers[2][r], k.serials[r]);
    batch.origHost[r] = hostIdAt(version, r * 8);
    batch.respHost[r] = hostIdAt(version, r * 8 + 4);
    parts.push(texts.uid, texts.communityId);
    textLengths[r * per] = texts.uid.length;
    textLengths[r * per + 1] = texts.communityId.length;
  }
  const { flowKeys: _, ...rest } = batch;
  return { ...rest, hostTable, textLengths, text: parts.join('') };
}
