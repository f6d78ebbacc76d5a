/**
 * Corpus files (tshark status ok) where Loopy's conversations differ from tshark's on purpose, with why.
 * The golden test fails when a listed file starts to match, so this list stays true.
 */
export const KNOWN_CONVERSATION_DIFFERENCES: Record<string, string> = {};
