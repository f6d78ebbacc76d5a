/**
 * The error codes of the agent protocol (docs/protocol.md, "Errors"). JSON-RPC 2.0's own codes for
 * malformed input, and Loopy's in the range JSON-RPC reserves for implementations (-32000 to -32099).
 * Codes are stable: clients and scripts branch on them, never on the message text.
 */
export const ErrorCode = {
  /** The line is not JSON. The connection stays open. */
  PARSE_ERROR: -32700,
  /** JSON, but not a JSON-RPC 2.0 request object (batches included: they are not supported). */
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  /** The params do not match the method's schema; `data.issues` says where. */
  INVALID_PARAMS: -32602,
  /** The agent failed while answering (a bug or an I/O error); the connection stays open. */
  INTERNAL_ERROR: -32603,

  /** No protocol version in common (hello). The agent closes the connection after the reply. */
  UNSUPPORTED_VERSION: -32000,
  /** Missing or wrong token (hello on TLS). Closed after the reply; repeated failures are answered slower. */
  UNAUTHORIZED: -32001,
  /** A method other than hello before the hello exchange, or a second hello. */
  HELLO_REQUIRED: -32002,
  /** A line longer than the frame limit. Closed after the reply. */
  FRAME_TOO_LARGE: -32003,
  /** This agent does not offer it (no history store: started without --data; no detection: alerts.*). */
  UNAVAILABLE: -32004,
  /** alerts.ack of an alert id the agent does not know. */
  NOT_FOUND: -32005,
  /** The agent is stopping, or at its client limit. Closed after the reply. */
  SHUTTING_DOWN: -32006,
  /** The client's role may not do this: alerts.ack and alerts.suppress need the operator role. */
  FORBIDDEN: -32007,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Thrown by a method handler to answer with a protocol error (the server turns it into the reply). */
export class ProtocolError extends Error {
  constructor(
    readonly rpcCode: ErrorCodeValue,
    message: string,
    readonly data?: unknown,
    /** Close the connection once the reply is written. */
    readonly close = false,
  ) {
    super(message);
  }
}
