/**
 * The seam through which conn records learn which local processes own a flow's ends: the engine asks once,
 * when the flow's record is due, never per packet. Implemented beside the engine by src/host/ (the agent);
 * `loopy read` has none, so records from files never carry processes.
 */
import type { ProcessRecord } from '../records.js';

/** The owners of a flow's two ends; a field is absent when that end is not a socket known on this host. */
export interface FlowOwners {
  orig?: ProcessRecord;
  resp?: ProcessRecord;
}

export interface FlowOwnerLookup {
  /**
   * Owners of the flow whose originator is `orig`:`origPort` and responder `resp`:`respPort` (address words as
   * the flow table holds them: IPv4 in word 0). Undefined when neither end is known. Must not keep the arrays.
   */
  ownersOf(version: number, proto: number, orig: Uint32Array, origPort: number, resp: Uint32Array, respPort: number): FlowOwners | undefined;
}
