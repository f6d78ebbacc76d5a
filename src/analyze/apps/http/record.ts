/** The http record (Zeek http.log names, plus missed_bytes). */
import type { ConnId } from '../../records.js';

/** A type alias of mapped/literal types (not an interface) so that it fits LoopyRecord's open record shape. */
export type HttpRecord = Pick<ConnId, keyof ConnId> & {
  type: 'http';
  _path: 'http';
  /** Time of the request (of the response when no request was seen). */
  ts: number;
  /** 1 for the connection's first transaction, 2 for the next... */
  trans_depth: number;
  method?: string;
  host?: string;
  uri?: string;
  version?: string;
  user_agent?: string;
  /** Body bytes (after de-chunking) as Zeek counts them. */
  request_body_len: number;
  response_body_len: number;
  status_code?: number;
  status_msg?: string;
  /**
   * Body bytes (both ways) lost in capture gaps, counted in the body lengths as Zeek counts them; absent
   * when none. (Like conn.log's missed_bytes, for this transaction.)
   */
  missed_bytes?: number;
};
